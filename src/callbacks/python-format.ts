import { InvalidArgumentError } from '../core/errors.js';

/**
 * Python's number formatting, as Keras's callbacks print and name files:
 * `str.format` fields (`weights.{epoch:02d}-{val_loss:.2f}.h5`), the format
 * specification mini-language for numbers (fill, align, sign, `0`, width,
 * grouping, precision; types d, e, E, f, F, g, G, %), and `repr` of a float.
 * Rounding is Python's: the exact binary value, ties to even.
 */

/** A value for a template field: an integer (Python `int`) or a float. */
export interface PyNumber {
  value: number;
  int: boolean;
}

/** Python's `repr(float)`: the shortest digits that round-trip, `1.0`, `1e-05`, `nan`, `inf`. */
export function pyRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac || '0'}`;
  }
  return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** `str(x)` for a Python int or float. */
export function pyStr(x: PyNumber): string {
  return x.int && Number.isFinite(x.value) ? String(Math.trunc(x.value)) : pyRepr(x.value);
}

const SPEC = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([deEfFgGn%s])?$/s;

/** `format(value, spec)` for a Python int or float; `where` names the field in errors. */
export function formatSpec(x: PyNumber, spec: string, where = 'format spec'): string {
  const m = SPEC.exec(spec);
  if (!m) throw new InvalidArgumentError(where, 'a Python format spec such as 02d, .2f, .4e, >8.3g', spec);
  const [, fillChar, alignChar, signChar, z, alt, zero, widthText, grouping, precText, typeChar] = m;
  let type = typeChar ?? '';
  if (type === 's') throw new InvalidArgumentError(where, "a number format (type 's' is for strings)", spec);
  if (type === 'n') type = x.int ? 'd' : 'g';
  if (type === 'd' && !x.int) throw new InvalidArgumentError(where, "a float format (Python refuses 'd' for a float: use .0f)", spec);
  if (x.int && precText !== undefined && (type === '' || type === 'd')) throw new InvalidArgumentError(where, 'no precision for an integer', spec);
  const precision = precText === undefined ? undefined : Number(precText);
  const value = x.value;
  const negative = value < 0 || (Object.is(value, -0) && !x.int);
  let body: string;
  if (x.int && (type === '' || type === 'd')) body = String(Math.abs(Math.trunc(value)));
  else body = formatFloat(Math.abs(value), type, precision, alt !== undefined);
  if (grouping) body = group(body, grouping);
  const positiveSign = signChar === '+' ? '+' : signChar === ' ' ? ' ' : '';
  // 'z' turns a negative zero (after rounding) into a positive one.
  const sign = negative && !(z && !/[1-9]/.test(body.split(/e/i)[0])) ? '-' : positiveSign;
  const width = widthText === undefined ? 0 : Number(widthText);
  const align = alignChar ?? (zero ? '=' : '>');
  const fill = alignChar ? (fillChar ?? ' ') : zero ? '0' : ' ';
  const pad = Math.max(0, width - sign.length - body.length);
  switch (align) {
    case '<':
      return sign + body + fill.repeat(pad);
    case '^':
      return fill.repeat(Math.floor(pad / 2)) + sign + body + fill.repeat(pad - Math.floor(pad / 2));
    case '=':
      return sign + fill.repeat(pad) + body;
    default:
      return fill.repeat(pad) + sign + body;
  }
}

/**
 * Python's `str.format(**fields)` for named numeric fields:
 * `weights.{epoch:02d}-{val_loss:.2f}.h5`. `{{` and `}}` are literal braces.
 * A missing field or a bad spec is an InvalidArgumentError naming it.
 */
export function pyFormat(template: string, fields: Record<string, PyNumber>, what = 'template'): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '}') {
      if (template[i + 1] !== '}') throw new InvalidArgumentError(what, "'}}' for a literal '}'", template);
      out += '}';
      i++;
      continue;
    }
    if (c !== '{') {
      out += c;
      continue;
    }
    if (template[i + 1] === '{') {
      out += '{';
      i++;
      continue;
    }
    const end = template.indexOf('}', i);
    if (end < 0) throw new InvalidArgumentError(what, "a '}' closing the field", template);
    const field = template.slice(i + 1, end);
    i = end;
    const colon = field.indexOf(':');
    let name = colon < 0 ? field : field.slice(0, colon);
    const spec = colon < 0 ? '' : field.slice(colon + 1);
    const bang = name.indexOf('!');
    if (bang >= 0) name = name.slice(0, bang); // !s and !r give the same digits for numbers
    if (!(name in fields))
      throw new InvalidArgumentError(`${what} '${template}'`, `fields among ${Object.keys(fields).join(', ') || '(none)'}`, `{${name}}`);
    out += spec === '' ? pyStr(fields[name]) : formatSpec(fields[name], spec, `${what} field {${field}}`);
  }
  return out;
}

/** `'%.4f' % x`, `'%.0f' % x`, `'%.4e' % x` (no flags): a shorthand for formatSpec on a float. */
export function pyPercent(x: number, spec: string): string {
  return formatSpec({ value: x, int: false }, spec);
}

function formatFloat(x: number, type: string, precision: number | undefined, alt: boolean): string {
  const upper = type === 'E' || type === 'F' || type === 'G';
  if (!Number.isFinite(x)) {
    const s = Number.isNaN(x) ? 'nan' : 'inf';
    return (upper ? s.toUpperCase() : s) + (type === '%' ? '%' : '');
  }
  switch (type) {
    case 'f':
    case 'F': {
      const s = toFixed(x, precision ?? 6);
      return alt && !s.includes('.') ? `${s}.` : s;
    }
    case '%':
      return `${toFixed(x * 100, precision ?? 6)}%`;
    case 'e':
    case 'E': {
      const s = toExp(x, precision ?? 6, alt);
      return upper ? s.toUpperCase() : s;
    }
    case 'g':
    case 'G': {
      const s = general(x, precision ?? 6, alt);
      return upper ? s.toUpperCase() : s;
    }
    default: {
      if (precision === undefined) return pyRepr(x);
      const s = general(x, precision, alt);
      return /[.e]/.test(s) ? s : `${s}.0`;
    }
  }
}

/** Fixed notation with `digits` decimals, ties to even on the exact value (JavaScript rounds them up). */
function toFixed(x: number, digits: number): string {
  if (digits > 79) return x.toFixed(Math.min(digits, 100));
  const s = x.toFixed(digits);
  const more = x.toFixed(digits + 21);
  const tail = more.slice(more.length - 21);
  if (tail !== `5${'0'.repeat(20)}`) return s; // not an exact tie
  // An exact tie: JavaScript rounded away from zero; Python keeps the even neighbour.
  const truncated = more.slice(0, more.length - 21);
  const lastDigit = Number(truncated.replace('.', '').slice(-1));
  const trimmed = truncated.endsWith('.') ? truncated.slice(0, -1) : truncated;
  return lastDigit % 2 === 0 ? trimmed : s;
}

/** Exponent notation with `digits` decimals in the mantissa: `1.2346e+03`. */
function toExp(x: number, digits: number, alt: boolean): string {
  let s = digits <= 79 ? x.toExponential(digits) : x.toExponential(Math.min(digits, 100));
  if (digits <= 79) {
    const more = x.toExponential(digits + 21);
    const [mant, exp] = more.split('e');
    const tail = mant.slice(mant.length - 21);
    if (tail === `5${'0'.repeat(20)}`) {
      const truncated = mant.slice(0, mant.length - 21);
      const lastDigit = Number(truncated.replace('.', '').slice(-1));
      if (lastDigit % 2 === 0) s = `${truncated.endsWith('.') ? truncated.slice(0, -1) : truncated}e${exp}`;
    }
  }
  const [mant, exp] = s.split('e');
  const e = Number(exp);
  const m = alt && !mant.includes('.') ? `${mant}.` : mant;
  return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** Python's 'g': `precision` significant digits, fixed or exponent by the exponent, trailing zeros dropped. */
function general(x: number, precision: number, alt: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (x === 0) return alt ? `0.${'0'.repeat(p - 1)}`.replace(/\.$/, '.') : '0';
  const exp = Number(toExp(x, p - 1, false).split('e')[1]);
  let s = exp >= -4 && exp < p ? toFixed(x, p - 1 - exp) : toExp(x, p - 1, alt);
  if (!alt) {
    const [mant, e] = s.split('e');
    const trimmed = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    s = e === undefined ? trimmed : `${trimmed}e${e}`;
  } else if (!s.includes('.')) {
    const [mant, e] = s.split('e');
    s = e === undefined ? `${mant}.` : `${mant}.e${e}`;
  }
  return s;
}

function group(body: string, sep: string): string {
  const m = /^(\d+)(.*)$/s.exec(body);
  if (!m) return body;
  return m[1].replace(/\B(?=(\d{3})+(?!\d))/g, sep) + m[2];
}
