import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import * as ops from '../src/ops/index.js';
import { CsvFormatError, InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import type { Example } from './element.js';
import { fromAsyncIterable } from './from-async-iterable.js';
import { map } from './map.js';

export interface FromCsvOptions {
  /** Columns of x, by header name (needs a header row) or 0-based index. */
  x: readonly (string | number)[];
  /** Columns of y; one column gives a scalar y per row, several a vector. */
  y?: readonly (string | number)[];
  /** Whether the first record is a header (default: true when any column is named). */
  header?: boolean;
  delimiter?: string;
}

interface Record_ {
  record: string[];
  info: { lines: number };
}

/**
 * A data set streamed from a CSV file with csv-parse: records are parsed as
 * the consumer asks for them (the file stream pauses otherwise). Every pass
 * reads the file again. A non-numeric cell fails the pass with CsvFormatError
 * naming the file, line and column.
 */
export function fromCsv(file: string, options: FromCsvOptions): Dataset<Example> {
  const named = [...options.x, ...(options.y ?? [])].some((c) => typeof c === 'string');
  const header = options.header ?? named;
  if (named && !header) throw new InvalidArgumentError('fromCsv columns', 'column indices when there is no header', options.x);
  let names: string[] | undefined;
  const records = () =>
    createReadStream(file).pipe(
      parse({
        delimiter: options.delimiter ?? ',',
        info: true,
        trim: true,
        skip_empty_lines: true,
      }),
    ) as AsyncIterable<Record_>;
  async function* rows(): AsyncGenerator<{ values: number[][]; line: number }> {
    let first = header;
    for await (const { record, info } of records()) {
      if (first) {
        names = record;
        first = false;
        continue;
      }
      const cols = (spec: readonly (string | number)[]): number[] =>
        spec.map((c) => {
          const i = typeof c === 'number' ? c : (names ?? []).indexOf(c);
          if (i < 0 || i >= record.length) throw new CsvFormatError(file, info.lines, String(c), `no such column (have ${(names ?? record).length})`);
          const cell = record[i];
          const v = Number(cell);
          if (cell === '' || Number.isNaN(v)) throw new CsvFormatError(file, info.lines, String(c), `expected a number, got '${cell}'`);
          return v;
        });
      yield { values: [cols(options.x), cols(options.y ?? [])], line: info.lines };
    }
  }
  return fromAsyncIterable(rows, { name: `fromCsv(${file})` }).pipe(
    map(({ values: [x, y] }: { values: number[][] }) => {
      const e: Example = { x: ops.tensor1d(x) };
      if (options.y) e.y = y.length === 1 ? ops.scalar(y[0]) : ops.tensor1d(y);
      return e;
    }),
  );
}
