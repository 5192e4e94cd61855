import type { Tensor } from '../../src/ops/index.js';
import type { Example } from '../element.js';

/** Which HDF5 data sets make x, y and sampleWeight. */
export interface Hdf5Columns {
  /** Data set path(s) for x; several make x an array (a multi-input model). */
  x: string | readonly string[];
  y?: string | readonly string[];
  sampleWeight?: string;
}

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

/** The data set names in column order (x, then y, then sampleWeight), and the Example made of one tensor per column. */
export function exampleColumns(options: Hdf5Columns): { names: string[]; example(values: readonly Tensor[]): Example } {
  const xs = list(options.x);
  const ys = list(options.y);
  const ws = list(options.sampleWeight);
  const pick = (values: readonly Tensor[], from: number, n: number, multi: boolean): Tensor | Tensor[] => (multi ? values.slice(from, from + n) : values[from]);
  return {
    names: [...xs, ...ys, ...ws],
    example(values) {
      const e: Example = { x: pick(values, 0, xs.length, typeof options.x !== 'string') };
      if (ys.length > 0) e.y = pick(values, xs.length, ys.length, typeof options.y !== 'string');
      if (ws.length > 0) e.sampleWeight = values[xs.length + ys.length];
      return e;
    },
  };
}
