import { plotModel, type PlotModelOptions } from '../plot/index.js';
import { loadModelSource } from './model-source.js';

export interface PlotOptions extends PlotModelOptions {
  /** A .svg, .png or .dot file. */
  output: string;
}

/** `rxkeras plot MODEL --output model.svg`: Keras's plot_model picture of the model's graph. */
export async function plotCommand(modelFile: string, options: PlotOptions): Promise<void> {
  const { model } = await loadModelSource(modelFile);
  try {
    const { output, ...plot } = options;
    await plotModel(model, output, plot);
  } finally {
    model.dispose();
  }
}
