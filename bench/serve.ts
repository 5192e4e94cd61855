/**
 * `npm run bench:serve`: the bench's MLP (784-512-512-10, bench/fit-throughput.ts)
 * served over TF Serving's REST API on 127.0.0.1, loaded by autocannon with
 * 64 connections for a bounded time, once with micro-batching on and once
 * with maxBatchSize 1 (each request its own predict call). The server runs
 * in a child process so that the load generator does not share its event
 * loop. Prints requests/s of each, their ratio, and the p99 latency with
 * batching on.
 *
 * SERVE_BENCH_SECONDS (default 10) sets each measured run's length, after a
 * warm-up of a third of it.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import * as rx from '../src/index.js';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.SERVE_BENCH_SECONDS ?? 10);

if (process.env.SERVE_BENCH_ROLE === 'server') await runServer();
else await runBench();

/** The child: serves the MLP with the batching settings it is given, until SIGTERM. */
async function runServer(): Promise<void> {
  await rx.initBackend({ quiet: true });
  const model = new rx.Sequential({
    layers: [
      rx.Dense({ units: 512, activation: 'relu', input_shape: [784] }),
      rx.Dense({ units: 512, activation: 'relu' }),
      rx.Dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.build(1);
  const server = await rx.startServer({ port: 0, maxBatchSize: Number(process.env.SERVE_BENCH_MAX_BATCH), maxDelayMs: 2, maxQueue: 4096 });
  server.models.load('mlp', model, { dispose: true });
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
  process.stdout.write(`${server.url}\n`);
}

interface Measured {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function runBench(): Promise<void> {
  console.log(`serve bench: MLP 784-512-512-10, ${CONNECTIONS} connections, ${SECONDS} s per run, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  // 32 different one-row requests, as a client would send them.
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const bodies = Array.from({ length: 32 }, () => JSON.stringify({ instances: [Array.from({ length: 784 }, () => Math.round(next() * 1000) / 1000)] }));
  const batched = await measure(64, bodies);
  const unbatched = await measure(1, bodies);
  for (const [name, m] of [['batched (maxBatchSize 64)', batched], ['unbatched (maxBatchSize 1)', unbatched]] as const)
    console.log(`${name}: ${m.rps.toFixed(0)} requests/s, p99 ${m.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors}`);
  console.log(`serve batched/unbatched throughput ratio: ${(batched.rps / unbatched.rps).toFixed(2)}`);
  console.log(`serve p99 ms: ${batched.p99}`);
}

/** Starts a server child with this batch size, warms it up, then measures. */
async function measure(maxBatchSize: number, bodies: string[]): Promise<Measured> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, SERVE_BENCH_ROLE: 'server', SERVE_BENCH_MAX_BATCH: String(maxBatchSize) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server child did not start in 60 s')), 60_000);
      child.stdout.once('data', (d) => {
        clearTimeout(timer);
        resolve(String(d).trim());
      });
      child.once('exit', (code) => reject(new Error(`the server child exited with ${code}`)));
    });
    const load = (duration: number) =>
      autocannon({
        url: `${url}/v1/models/mlp:predict`,
        connections: CONNECTIONS,
        duration,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: bodies.map((body) => ({ body })),
      });
    await load(Math.max(1, Math.round(SECONDS / 3)));
    const r = await load(SECONDS);
    return { rps: r.requests.total / r.duration, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
  } finally {
    child.kill('SIGTERM');
  }
}
