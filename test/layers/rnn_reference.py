"""Float64 numpy re-implementation of Keras 2's recurrent formulas (keras/layers/recurrent.py,
recurrent_v2.py and backend.rnn in tf.keras 2), written independently of rxkeras: the
reference for modes tfjs-layers lacks (GRU reset_after=True, tf.keras 2 masking with
zero_output_for_mask) and for the keras2c LSTM model. Reads one JSON request per line on
stdin, writes one JSON answer per line."""
import json
import sys

import numpy as np


def act(name):
    return {
        'tanh': np.tanh,
        'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
        'hard_sigmoid': lambda x: np.clip(0.2 * x + 0.5, 0, 1),
        'relu': lambda x: np.maximum(x, 0),
        'linear': lambda x: x,
    }[name]


def cell_step(kind, c, w, x_t, states):
    a = act(c.get('activation', 'tanh'))
    ra = act(c.get('recurrent_activation', 'sigmoid'))
    u = c['units']
    k, rk = w['kernel'], w['recurrent_kernel']
    b = w.get('bias')
    if kind == 'SimpleRNN':
        h = x_t @ k + (b if b is not None else 0) + states[0] @ rk
        h = a(h)
        return h, [h]
    if kind == 'LSTM':
        h, cc = states
        z = x_t @ k + h @ rk + (b if b is not None else 0)
        i, f, g, o = (z[:, n * u:(n + 1) * u] for n in range(4))
        cc = ra(f) * cc + ra(i) * a(g)
        h = ra(o) * a(cc)
        return h, [h, cc]
    if kind == 'GRU':
        h = states[0]
        if c.get('reset_after', True):
            bi = b[0] if b is not None else 0
            br = b[1] if b is not None else np.zeros(3 * u)
            mx = x_t @ k + bi
            mi = h @ rk + br
            z = ra(mx[:, :u] + mi[:, :u])
            r = ra(mx[:, u:2 * u] + mi[:, u:2 * u])
            hh = a(mx[:, 2 * u:] + r * mi[:, 2 * u:])
        else:
            mx = x_t @ k + (b if b is not None else 0)
            z = ra(mx[:, :u] + h @ rk[:, :u])
            r = ra(mx[:, u:2 * u] + h @ rk[:, u:2 * u])
            hh = a(mx[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]
    raise ValueError(kind)


def rnn(kind, c, w, x, mask=None, initial=None):
    """backend.rnn: masked steps keep the states and output the previous output (zeros first),
    or zeros with zero_output_for_mask."""
    n, t, _ = x.shape
    u = c['units']
    nstates = 2 if kind == 'LSTM' else 1
    states = [np.array(s, dtype=np.float64) for s in initial] if initial else [np.zeros((n, u)) for _ in range(nstates)]
    steps = list(range(t))
    if c.get('go_backwards'):
        steps = steps[::-1]
    outputs = []
    prev = np.zeros((n, u))
    for s in steps:
        out, new = cell_step(kind, c, w, x[:, s, :], states)
        if mask is not None:
            m = mask[:, s][:, None]
            fallback = np.zeros_like(out) if c.get('zero_output_for_mask') else prev
            out = np.where(m, out, fallback)
            new = [np.where(m, ns, os) for ns, os in zip(new, states)]
        states = new
        outputs.append(out)
        prev = out
    y = np.stack(outputs, 1) if c.get('return_sequences') else prev
    return [y] + states if c.get('return_state') else [y]


def dense(w, x, activation):
    return act(activation)(x @ w['kernel'] + w['bias'])


def main():
    for line in sys.stdin:
        req = json.loads(line)
        arr = lambda v: np.array(v, dtype=np.float64)
        if req['op'] == 'rnn':
            w = {k: arr(v) for k, v in req['weights'].items()}
            mask = np.array(req['mask'], dtype=bool) if req.get('mask') is not None else None
            outs = rnn(req['kind'], req['config'], w, arr(req['x']), mask, req.get('initial'))
        elif req['op'] == 'bidirectional':
            c = req['config']
            x = arr(req['x'])
            mask = np.array(req['mask'], dtype=bool) if req.get('mask') is not None else None
            zero = {'zero_output_for_mask': bool(c.get('return_sequences'))}
            f = rnn(req['kind'], dict(c, **zero), {k: arr(v) for k, v in req['forward'].items()}, x, mask)[0]
            b = rnn(req['kind'], dict(c, go_backwards=True, **zero), {k: arr(v) for k, v in req['backward'].items()}, x, mask)[0]
            if c.get('return_sequences'):
                b = b[:, ::-1]
            outs = [np.concatenate([f, b], -1)]
        elif req['op'] == 'keras2c':
            # Dense(relu) -> Dense(relu) -> LSTM -> Dense, as in keras2c/example_model.h5
            layers = req['layers']
            y = arr(req['x'])
            for layer in layers:
                w = {k: arr(v) for k, v in layer['weights'].items()}
                if layer['class_name'] == 'Dense':
                    y = dense(w, y, layer['config']['activation'])
                else:
                    y = rnn('LSTM', layer['config'], w, y)[0]
            outs = [y]
        print(json.dumps([o.tolist() for o in outs]), flush=True)


if __name__ == '__main__':
    main()
