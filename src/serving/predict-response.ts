import type { PredictFormat } from './predict-request.js';
import type { Rows } from './rows.js';

/**
 * TF Serving's predict answers, byte for byte as its json_tensor.cc writes
 * them (rapidjson's PrettyWriter, 4-space indent): row requests get
 * `predictions` with each row on one line (`[[0.1, 0.2], [0.3, 0.4]` then
 * the closing bracket on its own line), an object per row when the model
 * has several outputs; columnar requests get `outputs` with one value per
 * line, an object by output name when there are several.
 */
export function formatPredictResponse(format: PredictFormat, outputs: readonly Rows[], names: readonly string[]): string {
  const rows = outputs[0].shape[0];
  if (format === 'columnar') {
    const value = outputs.length === 1 ? tensorLines(outputs[0], 1) : `{${names.map((n, i) => `\n${indent(2)}${JSON.stringify(n)}: ${tensorLines(outputs[i], 2)}`).join(',')}\n${indent(1)}}`;
    return `{\n${indent(1)}"outputs": ${value}\n}`;
  }
  const items: string[] = [];
  for (let r = 0; r < rows; r++)
    items.push(
      outputs.length === 1
        ? rowLine(outputs[0], r)
        : `\n${indent(2)}{${names.map((n, i) => `\n${indent(3)}${JSON.stringify(n)}: ${rowLine(outputs[i], r)}`).join(',')}\n${indent(2)}}`,
    );
  return `{\n${indent(1)}"predictions": [${items.join(outputs.length === 1 ? ', ' : ',')}\n${indent(1)}]\n}`;
}

/** TF Serving's error body. */
export function formatError(message: string): string {
  return `{ "error": ${JSON.stringify(message)} }`;
}

/**
 * A float32 as TF Serving writes it: C's `%g` (6 significant digits), or
 * `%.9g` when that does not read back as the same float; `.0` added to whole
 * numbers; `NaN`, `Infinity`, `-Infinity` for the non-finite.
 */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v < 0 ? '-Infinity' : 'Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const a = Math.abs(v);
  const exact = exactDigits(a);
  let precision = 6;
  let r = rounded(a, precision, exact);
  if (Math.fround(Number(`${r.kept}e${r.e - precision + 1}`)) !== a) r = rounded(a, (precision = 9), exact);
  const { kept, e } = r;
  let s: string;
  if (e < -4 || e >= precision) s = `${trimZeros(`${kept[0]}.${kept.slice(1)}`)}e${e < 0 ? '-' : '+'}${Math.abs(e) < 10 ? '0' : ''}${Math.abs(e)}`;
  else s = trimZeros(e >= 0 ? `${kept.slice(0, e + 1)}.${kept.slice(e + 1)}` : `0.${'0'.repeat(-e - 1)}${kept}`);
  if (!s.includes('.') && !s.includes('e')) s += '.0';
  return v < 0 ? `-${s}` : s;
}

/**
 * The exact decimal digits of `a` when a rounding tie can occur at 6 or 9
 * significant digits, else undefined. A tie needs an exact expansion of at
 * most 10 digits: an integer, or a fraction with at most 14 fractional bits
 * (a = y / 2^bits = y * 5^bits / 10^bits, and 5^14 < 10^10).
 */
function exactDigits(a: number): { digits: string; e: number } | undefined {
  let y = a;
  let bits = 0;
  while (!Number.isInteger(y) && bits <= 14) {
    y *= 2;
    bits++;
  }
  if (!Number.isInteger(y) || y >= 1e21) return undefined;
  const digits = bits === 0 ? String(y) : (BigInt(y) * 5n ** BigInt(bits)).toString();
  return { digits, e: digits.length - 1 - bits };
}

/**
 * `a` to `precision` significant digits as C's printf rounds (the exact
 * value, ties to even), and the decimal exponent of the first digit.
 * JavaScript's toExponential rounds ties up, so it serves where no tie can occur.
 */
function rounded(a: number, precision: number, exact: { digits: string; e: number } | undefined): { kept: string; e: number } {
  if (!exact) {
    const s = a.toExponential(precision - 1);
    const i = s.indexOf('e');
    return { kept: s[0] + s.slice(2, i), e: Number(s.slice(i + 1)) };
  }
  const { digits } = exact;
  let e = exact.e;
  let kept = digits.slice(0, precision).padEnd(precision, '0');
  const rest = digits.slice(precision);
  const tie = rest[0] === '5' && /^0*$/.test(rest.slice(1));
  if (rest[0] > '5' || (rest[0] === '5' && !tie) || (tie && Number(kept.at(-1)) % 2 === 1)) {
    const up = (BigInt(kept) + 1n).toString();
    if (up.length > precision) e += 1;
    kept = up.slice(0, precision);
  }
  return { kept, e };
}

/** Drops trailing zeros after a decimal point, and the point if nothing follows it. */
function trimZeros(s: string): string {
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s[end - 1] === '0') end--;
  if (s[end - 1] === '.') end--;
  return s.slice(0, end);
}

const indent = (level: number): string => ' '.repeat(4 * level);

const number = (rows: Rows, i: number): string => (rows.data instanceof Int32Array ? String(rows.data[i]) : formatFloat32(rows.data[i]));

/** Row `r` of an output, on one line (rapidjson's single-line arrays). */
function rowLine(rows: Rows, r: number): string {
  const shape = rows.shape.slice(1);
  const size = shape.reduce((a, b) => a * b, 1);
  let k = r * size;
  const walk = (level: number): string => {
    if (level === shape.length) return number(rows, k++);
    const parts: string[] = [];
    for (let i = 0; i < shape[level]; i++) parts.push(walk(level + 1));
    return `[${parts.join(', ')}]`;
  };
  return walk(0);
}

/** A whole output with one element per line (rapidjson's default layout), its brackets at `level`. */
function tensorLines(rows: Rows, level: number): string {
  let k = 0;
  const walk = (dim: number, at: number): string => {
    if (dim === rows.shape.length) return number(rows, k++);
    if (rows.shape[dim] === 0) return '[]';
    const parts: string[] = [];
    for (let i = 0; i < rows.shape[dim]; i++) parts.push(`\n${indent(at + 1)}${walk(dim + 1, at + 1)}`);
    return `[${parts.join(',')}\n${indent(at)}]`;
  };
  return walk(0, level);
}
