"""Independent float64 reference for tf.keras 2 (OptimizerV2) optimizers and
learning-rate schedules, written from the Keras sources
(keras/optimizers/optimizer_v2/*.py, keras/optimizers/schedules/
learning_rate_schedule.py) and the TensorFlow training kernels they call
(ResourceApplyAdam, ResourceApplyKerasMomentum, ResourceApplyRMSProp, ...).

Reads JSON on stdin:
  {"optimizers": [{"class_name", "config", "params": [flat lists],
                   "grads": [[flat list per param] per step]}],
   "schedules": [{"class_name", "config", "steps": [ints]}]}
Writes JSON on stdout:
  {"optimizers": [{"params": [[flat list per param] per step],
                   "weights": [flat lists in get_weights() order]}],
   "schedules": [[values]]}
"""
import json
import math
import sys

import numpy as np


def schedule(spec):
    name, c = spec["class_name"], spec["config"]
    if name == "ExponentialDecay":
        def f(step):
            p = step / c["decay_steps"]
            if c.get("staircase", False):
                p = math.floor(p)
            return c["initial_learning_rate"] * math.pow(c["decay_rate"], p)
    elif name == "InverseTimeDecay":
        def f(step):
            p = step / c["decay_steps"]
            if c.get("staircase", False):
                p = math.floor(p)
            return c["initial_learning_rate"] / (1.0 + c["decay_rate"] * p)
    elif name == "PiecewiseConstantDecay":
        def f(step):
            b, v = c["boundaries"], c["values"]
            if step <= b[0]:
                return v[0]
            if step > b[-1]:
                return v[-1]
            for low, high, value in zip(b[:-1], b[1:], v[1:-1]):
                if low < step <= high:
                    return value
            raise AssertionError("unreachable")
    elif name == "PolynomialDecay":
        def f(step):
            init, steps = c["initial_learning_rate"], float(c["decay_steps"])
            end, power = c.get("end_learning_rate", 0.0001), c.get("power", 1.0)
            s = float(step)
            if c.get("cycle", False):
                mult = 1.0 if s == 0 else math.ceil(s / c["decay_steps"])
                steps = steps * mult
            else:
                s = min(s, steps)
            return (init - end) * math.pow(1 - s / steps, power) + end
    elif name == "CosineDecay":
        def f(step):
            steps = float(c["decay_steps"])
            alpha = c.get("alpha", 0.0)
            frac = min(float(step), steps) / steps
            cos = 0.5 * (1.0 + math.cos(math.pi * frac))
            return c["initial_learning_rate"] * ((1 - alpha) * cos + alpha)
    elif name == "CosineDecayRestarts":
        def f(step):
            first = float(c["first_decay_steps"])
            t_mul, m_mul, alpha = c.get("t_mul", 2.0), c.get("m_mul", 1.0), c.get("alpha", 0.0)
            frac = step / first
            if t_mul == 1.0:
                i = math.floor(frac)
                frac -= i
            else:
                i = math.floor(math.log(1.0 - frac * (1.0 - t_mul)) / math.log(t_mul))
                sum_r = (1.0 - t_mul ** i) / (1.0 - t_mul)
                frac = (frac - sum_r) / t_mul ** i
            cos = 0.5 * m_mul ** i * (1.0 + math.cos(math.pi * frac))
            return c["initial_learning_rate"] * ((1 - alpha) * cos + alpha)
    else:
        raise ValueError(name)
    return f


DEFAULT_LR = {"SGD": 0.01, "RMSprop": 0.001, "Adam": 0.001, "Adagrad": 0.001,
              "Adadelta": 0.001, "Adamax": 0.001, "Nadam": 0.001}


def transform_gradients(grads, c):
    # OptimizerV2._transform_gradients: clipvalue, then clipnorm, then global_clipnorm.
    if c.get("clipvalue") is not None:
        grads = [np.clip(g, -c["clipvalue"], c["clipvalue"]) for g in grads]
    if c.get("clipnorm") is not None:
        cn = c["clipnorm"]
        grads = [g * cn / max(math.sqrt(float(np.sum(g * g))), cn) for g in grads]
    if c.get("global_clipnorm") is not None:
        cn = c["global_clipnorm"]
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        scale = cn * min(1.0 / norm if norm > 0 else math.inf, 1.0 / cn)
        grads = [g * scale for g in grads]
    return grads


