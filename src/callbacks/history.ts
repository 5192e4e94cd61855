import { tap } from 'rxjs';
import type { Callback } from '../training/events.js';
import type { FitParams } from '../training/events.js';

/** Keras's `History`: every epoch's logs, one list per log name. */
export class History {
  readonly history: Record<string, number[]> = {};
  readonly epoch: number[] = [];
  params: FitParams | undefined;

  /** The callback that fills this History. */
  readonly callback: Callback = tap((e) => {
    if (e.type === 'fitStart') this.params = e.params;
    if (e.type !== 'epochEnd') return;
    this.epoch.push(e.epoch);
    for (const [k, v] of Object.entries(e.logs)) (this.history[k] ??= []).push(v);
  });
}
