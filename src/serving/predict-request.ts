import { InvalidRequestError } from './errors.js';
import type { Rows } from './rows.js';
import type { Signature, TensorSpec } from './signature.js';

/** TF Serving's two request layouts: rows (`instances`) are answered with `predictions`, columns (`inputs`) with `outputs`. */
export type PredictFormat = 'row' | 'columnar';

const FLOAT32_MAX = 3.4028234663852886e38;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a TF Serving predict body (`{"instances": [...]}` or
 * `{"inputs": ...}`, `signature_name` optional) into one block of rows per
 * model input, checked against the signature. A bad body is an
 * InvalidRequestError naming the field ('instances[3][1]') and the shape the
 * input takes.
 */
export function parsePredictRequest(body: unknown, signature: Signature): { format: PredictFormat; inputs: Rows[] } {
  if (!isObject(body)) throw new InvalidRequestError('body', 'a JSON object with "instances" (rows) or "inputs" (columns)', kind(body));
  const name = body.signature_name;
  if (name !== undefined && typeof name !== 'string') throw new InvalidRequestError('signature_name', 'a string', kind(name));
  if (name !== undefined && name !== '' && name !== 'serving_default')
    throw new InvalidRequestError('signature_name', "'serving_default' (the model's only signature)", `'${name}'`);
  const hasRows = 'instances' in body;
  const hasColumns = 'inputs' in body;
  if (hasRows && hasColumns) throw new InvalidRequestError('body', 'only one of "instances" and "inputs"', 'both');
  if (hasRows) return { format: 'row', inputs: parseInstances(body.instances, signature.inputs) };
  if (hasColumns) return { format: 'columnar', inputs: parseColumns(body.inputs, signature.inputs) };
  throw new InvalidRequestError('body', 'an "instances" or "inputs" key', `the keys ${JSON.stringify(Object.keys(body))}`);
}

/** Row format: one element per row; an object of named inputs when the model has several (allowed with one). */
function parseInstances(instances: unknown, specs: TensorSpec[]): Rows[] {
  if (!Array.isArray(instances)) throw new InvalidRequestError('instances', 'a list with one element per row', kind(instances));
  if (instances.length === 0) throw new InvalidRequestError('instances', 'at least one row', 'an empty list');
  const named = isObject(instances[0]);
  const names = specs.map((s) => s.name);
  if (!named && specs.length > 1) throw new InvalidRequestError('instances[0]', `an object with the inputs ${names.join(', ')}`, kind(instances[0]));
  if (named)
    instances.forEach((row, j) => {
      if (!isObject(row)) throw new InvalidRequestError(`instances[${j}]`, `an object with the inputs ${names.join(', ')} (as instances[0])`, kind(row));
      for (const key of Object.keys(row)) if (!names.includes(key)) throw new InvalidRequestError(`instances[${j}].${key}`, `only the inputs ${names.join(', ')}`, 'an unknown key');
    });
  return specs.map((spec) =>
    fillRows(
      instances.map((row, j) => {
        if (!named) return row;
        if ((row as Json)[spec.name] === undefined) throw new InvalidRequestError(`instances[${j}].${spec.name}`, rowExpectation(spec), 'nothing');
        return (row as Json)[spec.name];
      }),
      spec,
      (j) => (named ? `instances[${j}].${spec.name}` : `instances[${j}]`),
    ),
  );
}

/** Columnar format: the whole batch of each input, as one value (one input) or an object by input name. */
function parseColumns(inputs: unknown, specs: TensorSpec[]): Rows[] {
  const names = specs.map((s) => s.name);
  if (!isObject(inputs) && specs.length > 1) throw new InvalidRequestError('inputs', `an object with the inputs ${names.join(', ')}`, kind(inputs));
  const columns = specs.map((spec) => {
    const field = isObject(inputs) ? `inputs.${spec.name}` : 'inputs';
    const value = isObject(inputs) ? inputs[spec.name] : inputs;
    const expected = `a list of rows for input '${spec.name}' (each of shape ${shapeText(spec.shape.slice(1))})`;
    if (value === undefined) throw new InvalidRequestError(field, expected, 'nothing');
    if (!Array.isArray(value)) throw new InvalidRequestError(field, expected, kind(value));
    if (value.length === 0) throw new InvalidRequestError(field, expected, 'an empty list');
    return { field, rows: fillRows(value, spec, (j) => `${field}[${j}]`) };
  });
  const n = columns[0].rows.shape[0];
  for (const c of columns.slice(1))
    if (c.rows.shape[0] !== n) throw new InvalidRequestError(c.field, `${n} rows (as many as ${columns[0].field})`, `${c.rows.shape[0]}`);
  return columns.map((c) => c.rows);
}

/** Rows of one input from one JSON value per row; dims the signature leaves open (null) are taken from the first row. */
function fillRows(values: unknown[], spec: TensorSpec, path: (row: number) => string): Rows {
  const rowShape = spec.shape.slice(1);
  const dims = rowShape.map((d, level) => d ?? openDim(values[0], level));
  const size = dims.reduce((a, b) => a * b, 1);
  const data = spec.dtype === 'int32' ? new Int32Array(values.length * size) : new Float32Array(values.length * size);
  let k = 0;
  const walk = (v: unknown, level: number, where: string): void => {
    if (level === dims.length) {
      data[k++] = checkNumber(v, spec, where);
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[level])
      throw new InvalidRequestError(where, `${levelExpectation(dims, level)} (${rowExpectation(spec)})`, kind(v));
    for (let i = 0; i < v.length; i++) walk(v[i], level + 1, `${where}[${i}]`);
  };
  values.forEach((v, j) => walk(v, 0, path(j)));
  return { data, shape: [values.length, ...dims] };
}

/** The length of the first list at `level` in `value` (0 when there is none: the walk then reports the mismatch). */
function openDim(value: unknown, level: number): number {
  let v = value;
  for (let i = 0; i < level && Array.isArray(v); i++) v = v[0];
  return Array.isArray(v) ? v.length : 0;
}

function checkNumber(v: unknown, spec: TensorSpec, where: string): number {
  if (typeof v !== 'number') throw new InvalidRequestError(where, `a number (${rowExpectation(spec)})`, kind(v));
  if (spec.dtype === 'int32') {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new InvalidRequestError(where, `an int32 integer (input '${spec.name}' is int32)`, String(v));
  } else if (Number.isFinite(v) && Math.abs(v) > FLOAT32_MAX) throw new InvalidRequestError(where, 'a number within float32 range (no loss of precision)', String(v));
  return v;
}

function levelExpectation(dims: number[], level: number): string {
  const inner = level === dims.length - 1 ? 'numbers' : `lists of ${dims[level + 1]}`;
  return `a list of ${dims[level]} ${inner}`;
}

function rowExpectation(spec: TensorSpec): string {
  return `input '${spec.name}' takes rows of shape ${shapeText(spec.shape.slice(1))}`;
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}]`;
}

/** What a JSON value is, in words, for error messages. */
function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v)}`;
  return `${typeof v === 'number' ? 'the number' : 'the boolean'} ${String(v)}`;
}
