import { Worker } from 'node:worker_threads';

// Worker threads do not inherit tsx's hooks (Node 20): register it, then import the module.
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
(async () => { (await import(workerData.tsx)).register(); await import(workerData.module); })().catch((e) => { setImmediate(() => { throw e; }); });`;

/** A worker thread running the TypeScript module at `module`, which reads `data` as its workerData (plus `tsx` and `module`). */
export function tsWorker(module: URL, data: Record<string, unknown>): Worker {
  return new Worker(BOOTSTRAP, { eval: true, workerData: { ...data, tsx: import.meta.resolve('tsx/esm/api'), module: module.href } });
}
