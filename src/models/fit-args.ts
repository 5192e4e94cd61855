import { lastValueFrom, type Observable } from 'rxjs';
import { Dataset, type Example } from '../../streams/index.js';
import type { DataArg } from '../training/data.js';
import type { Callback, FitEvent } from '../training/events.js';
import type { FitData, FitOptions } from '../training/fit.js';
import { History } from '../callbacks/history.js';
import { progbar } from '../callbacks/progbar.js';

/** `(x, y, options)` or `(dataset, options)`: the arguments of `fit` and `fit$`. */
export function fitArgs(args: unknown[]): [FitData, (FitOptions & { callbacks?: Callback[] }) | undefined] {
  if (args[0] instanceof Dataset) return [{ dataset: args[0] as Dataset<Example> }, args[1] as FitOptions | undefined];
  return [{ x: args[0] as DataArg, y: args[1] as DataArg }, args[2] as FitOptions | undefined];
}

/**
 * Keras `fit` over an event stream (a model's, the replicas' or a
 * distributed group's): the user's callbacks, then History and the progress
 * bar, run to the end; resolves with the History.
 */
export async function fitWithCallbacks(events: Observable<FitEvent>, callbacks: readonly Callback[], verbose: 0 | 1 | 2 = 1): Promise<History> {
  const history = new History();
  const all = [...callbacks, history.callback, progbar({ verbose })];
  await lastValueFrom(all.reduce((s, op) => s.pipe(op), events), { defaultValue: undefined });
  return history;
}