def run(case):
    cls, c = case["class_name"], dict(case["config"])
    if cls == "Nadam":
        c["decay"] = c.pop("schedule_decay", 0.004)
    lr_hyper = c.get("lr", c.get("learning_rate", DEFAULT_LR[cls]))
    lr_fn = schedule(lr_hyper) if isinstance(lr_hyper, dict) else (lambda step: lr_hyper)
    decay = c.get("decay", 0.0) or 0.0
    eps = c.get("epsilon") or 1e-7
    var = [np.array(p, dtype=np.float64) for p in case["params"]]
    zeros = lambda: [np.zeros_like(v) for v in var]
    it = 0
    slots = {}
    momentum = c.get("momentum", 0.0)
    if cls == "SGD" and momentum > 0:
        slots["momentum"] = zeros()
    elif cls == "RMSprop":
        slots["rms"] = zeros()
        if momentum > 0:
            slots["momentum"] = zeros()
        if c.get("centered", False):
            slots["mg"] = zeros()
    elif cls in ("Adam", "Adamax", "Nadam"):
        slots["m"], slots["v"] = zeros(), zeros()
        if cls == "Adam" and c.get("amsgrad", False):
            slots["vhat"] = zeros()
    elif cls == "Adagrad":
        slots["accumulator"] = [np.full_like(v, c.get("initial_accumulator_value", 0.1)) for v in var]
    elif cls == "Adadelta":
        slots["accum_grad"], slots["accum_var"] = zeros(), zeros()
    m_cache = 1.0
    history = []
    for step_grads in case["grads"]:
        grads = transform_gradients([np.array(g, dtype=np.float64) for g in step_grads], c)
        # OptimizerV2._decayed_lr (Nadam's _prepare_local skips it).
        lr = lr_fn(it)
        if decay > 0 and cls != "Nadam":
            lr = lr / (1.0 + decay * it)
        t = it + 1
        if cls == "Nadam":
            b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
            mu_t = b1 * (1.0 - 0.5 * math.pow(0.96, decay * t))
            mu_t1 = b1 * (1.0 - 0.5 * math.pow(0.96, decay * (t + 1)))
            m_schedule_new = m_cache * mu_t
            m_schedule_next = m_schedule_new * mu_t1
            m_cache = m_schedule_new
        for i, g in enumerate(grads):
            if cls == "SGD":
                if momentum > 0:  # ResourceApplyKerasMomentum
                    a = slots["momentum"][i] * momentum - g * lr
                    slots["momentum"][i] = a
                    var[i] = var[i] + (a * momentum - g * lr if c.get("nesterov", False) else a)
                else:
                    var[i] = var[i] - lr * g
            elif cls == "RMSprop":
                rho = c.get("rho", 0.9)
                ms = slots["rms"][i] + (g * g - slots["rms"][i]) * (1 - rho)
                slots["rms"][i] = ms
                denom = ms
                if c.get("centered", False):
                    mg = slots["mg"][i] + (g - slots["mg"][i]) * (1 - rho)
                    slots["mg"][i] = mg
                    denom = ms - mg * mg
                if momentum > 0:  # ResourceApply(Centered)RMSProp: epsilon inside the sqrt
                    mom = slots["momentum"][i] * momentum + g * lr / np.sqrt(denom + eps)
                    slots["momentum"][i] = mom
                    var[i] = var[i] - mom
                else:
                    var[i] = var[i] - lr * g / (np.sqrt(denom) + eps)
            elif cls == "Adam":  # ResourceApplyAdam(WithAmsgrad)
                b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
                alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                slots["m"][i] = slots["m"][i] + (g - slots["m"][i]) * (1 - b1)
                slots["v"][i] = slots["v"][i] + (g * g - slots["v"][i]) * (1 - b2)
                denom_v = slots["v"][i]
                if "vhat" in slots:
                    slots["vhat"][i] = np.maximum(slots["vhat"][i], slots["v"][i])
                    denom_v = slots["vhat"][i]
                var[i] = var[i] - slots["m"][i] * alpha / (np.sqrt(denom_v) + eps)
            elif cls == "Adamax":  # ResourceApplyAdaMax
                b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
                slots["m"][i] = slots["m"][i] + (g - slots["m"][i]) * (1 - b1)
                slots["v"][i] = np.maximum(b2 * slots["v"][i], np.abs(g))
                var[i] = var[i] - lr / (1 - b1 ** t) * (slots["m"][i] / (slots["v"][i] + eps))
            elif cls == "Nadam":
                b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
                g_prime = g / (1.0 - m_schedule_new)
                slots["m"][i] = b1 * slots["m"][i] + (1 - b1) * g
                m_t_prime = slots["m"][i] / (1.0 - m_schedule_next)
                slots["v"][i] = b2 * slots["v"][i] + (1 - b2) * g * g
                v_t_prime = slots["v"][i] / (1.0 - b2 ** t)
                m_t_bar = (1.0 - mu_t) * g_prime + mu_t1 * m_t_prime
                var[i] = var[i] - lr * m_t_bar / (np.sqrt(v_t_prime) + eps)
            elif cls == "Adagrad":  # ResourceApplyAdagradV2
                slots["accumulator"][i] = slots["accumulator"][i] + g * g
                var[i] = var[i] - lr * g / (np.sqrt(slots["accumulator"][i]) + eps)
            elif cls == "Adadelta":  # ResourceApplyAdadelta
                rho = c.get("rho", 0.95)
                acc = slots["accum_grad"][i] * rho + g * g * (1 - rho)
                slots["accum_grad"][i] = acc
                update = np.sqrt(slots["accum_var"][i] + eps) / np.sqrt(acc + eps) * g
                var[i] = var[i] - update * lr
                slots["accum_var"][i] = slots["accum_var"][i] * rho + update * update * (1 - rho)
            else:
                raise ValueError(cls)
        it += 1
        history.append([v.ravel().tolist() for v in var])
    # get_weights(): iterations, (Nadam) momentum_cache, then each slot kind for all variables.
    order = {"SGD": ["momentum"], "RMSprop": ["rms", "momentum", "mg"], "Adam": ["m", "v", "vhat"],
             "Adamax": ["m", "v"], "Nadam": ["m", "v"], "Adagrad": ["accumulator"],
             "Adadelta": ["accum_grad", "accum_var"]}[cls]
    weights = [[float(it)]]
    if cls == "Nadam":
        weights.append([m_cache])
    for name in order:
        if name in slots:
            weights.extend(s.ravel().tolist() for s in slots[name])
    return {"params": history, "weights": weights}


def main():
    request = json.load(sys.stdin)
    out = {
        "optimizers": [run(case) for case in request.get("optimizers", [])],
        "schedules": [[schedule(s)(step) for step in s["steps"]] for s in request.get("schedules", [])],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
