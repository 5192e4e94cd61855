import * as ops from '../src/ops/index.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeReplaced, disposeTree } from '../src/core/tree.js';
import { stage } from './internal/stage.js';

/** Runs `project` inside `tidy`; tensors of the input that the output does not carry over are disposed. */
export function applyOwned<A, B>(value: A, index: number, project: (value: A, index: number) => B): B {
  let out: B;
  try {
    out = ops.tidy(() => project(value, index) as never) as B;
  } catch (err) {
    disposeTree(value);
    throw err;
  }
  disposeReplaced(value, out);
  return out;
}

/**
 * Transforms each element with a synchronous `project`, run inside `tidy`:
 * intermediate tensors are freed, and the input's tensors that the output
 * does not reuse are disposed. Keeps random access (a mapped indexable data
 * set can still be shuffled by index). `index` is the position in the pass.
 */
export function map<A, B>(project: (value: A) => B): DatasetOperator<A, B>;
export function map<A, B>(project: (value: A, index: number) => B): DatasetOperator<A, B>;
export function map<A, B>(project: (value: A, index: number) => B): DatasetOperator<A, B> {
  return (source) => {
    const base = source.info.indexed;
    return new Dataset<B>(
      (demand, pass = FIRST_PASS) =>
        stage<B>(demand, pass, (io) => {
          let index = 0;
          const up = io.connect(source, {
            next: (v) => io.emit(applyOwned(v, index++, project)),
            complete: () => io.complete(),
          });
          return {
            pull() {
              const need = io.wanted() - up.outstanding();
              if (need > 0) up.request(need);
            },
          };
        }),
      {
        length: source.length,
        shuffled: source.info.shuffled,
        indexed: base && {
          length: base.length,
          read(indices, pass) {
            const values = base.read(indices, pass);
            const out: B[] = [];
            try {
              values.forEach((v, k) => out.push(applyOwned(v, indices[k], project)));
            } catch (err) {
              values.slice(out.length + 1).forEach(disposeTree);
              out.forEach(disposeTree);
              throw err;
            }
            return out;
          },
        },
      },
    );
  };
}
