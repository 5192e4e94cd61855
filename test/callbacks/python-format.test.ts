import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSpec, pyFormat, pyRepr } from '../../src/callbacks/python-format.js';
import { checkpointPath } from '../../src/callbacks/index.js';
import { InvalidArgumentError } from '../../src/core/errors.js';

// Expected strings are what CPython 3 prints for format(value, spec) and repr(value).
const floats: [number, string, string][] = [
  [2.5, '.0f', '2'], [3.5, '.0f', '4'], [0.125, '.2f', '0.12'], [0.375, '.2f', '0.38'], [0.135, '.2f', '0.14'],
  [0.12345, '.2f', '0.12'], [1234567.891, ',.2f', '1,234,567.89'], [1234567.891, '_.1f', '1_234_567.9'], [0.5, '.1%', '50.0%'],
  [1.25, '.1e', '1.2e+00'], [1234.5678, '.2e', '1.23e+03'], [0.0005, '.4e', '5.0000e-04'], [0, '.4e', '0.0000e+00'],
  [-0.5, '.4e', '-5.0000e-01'], [1e-300, '.1e', '1.0e-300'], [12345.678, 'E', '1.234568E+04'],
  [1e-5, 'g', '1e-05'], [123456789, 'g', '1.23457e+08'], [100, 'g', '100'], [0.0001, 'g', '0.0001'], [1.5, '.3g', '1.5'], [1.5, '#.3g', '1.50'],
  [1.5, '>8.2f', '    1.50'], [1.5, '*^9.1f', '***1.5***'], [1.5, '08.3f', '0001.500'], [-1.5, '08.3f', '-001.500'], [1.5, '+.1f', '+1.5'], [1.5, ' .1f', ' 1.5'],
  [-0.0001, 'z.2f', '0.00'], [-0.0001, '.2f', '-0.00'], [NaN, '.2f', 'nan'], [Infinity, '.4e', 'inf'], [-Infinity, '.2f', '-inf'], [NaN, 'F', 'NAN'],
  [0.1, '.3', '0.1'], [5, '.3', '5.0'], [2, '.2f', '2.00'],
];
const ints: [number, string, string][] = [
  [7, '02d', '07'], [123, '02d', '123'], [-7, '05d', '-0007'], [7, '>4', '   7'], [7, '<4d', '7   '], [7, '+d', '+7'], [1234567, ',d', '1,234,567'], [7, '.2f', '7.00'], [3, 'e', '3.000000e+00'],
];

test('formatSpec matches Python for floats and ints (rounding ties to even, exponents with two digits, fill/align/sign/grouping)', () => {
  for (const [value, spec, expected] of floats) assert.equal(formatSpec({ value, int: false }, spec), expected, `format(${value}, '${spec}')`);
  for (const [value, spec, expected] of ints) assert.equal(formatSpec({ value, int: true }, spec), expected, `format(${value}, '${spec}')`);
});

test('pyRepr is Python repr(float): shortest round-trip digits, .0 on integers, exponent outside [1e-4, 1e16)', () => {
  const cases: [number, string][] = [
    [1, '1.0'], [0.1, '0.1'], [1e-5, '1e-05'], [1e16, '1e+16'], [1.5e-7, '1.5e-07'], [123456789012345, '123456789012345.0'], [0.1 + 0.2, '0.30000000000000004'],
    [0.0001, '0.0001'], [-2.5, '-2.5'], [NaN, 'nan'], [-Infinity, '-inf'], [Math.fround(0.1), '0.10000000149011612'], [1.2345678901234567e+300, '1.2345678901234567e+300'],
  ];
  for (const [value, expected] of cases) assert.equal(pyRepr(value), expected);
});

test("pyFormat fills Keras's checkpoint templates; bad fields and specs are typed errors naming them", () => {
  assert.equal(checkpointPath('weights.{epoch:02d}-{val_loss:.2f}.h5', 6, undefined, { loss: 0.5, val_loss: 0.12567 }), 'weights.07-0.13.h5');
  assert.equal(checkpointPath('ckpt-{epoch}-{batch:03d}-{loss}.h5', 0, 4, { loss: 0.5 }), 'ckpt-1-005-0.5.h5');
  assert.equal(checkpointPath('{{epoch}}-{epoch}', 1, undefined, {}), '{epoch}-2');
  assert.throws(() => checkpointPath('w.{val_acc:.2f}.h5', 0, undefined, { loss: 1 }), (e: Error) => e instanceof InvalidArgumentError && /val_acc/.test(e.message) && /loss/.test(e.message));
  assert.throws(() => checkpointPath('w.{loss:02d}.h5', 0, undefined, { loss: 1 }), (e: Error) => e instanceof InvalidArgumentError && /'d' for a float/.test(e.message));
  assert.throws(() => pyFormat('w.{loss:q}.h5', { loss: { value: 1, int: false } }), InvalidArgumentError);
  assert.throws(() => pyFormat('w.{loss', { loss: { value: 1, int: false } }), InvalidArgumentError);
});
