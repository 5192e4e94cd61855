import { loadModelSource } from './model-source.js';

export interface SummaryOptions {
  weights?: string;
}

/** `rxkeras summary MODEL [--weights W.h5]`: Keras's summary table, returned as text. */
export async function summaryCommand(modelFile: string, options: SummaryOptions): Promise<string> {
  const { model } = await loadModelSource(modelFile, options.weights);
  try {
    return `${model.summary(() => {})}\n`;
  } finally {
    model.dispose();
  }
}
