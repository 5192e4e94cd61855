/**
 * `npm run bench:distributed`: all-reduce throughput of a 64 MB float32
 * buffer between 2 processes on loopback through the Gloo collective (ring
 * and bcube), after a warm-up. GB/s is algorithm bandwidth: buffer bytes over
 * the time of one all-reduce (for 2 members the bus bandwidth is the same).
 * The bench launches itself: the parent runs `launch`, the children measure.
 */
import { initDistributed } from '../src/parallel/init-distributed.js';
import { launch } from '../src/parallel/launcher.js';

const BYTES = 64 << 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

async function member(): Promise<void> {
  for (const algorithm of ['ring', 'bcube'] as const) {
    const group = await initDistributed({ algorithm, runId: `${process.env.RXKERAS_RUN_ID}-${algorithm}` });
    const buffer = new Float32Array(BYTES / 4).fill(1);
    await group.allReduce(buffer); // warm-up: connections, page faults
    await group.barrier();
    const start = process.hrtime.bigint();
    for (let i = 0; i < ROUNDS; i++) await group.allReduce(buffer);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9 / ROUNDS;
    if (group.rank === 0) {
      console.log(`allreduce gloo ${algorithm} 2 processes 64 MB: ${(BYTES / 1e9 / seconds).toFixed(2)} GB/s (${(seconds * 1000).toFixed(1)} ms each)`);
    }
    await group.close();
  }
}

if (process.env.RXKERAS_RANK === undefined) {
  console.log('shared-memory collective (several devices, #9): not on main yet, so Gloo alone');
  process.exitCode = await launch({ script: new URL(import.meta.url).pathname, nproc: 2 });
} else {
  await member();
}
