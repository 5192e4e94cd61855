/**
 * Named error classes. Each message says what was expected, what was found,
 * and where. Inside streams they travel on the error channel; at I/O edges
 * they are the Left of an Either.
 */

export class RxKerasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A function argument is out of its domain (batch size < 1, split outside [0, 1), ...). */
export class InvalidArgumentError extends RxKerasError {
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`${argument}: expected ${expected}, got ${describe(found)}`);
  }
}

/** A config field failed to decode; `path` is the dotted path of the bad field. */
export class ConfigDecodeError extends RxKerasError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly found: unknown,
    readonly where = '',
  ) {
    super(`${where ? `${where}: ` : ''}config field '${path}': expected ${expected}, got ${describe(found)}`);
  }
}

export class ShapeMismatchError extends RxKerasError {
  constructor(
    readonly where: string,
    readonly expected: readonly (number | null)[] | string,
    readonly found: readonly (number | null)[] | string,
  ) {
    super(`${where}: expected shape ${fmtShape(expected)}, got ${fmtShape(found)}`);
  }
}

export class UnknownLayerError extends RxKerasError {
  constructor(
    readonly className: string,
    readonly known: readonly string[],
  ) {
    super(
      `unknown layer class_name '${className}'. Known: ${known.join(', ')}. ` +
        `Register your own with registerLayer('${className}', fromConfig).`,
    );
  }
}

/** An activation, loss, metric, optimizer, initializer ... name that is not in its table; `hint` says how to register one. */
export class UnknownNameError extends RxKerasError {
  constructor(
    readonly kind: string,
    readonly value: string,
    readonly known: readonly string[],
    hint?: string,
  ) {
    super(`unknown ${kind} '${value}'. Known: ${known.join(', ')}${hint ? `. ${hint}` : ''}`);
  }
}

export class NotCompiledError extends RxKerasError {
  constructor(what: string) {
    super(`${what} needs a compiled model: call model.compile({ optimizer, loss }) first`);
  }
}

export class NotBuiltError extends RxKerasError {
  constructor(what: string) {
    super(`${what}: the model has no weights yet; give the first layer an inputShape or call build(inputShape)`);
  }
}

export class Hdf5FormatError extends RxKerasError {
  constructor(
    readonly file: string,
    readonly location: string,
    detail: string,
  ) {
    super(`${file}${location ? `:${location}` : ''}: ${detail}`);
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value) && value.length > 8) return `array of length ${value.length}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function fmtShape(s: readonly (number | null)[] | string): string {
  return typeof s === 'string' ? s : `[${s.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

/** A data set has no element where at least one is needed (`where` names the source or split). */
export class EmptyDatasetError extends RxKerasError {
  constructor(readonly where: string, detail = 'the data set is empty') {
    super(`${where}: ${detail}`);
  }
}

/** Parts of one data set (x, y, sample weights) disagree on their number of rows. */
export class DataCardinalityError extends RxKerasError {
  constructor(
    readonly where: string,
    readonly lengths: Readonly<Record<string, number>>,
  ) {
    super(
      `${where}: data cardinality is ambiguous: expected x, y and sampleWeight to have the same number of rows, got ` +
        Object.entries(lengths).map(([k, n]) => `${k}: ${n}`).join(', '),
    );
  }
}

/** An HDF5 data set is missing, or a row range lies outside it. */
export class Hdf5RangeError extends RxKerasError {
  constructor(
    readonly file: string,
    readonly dataset: string,
    readonly range: readonly [number, number],
    detail: string,
  ) {
    super(`${file}:/${dataset.replace(/^\//, '')} rows [${range[0]}, ${range[1]}): ${detail}`);
  }
}

/** Reading rows of an HDF5 data set failed (a corrupt or shortened file, a reader thread that stopped). */
export class Hdf5ReadError extends RxKerasError {
  constructor(
    readonly file: string,
    readonly dataset: string,
    readonly rows: readonly [number, number],
    readonly detail: string,
  ) {
    super(`${file}:/${dataset.replace(/^\//, '')} rows [${rows[0]}, ${rows[1]}): ${detail}`);
  }
}

/** A push source (an Observable) produced more than its bounded buffer may hold. */
export class BufferOverflowError extends RxKerasError {
  constructor(
    readonly where: string,
    readonly limit: number,
  ) {
    super(`${where}: a push source outran its consumer: more than ${limit} elements buffered. ` +
      'Raise bufferSize, or use a pull source (fromAsyncIterable, fromGenerator) that waits for demand');
  }
}

/** A CSV record could not be turned into numbers. */
export class CsvFormatError extends RxKerasError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: string,
    detail: string,
  ) {
    super(`${file}:${line}: column ${column}: ${detail}`);
  }
}
