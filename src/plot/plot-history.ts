import * as vega from 'vega';
import * as vl from 'vega-lite';
import { InvalidArgumentError } from '../core/errors.js';
import type { History } from '../callbacks/history.js';
import { pictureFormat, writePicture } from './write-picture.js';

export interface PlotHistoryOptions {
  /** Size of one panel in pixels (default 320 x 220). */
  width?: number;
  height?: number;
}

/** What `plotHistory` takes: a History, or its `history` record (log name -> one value per epoch). */
export type HistoryLike = History | { history: Record<string, number[]>; epoch?: number[] };

/**
 * The training curves of a `fit`: one panel per metric (loss, accuracy, ...)
 * with one line per log key, training and its `val_` twin in two colours,
 * over the epoch number (1-based, as the progress bar counts), drawn with
 * Vega-Lite to `.svg` or `.png`.
 */
export async function plotHistory(history: HistoryLike, file: string, options: PlotHistoryOptions = {}): Promise<void> {
  const format = pictureFormat(file, ['svg', 'png'] as const, 'plotHistory');
  await writePicture(file, await historySvg(history, options), format);
}

/** The SVG that {@link plotHistory} writes. */
export async function historySvg(history: HistoryLike, options: PlotHistoryOptions = {}): Promise<string> {
  const keys = Object.keys(history.history);
  if (keys.length === 0) throw new InvalidArgumentError('plotHistory history', 'at least one log key (a History after fit)', history.history);
  const epochs = history.epoch ?? [];
  const rows = keys.flatMap((key) =>
    history.history[key].map((value, i) => ({
      epoch: (epochs[i] ?? i) + 1,
      value,
      key,
      metric: key.replace(/^val_/, ''),
      split: key.startsWith('val_') ? 'validation' : 'training',
    })),
  );
  const spec: vl.TopLevelSpec = {
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: [...new Set(rows.map((r) => r.metric))], header: { labelFontSize: 14 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: options.width ?? 320,
      height: options.height ?? 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 }, scale: { nice: false } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
        color: { field: 'split', type: 'nominal', title: null, sort: ['training', 'validation'] },
        // One line per log key; its name labels the line in the SVG (aria-label), for readers and tests.
        detail: { field: 'key' },
        description: { field: 'key' },
      },
    },
    config: { font: 'DejaVu Sans', background: 'white' },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
