import path from 'node:path';
import { ModelServer } from '../serving/index.js';
import { modelFormat } from './model-format.js';
import { loadModelSource } from './model-source.js';

export interface ServeOptions {
  /** The i-th name names the i-th model; the rest are named after their files. */
  name?: string[];
  /** Weights for the .json / .yaml models, in their order. */
  weights?: string[];
  host: string;
  port: number;
  maxBatchSize: number;
  maxDelayMs: number;
  maxQueue: number;
}

/** A model's name: the i-th --name, else its file name without the extension. */
function servedNames(files: readonly string[], names: readonly string[] = []): string[] {
  return files.map((file, i) => names[i] ?? path.parse(file).name);
}

/**
 * `rxkeras serve`: loads each model (a name given twice serves versions 1,
 * 2, ...), serves them over TF Serving's REST API, prints where, and runs
 * until SIGINT or SIGTERM; then it answers every request it has accepted and
 * resolves with a line for stderr.
 */
export async function serveCommand(files: string[], options: ServeOptions, print: (line: string) => Promise<void>): Promise<string[]> {
  const server = new ModelServer(options);
  const names = servedNames(files, options.name);
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const served: { name: string; version: number; file: string }[] = [];
    let w = 0;
    for (const [i, file] of files.entries()) {
      const { model } = await loadModelSource(file, ['h5', 'tfjs'].includes(modelFormat(file)) ? undefined : options.weights?.[w++]);
      served.push({ name: names[i], version: server.models.load(names[i], model, { dispose: true }).version, file });
    }
    const url = await server.listen();
    for (const s of served) await print(`rxkeras: serving ${s.name} version ${s.version} (${s.file}) at ${url}/v1/models/${encodeURIComponent(s.name)}`);
    const signal = await stopped;
    await server.close();
    return [`${signal}: answered the requests in hand, stopped`];
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await server.close();
  }
}
