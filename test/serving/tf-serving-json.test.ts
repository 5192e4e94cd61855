import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { InvalidRequestError, formatFloat32, formatPredictResponse, parseJsonBody, parsePredictRequest, type Signature } from '../../src/serving/index.js';
import { random } from './helpers.js';
import { PYTHON, needsPython } from '../helpers/python.js';

const f32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

test("formatFloat32 writes floats as TF Serving's WriteDecimal does (%g, %.9g when that does not round-trip, '.0' on whole numbers): checked against C printf through Python", { skip: needsPython('numpy') }, () => {
  const rand = random(99);
  const special = [0, 0x80000000, 0x3f800000, 0x40400000, 0x3dcccccd, 0x3727c5ac, 0x4b095440, 0x4996b438, 0x4b800000, 0x7f7fffff, 0x00000001, 0x7fc00000, 0x7f800000, 0xff800000, 0xbf000000];
  const bits = [...special, ...Array.from({ length: 3000 }, () => Math.floor(((rand() + 1) / 2) * 2 ** 32) >>> 0)].filter((b) => !Number.isNaN(f32(b)) || b === 0x7fc00000);
  const script = [
    'import sys, json, math, numpy as np',
    'out = []',
    'for b in json.load(sys.stdin):',
    '    v = np.array([b], dtype=np.uint32).view(np.float32)[0]; d = float(v)',
    "    if math.isnan(d): s = 'NaN'",
    "    elif math.isinf(d): s = '-Infinity' if d < 0 else 'Infinity'",
    '    else:',
    "        s = '%g' % d",
    "        if np.float32(s) != v: s = '%.9g' % d",
    "        if '.' not in s and 'e' not in s: s += '.0'",
    '    out.append(s)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(bits), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(r.stdout) as string[];
  bits.forEach((b, i) => assert.equal(formatFloat32(f32(b)), expected[i], `bits 0x${b.toString(16)}`));
  assert.deepEqual([0.5, 3, 1e-5, 9e6, -0].map((v) => formatFloat32(Math.fround(v))), ['0.5', '3.0', '1e-05', '9e+06', '-0.0']);
});

const rows = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });

test("predict answers are laid out as TF Serving's rapidjson PrettyWriter lays them out", () => {
  // half_plus_three's answer from TF Serving's REST documentation: one scalar per row.
  assert.equal(formatPredictResponse('row', [rows([3.5, 4, 5.5], [3])], ['y']), '{\n    "predictions": [3.5, 4.0, 5.5\n    ]\n}');
  const two = rows([0.1, 0.2, 0.3, 0.4], [2, 2]);
  assert.equal(formatPredictResponse('row', [two], ['y']), '{\n    "predictions": [[0.1, 0.2], [0.3, 0.4]\n    ]\n}');
  assert.equal(
    formatPredictResponse('row', [two, rows([1, 2], [2, 1])], ['a', 'b']),
    '{\n    "predictions": [\n        {\n            "a": [0.1, 0.2],\n            "b": [1.0]\n        },\n        {\n            "a": [0.3, 0.4],\n            "b": [2.0]\n        }\n    ]\n}',
  );
  assert.equal(
    formatPredictResponse('columnar', [rows([1, 2], [1, 2])], ['y']),
    '{\n    "outputs": [\n        [\n            1.0,\n            2.0\n        ]\n    ]\n}',
  );
  assert.equal(
    formatPredictResponse('columnar', [rows([1], [1, 1]), { data: Int32Array.from([7, 8]), shape: [1, 2] }], ['a', 'b']),
    '{\n    "outputs": {\n        "a": [\n            [\n                1.0\n            ]\n        ],\n        "b": [\n            [\n                7,\n                8\n            ]\n        ]\n    }\n}',
  );
});

const sig = (shape: (number | null)[], dtype: 'float32' | 'int32' = 'float32'): Signature => ({ inputs: [{ name: 'x', shape, dtype }], outputs: [{ name: 'y', shape: [null, 1], dtype: 'float32' }] });

test('parsePredictRequest: row and columnar layouts, named single inputs, open dimensions, int32 inputs', () => {
  const s = sig([null, 2]);
  assert.deepEqual(parsePredictRequest({ instances: [[1, 2], [3, 4]] }, s), { format: 'row', inputs: [rows([1, 2, 3, 4], [2, 2])] });
  assert.deepEqual(parsePredictRequest({ instances: [{ x: [1, 2] }] }, s), { format: 'row', inputs: [rows([1, 2], [1, 2])] });
  assert.deepEqual(parsePredictRequest({ inputs: { x: [[1, 2]] }, signature_name: 'serving_default' }, s), { format: 'columnar', inputs: [rows([1, 2], [1, 2])] });
  // A dimension the model leaves open (None) takes its size from the first row; the other rows must agree.
  const open = sig([null, null, 2]);
  assert.deepEqual(parsePredictRequest({ instances: [[[1, 2], [3, 4], [5, 6]]] }, open).inputs[0].shape, [1, 3, 2]);
  assert.throws(() => parsePredictRequest({ instances: [[[1, 2]], [[1, 2], [3, 4]]] }, open), /instances\[1\]: expected a list of 1 lists of 2 \(input 'x' takes rows of shape \[None, 2\]\), got a list of 2/);
  const ints = parsePredictRequest({ instances: [[1, 2]] }, sig([null, 2], 'int32')).inputs[0];
  assert.ok(ints.data instanceof Int32Array);
  assert.throws(() => parsePredictRequest({ instances: [[1, 2.5]] }, sig([null, 2], 'int32')), (e: unknown) => e instanceof InvalidRequestError && e.field === 'instances[0][1]' && /int32/.test(e.message));
  assert.throws(() => parsePredictRequest({ instances: [[true, 1]] }, s), /instances\[0\]\[0\]: expected a number .*got the boolean true/);
});

test('parseJsonBody takes JSON, and the NaN / Infinity tokens TF Serving allows', () => {
  assert.deepEqual(parseJsonBody('{"instances": [[1, 2]]}'), { instances: [[1, 2]] });
  const v = parseJsonBody('{"instances": [[NaN, -Infinity, Infinity]]}') as { instances: number[][] };
  assert.ok(Number.isNaN(v.instances[0][0]) && v.instances[0][1] === -Infinity && v.instances[0][2] === Infinity);
  assert.throws(() => parseJsonBody('{"instances": [[1, 2]'), /body: expected JSON \(NaN and Infinity allowed\), got a parse error/);
  assert.throws(() => parseJsonBody('  '), /got an empty body/);
});
