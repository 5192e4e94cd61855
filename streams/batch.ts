import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeAll, stackElements } from './element.js';
import { stage } from './internal/stage.js';

export interface BatchOptions {
  /** Drop a last batch smaller than `size` (default false: Keras keeps it). */
  dropRemainder?: boolean;
}

/**
 * Stacks `size` consecutive elements into one (a new leading axis on every
 * tensor). Asks upstream for `size` rows per batch it was asked for, so no
 * more than one partial batch waits here; the rows are disposed once stacked.
 */
export function batch<T>(size: number): DatasetOperator<T, T>;
export function batch<T>(size: number, options: BatchOptions): DatasetOperator<T, T>;
export function batch<T>(size: number, options: BatchOptions = {}): DatasetOperator<T, T> {
  if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError('batch size', 'a positive integer', size);
  const drop = options.dropRemainder ?? false;
  return (source) => {
    const n = source.length;
    return new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          let rows: T[] = [];
          const flush = (): void => {
            const taken = rows;
            rows = [];
            try {
              io.emit(stackElements(taken, 'batch'));
            } finally {
              disposeAll(taken);
            }
          };
          const up = io.connect(source, {
            next(v) {
              rows.push(v);
              if (rows.length === size) flush();
            },
            complete() {
              if (rows.length > 0 && !drop) flush();
              io.complete();
            },
          });
          return {
            pull() {
              const need = io.wanted() * size - rows.length - up.outstanding();
              if (need > 0) up.request(need);
            },
            teardown() {
              disposeAll(rows);
              rows = [];
            },
          };
        }),
      n === undefined ? {} : { length: drop ? Math.floor(n / size) : Math.ceil(n / size) },
    );
  };
}
