import fs from 'node:fs';
import { atomicWrite } from '../io/index.js';
import type { Model } from '../models/model.js';
import { dotToSvg } from './graphviz.js';
import { modelToDot, type PlotModelOptions } from './model-to-dot.js';
import { pictureFormat, writePicture } from './write-picture.js';

/**
 * Keras's `plot_model`: draws the model's graph (one box per layer,
 * `name: Class`, shapes with `showShapes`, nested models as clusters with
 * `expandNested`) to `file`, as `.svg`, `.png` or `.dot` by its extension.
 */
export async function plotModel(model: Model, file: string, options: PlotModelOptions = {}): Promise<void> {
  const format = pictureFormat(file, ['svg', 'png', 'dot'] as const, 'plotModel');
  const dot = modelToDot(model, options);
  if (format === 'dot') await atomicWrite(file, async (tmp) => fs.writeFileSync(tmp, dot));
  else await writePicture(file, await dotToSvg(dot), format);
}
