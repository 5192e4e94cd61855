/**
 * An independent float64 numpy implementation of the convolution, pooling
 * and reshaping layers, written from TensorFlow's and Keras 2's definitions
 * (gather for convolutions, scatter for transposed ones, explicit loops for
 * locally connected layers, the bilinear formula per output pixel), run with
 * Debian's /usr/bin/python3. All cases go to one python process as JSON.
 */
import { spawnSync } from 'node:child_process';
import { PYTHON } from '../helpers/python.js';

const SCRIPT = String.raw`
import json, sys, itertools
import numpy as np

def arr(d): return np.array(d['data'], dtype=np.float64).reshape(d['shape'])

def to_last(x, fmt): return np.moveaxis(x, 1, -1) if fmt == 'channels_first' else x
def from_last(x, fmt): return np.moveaxis(x, -1, 1) if fmt == 'channels_first' else x

def same_pad(n, k, s, d):
    ek = (k - 1) * d + 1
    o = -(-n // s)
    total = max((o - 1) * s + ek - n, 0)
    return (total // 2, total - total // 2)

def conv(x, k, strides, dil, padding, groups=1):
    # x (N, *S, C) channels last, k (*K, C/groups, F): cross-correlation, TF padding.
    r = x.ndim - 2
    K = k.shape[:r]
    if padding == 'causal':
        pads = [((K[0] - 1) * dil[0], 0)]
    elif padding == 'same':
        pads = [same_pad(x.shape[1 + i], K[i], strides[i], dil[i]) for i in range(r)]
    else:
        pads = [(0, 0)] * r
    x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    S = x.shape[1:-1]
    O = [(S[i] - (K[i] - 1) * dil[i] - 1) // strides[i] + 1 for i in range(r)]
    N, C, F = x.shape[0], x.shape[-1], k.shape[-1]
    cg, fg = C // groups, F // groups
    y = np.zeros([N] + O + [F])
    for tap in itertools.product(*[range(n) for n in K]):
        sl = tuple(slice(tap[i] * dil[i], tap[i] * dil[i] + (O[i] - 1) * strides[i] + 1, strides[i]) for i in range(r))
        xs = x[(slice(None),) + sl + (slice(None),)]
        for g in range(groups):
            y[..., g * fg:(g + 1) * fg] += xs[..., g * cg:(g + 1) * cg] @ k[tap][:, g * fg:(g + 1) * fg]
    return y

def depthwise(x, k, strides, dil, padding):
    # k (*K, C, M); output channel c * M + m.
    C, M = k.shape[-2], k.shape[-1]
    outs = []
    for c in range(C):
        for m in range(M):
            outs.append(conv(x[..., c:c + 1], k[..., c:c + 1, m:m + 1], strides, dil, padding))
    return np.concatenate(outs, axis=-1)

def conv_transpose(x, k, strides, dil, padding, out_sizes):
    # x (N, *S, C), k (*K, F, C): scatter every input position through the kernel, then crop
    # the window TensorFlow's forward rule (from the output size) picks.
    r = x.ndim - 2
    K = k.shape[:r]
    S = x.shape[1:-1]
    N, F = x.shape[0], k.shape[-2]
    full = [(S[i] - 1) * strides[i] + (K[i] - 1) * dil[i] + 1 for i in range(r)]
    y = np.zeros([N] + [max(full[i], out_sizes[i]) + full[i] for i in range(r)] + [F])
    for pos in itertools.product(*[range(n) for n in S]):
        v = x[(slice(None),) + pos]
        for tap in itertools.product(*[range(n) for n in K]):
            o = tuple(pos[i] * strides[i] + tap[i] * dil[i] for i in range(r))
            y[(slice(None),) + o] += v @ k[tap].T
    sl = []
    for i in range(r):
        ek = (K[i] - 1) * dil[i] + 1
        before = max((S[i] - 1) * strides[i] + ek - out_sizes[i], 0) // 2 if padding == 'same' else 0
        sl.append(slice(before, before + out_sizes[i]))
    return y[(slice(None),) + tuple(sl)]

def local(x, kernel, bias, ksize, strides, fmt):
    # Keras 2 backend.local_conv (implementation 1) and bias_add, written out.
    r = len(ksize)
    sp = x.shape[1:-1] if fmt == 'channels_last' else x.shape[2:]
    out = [(sp[i] - ksize[i]) // strides[i] + 1 for i in range(r)]
    N, F = x.shape[0], kernel.shape[-1]
    rows = []
    for pos in itertools.product(*[range(n) for n in out]):
        sl = tuple(slice(pos[i] * strides[i], pos[i] * strides[i] + ksize[i]) for i in range(r))
        patch = x[(slice(None),) + sl + (slice(None),)] if fmt == 'channels_last' else x[(slice(None), slice(None)) + sl]
        rows.append(patch.reshape(N, -1))
    xa = np.stack(rows)  # (P, N, feature)
    y = np.einsum('pnf,pfo->pno', xa, kernel).reshape(out + [N, F])
    perm = [r] + list(range(r)) + [r + 1] if fmt == 'channels_last' else [r, r + 1] + list(range(r))
    y = np.transpose(y, perm)
    if bias is not None:
        y = y + (bias.reshape((1,) + bias.shape) if fmt == 'channels_last' else bias.reshape((1, F) + tuple(out)))
    return y

def bilinear(x, oh, ow):
    # tf.image.resize bilinear (half-pixel centres), one output pixel at a time.
    N, H, W, C = x.shape
    y = np.zeros((N, oh, ow, C))
    for i in range(oh):
        sy = (i + 0.5) * H / oh - 0.5
        y0 = int(np.floor(sy)); ly = sy - y0
        a, b = min(max(y0, 0), H - 1), min(max(y0 + 1, 0), H - 1)
        for j in range(ow):
            sx = (j + 0.5) * W / ow - 0.5
            x0 = int(np.floor(sx)); lx = sx - x0
            c, d = min(max(x0, 0), W - 1), min(max(x0 + 1, 0), W - 1)
            top = x[:, a, c] * (1 - lx) + x[:, a, d] * lx
            bot = x[:, b, c] * (1 - lx) + x[:, b, d] * lx
            y[:, i, j] = top * (1 - ly) + bot * ly
    return y

def pool(x, size, strides, padding, kind):
    r = x.ndim - 2
    S = x.shape[1:-1]
    if padding == 'same':
        O = [-(-S[i] // strides[i]) for i in range(r)]
        pads = [max((O[i] - 1) * strides[i] + size[i] - S[i], 0) // 2 for i in range(r)]
    else:
        O = [(S[i] - size[i]) // strides[i] + 1 for i in range(r)]
        pads = [0] * r
    y = np.zeros([x.shape[0]] + O + [x.shape[-1]])
    for pos in itertools.product(*[range(n) for n in O]):
        sl = []
        for i in range(r):
            b = pos[i] * strides[i] - pads[i]
            sl.append(slice(max(b, 0), min(b + size[i], S[i])))
        w = x[(slice(None),) + tuple(sl) + (slice(None),)].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + pos] = w.max(axis=1) if kind == 'max' else w.mean(axis=1)
    return y

def run(case):
    op, c = case['op'], case['cfg']
    x = arr(case['x'])
    p = {k: arr(v) for k, v in case['params'].items()}
    fmt = c.get('data_format', 'channels_last')
    xl = to_last(x, fmt)
    if op == 'conv':
        y = conv(xl, p['kernel'], c['strides'], c['dilation_rate'], c['padding'], c.get('groups', 1))
        if 'bias' in p: y = y + p['bias']
    elif op == 'depthwise':
        y = depthwise(xl, p['depthwise_kernel'], c['strides'], c['dilation_rate'], c['padding'])
        if 'bias' in p: y = y + p['bias']
    elif op == 'separable':
        r = xl.ndim - 2
        y = depthwise(xl, p['depthwise_kernel'], c['strides'], c['dilation_rate'], c['padding'])
        y = conv(y, p['pointwise_kernel'], [1] * r, [1] * r, 'valid')
        if 'bias' in p: y = y + p['bias']
    elif op == 'conv_transpose':
        y = conv_transpose(xl, p['kernel'], c['strides'], c['dilation_rate'], c['padding'], c['out_sizes'])
        if 'bias' in p: y = y + p['bias']
    elif op == 'local':
        return local(x, p['kernel'], p.get('bias'), c['kernel_size'], c['strides'], fmt)
    elif op == 'crop':
        sl = tuple(slice(a, xl.shape[1 + i] - b) for i, (a, b) in enumerate(c['cropping']))
        y = xl[(slice(None),) + sl + (slice(None),)]
    elif op == 'pad':
        y = np.pad(xl, [(0, 0)] + [tuple(q) for q in c['padding']] + [(0, 0)])
    elif op == 'upsample':
        y = xl
        for i, s in enumerate(c['size']): y = np.repeat(y, s, axis=1 + i)
    elif op == 'bilinear':
        y = bilinear(xl, xl.shape[1] * c['size'][0], xl.shape[2] * c['size'][1])
    elif op == 'pool':
        y = pool(xl, c['pool_size'], c['strides'], c['padding'], c['kind'])
    elif op == 'gpool':
        axes = tuple(range(1, xl.ndim - 1))
        y = xl.max(axis=axes) if c['kind'] == 'max' else xl.mean(axis=axes)
        return y
    elif op == 'masked_mean':
        m = np.array(c['mask'], dtype=np.float64)[:, :, None]
        return (xl * m).sum(axis=1) / m.sum(axis=1)
    else:
        raise ValueError(op)
    return from_last(y, fmt)

out = []
for case in json.load(sys.stdin):
    y = np.asarray(run(case))
    out.append({'data': y.reshape(-1).tolist(), 'shape': list(y.shape)})
json.dump(out, sys.stdout)
`;

export interface Flat {
  data: number[];
  shape: number[];
}

export interface NumpyCase {
  op: string;
  cfg: Record<string, unknown>;
  x: Flat;
  params: Record<string, Flat>;
}

/** Runs every case in one python process; returns each case's output. */
export function numpyReference(cases: NumpyCase[]): Flat[] {
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`numpy reference failed (status ${r.status}): ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout) as Flat[];
}
