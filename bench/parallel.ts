/**
 * `npm run bench:parallel`: data-parallel scaling on this machine's cores.
 * The MLP and the CNN of `npm run bench` are trained with one replica (one
 * worker thread of one thread) and with two replicas (two worker threads,
 * one thread each), on the same data with the same global batch, in one
 * run, alternating the order, after a warm-up. Prints the ratio of
 * samples/s (2 replicas over 1) for the replicas' default backend (compiled
 * steps on ONNX Runtime where it loads) and for eager wasm replicas, then
 * the all-reduce throughput of a 16 MB gradient buffer between 2 worker
 * threads in shared memory (algorithm bandwidth: buffer bytes over the time
 * of one all-reduce). Each of two replicas steps on half the global batch,
 * and a step on fewer rows is not proportionally cheaper: twice the samples/s
 * of one replica alone at half the batch, over one replica at the whole
 * batch, is printed as the ideal (two replicas that waited for nothing and
 * shared no core; each updates only half the weights, so they may pass it
 * by a little). For the compiled replicas, the same ratios follow with
 * Keras's steps_per_execution set to an epoch's steps (compile's
 * `stepsPerExecution`): each call of the replicas then takes that many
 * steps, with no message and no word from the main thread between them,
 * and the batch callbacks run once per call, as in Keras. Then one more
 * 2-replica run (one step per call)
 * prints where a step's CPU goes, thread by thread (Linux), and where each
 * replica's step time goes (ParallelModel.stepPhases): the gradient graph,
 * the wait for the go-ahead, the exchange (the sums and the waits for the
 * other replica), the update, and what lies outside its steps (waiting for
 * the next batch, the epochs' ends). For reference,
 * each model is also trained with plain
 * `fit` on the main thread (its default backend, all cores), and the peer:
 * PyTorch's data parallelism on CPU processes (DistributedDataParallel over
 * Gloo, bench/pytorch_ddp.py) with 1 and 2 processes of one thread each,
 * same data, same global batch, in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rx from '../src/index.js';
import { configureDevices, disposeDevices, getDevice } from '../src/parallel/devices.js';
import { DeviceGroup } from '../src/parallel/device-group.js';
import { caseData, cases, pytorchDdpPair, type Case } from './cases.js';
import { threadCpuMs } from './thread-cpu.js';
import type { StepPhases } from '../src/parallel/step-phases.js';

await rx.initBackend();
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 16); // ~2-4 s per timing: shorter ones swung by 10%
// Steps of the 2-replica warm-up of each case: V8 optimises the functions that run once a step only after some 400-500
// steps (the larger, the later), and each compile takes its helper thread 10-30 ms on the cores the replicas need
// (bench:distributed's CPU per step shows it: see its WARMUP_STEPS). After 1000 steps the timings see the steady state.
const WARMUP_STEPS = Number(process.env.BENCH_WARMUP_STEPS ?? 1000);
const ALLREDUCE_BYTES = 16 << 20;
const backends = rx.ops.chosenBackend() === 'compiled' ? (['compiled', 'wasm'] as const) : (['wasm'] as const);

/** Wraps the timed fit `f` (to measure around it), given the parallel model it trains (none for plain fit). */
type Timed = (f: () => Promise<unknown>, parallel?: rx.ParallelModel) => Promise<unknown>;

/**
 * samples/s of `fit` of `epochs` epochs at `batchSize` after a one-epoch
 * warm-up: over `replicas` worker replicas (multiGpuModel), or plain on the
 * main thread (0).
 */
async function samplesPerSecond(
  c: Case,
  replicas: number,
  x: rx.ops.Tensor,
  y: rx.ops.Tensor,
  { epochs = EPOCHS, timed = (f) => f(), batchSize = c.batchSize, stepsPerExecution = 1 }: { epochs?: number; timed?: Timed; batchSize?: number; stepsPerExecution?: number } = {},
): Promise<number> {
  const model = new rx.Sequential({ layers: c.rxkeras() });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', stepsPerExecution }, 1);
  const parallel = replicas > 0 ? rx.multiGpuModel(model, { gpus: replicas }) : undefined;
  const fit = (epochs: number) => {
    const options = { batchSize, epochs, verbose: 0 as const };
    return parallel ? parallel.fit(x, y, options) : model.fit(x, y, options);
  };
  await fit(1); // warm-up
  const start = performance.now();
  await timed(() => fit(epochs), parallel);
  const seconds = (performance.now() - start) / 1000;
  await parallel?.close();
  model.dispose();
  return (c.samples * epochs) / seconds;
}

/**
 * CPU milliseconds per step of this process's threads during the timed fit
 * that `run` wraps (see threadCpuMs): the main
 * thread, the two busiest others (the replicas' worker threads), and the
 * rest (V8's compiler and collector helpers, ONNX Runtime's, libuv's);
 * undefined where /proc has no per-thread counters.
 */
async function threadShares(run: (timed: (f: () => Promise<unknown>) => Promise<unknown>) => Promise<unknown>, steps: number): Promise<string | undefined> {
  const read = threadCpuMs;
  let before: Map<number, number> | undefined;
  let after: Map<number, number> | undefined;
  await run(async (f) => {
    before = read();
    await f();
    after = read();
  });
  if (!before || !after) return undefined;
  const used = [...after].map(([tid, ms]) => [tid, ms - (before!.get(tid) ?? 0)] as const);
  const perStep = (ms: number) => (ms / steps).toFixed(2);
  const others = used.filter(([tid]) => tid !== process.pid).map(([, ms]) => ms).sort((a, b) => b - a);
  const main = used.find(([tid]) => tid === process.pid)?.[1] ?? 0;
  return `main thread ${perStep(main)} ms, replicas ${others.slice(0, 2).map(perStep).join(' and ')} ms, other threads ${perStep(others.slice(2).reduce((a, b) => a + b, 0))} ms`;
}

/** Each replica's phases per step (replica by replica), and the rest of the wall time `wallMs` of a step. */
function phaseTimes(phases: StepPhases[], wallMs: number): string {
  const each = (f: (p: StepPhases) => number) => phases.map((p) => (f(p) / p.steps).toFixed(2)).join(' and ');
  const inside = (p: StepPhases) => p.gradients + p.goAhead + p.exchange + p.update;
  return `wall ${wallMs.toFixed(2)}; gradients ${each((p) => p.gradients)}, go-ahead ${each((p) => p.goAhead)}, exchange ${each((p) => p.exchange)}, update ${each((p) => p.update)}; outside the steps ${each((p) => wallMs * p.steps - inside(p))}`;
}

// A case's random inputs and one-hot targets (seeded: the same in every run), also written for PyTorch.
const dir = mkdtempSync(join(tmpdir(), 'rxkeras-bench-parallel-'));
const data = (c: Case) => caseData(c, dir);

// For reference: plain fit on the main thread, as a user with one device would train.
for (const c of cases) {
  const { x, y } = data(c);
  console.log(`${c.name} batch ${c.batchSize}, plain fit on the main thread (${rx.ops.describeBackend()}): ${(await samplesPerSecond(c, 0, x, y)).toFixed(0)} samples/s`);
  rx.ops.dispose([x, y]);
}

for (const backend of backends) {
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1, backend });
  const label = backend === backends[0] ? '' : ` (${backend} replicas)`;
  console.log(`devices: ${rx.listDevices().map((d) => `${d.name} (${d.transport}, ${d.backend}, ${d.threads} thread)`).join(', ')}; epochs timed: ${EPOCHS}, after ${WARMUP_STEPS} warm-up steps`);
  for (const c of cases) {
    const { x, y } = data(c);
    // Both workers warm first: a worker's first epochs run while V8 still compiles its hot code, and a fit's own one-epoch
    // warm-up left /cpu:2 cold for the first 2-replica timing (compiling on the core the other replica needs).
    await samplesPerSecond(c, 2, x, y, { epochs: Math.ceil(WARMUP_STEPS / (c.samples / c.batchSize)) });
    // Alternate the order so that neither always runs on a warmer machine.
    const ratios = async (stepsPerExecution: number) => {
      const what = stepsPerExecution > 1 ? `, steps_per_execution ${stepsPerExecution}` : '';
      const named = `${label}${what}`;
      const rate = (replicas: number, batchSize = c.batchSize) => samplesPerSecond(c, replicas, x, y, { batchSize, stepsPerExecution });
      const one1 = await rate(1);
      const two1 = await rate(2);
      const half1 = await rate(1, c.batchSize / 2);
      const half2 = await rate(1, c.batchSize / 2);
      const two2 = await rate(2);
      const one2 = await rate(1);
      const one = (one1 + one2) / 2;
      const two = (two1 + two2) / 2;
      const half = (half1 + half2) / 2;
      // The runs themselves too: on a shared 2-core machine they swing by 10-20% from minute to minute.
      const runs = (a: number, b: number) => `${a.toFixed(0)}, ${b.toFixed(0)}`;
      console.log(`${c.name} batch ${c.batchSize}, ${backend} replicas${what}: 1 replica ${one.toFixed(0)} samples/s (runs ${runs(one1, one2)}), 2 replicas ${two.toFixed(0)} samples/s (runs ${runs(two1, two2)})`);
      console.log(`data-parallel scaling ${c.name} 2 replicas${named}: ${(two / one).toFixed(2)}`);
      // Each of 2 replicas steps on half the batch: twice one replica alone at that batch is the ideal (see the file's comment).
      console.log(`${c.name} batch ${c.batchSize / 2} (a replica's shard), ${backend} replicas${what}: 1 replica ${half.toFixed(0)} samples/s (runs ${runs(half1, half2)})`);
      console.log(`data-parallel scaling ideal ${c.name} 2 replicas${named} (twice 1 replica at batch ${c.batchSize / 2}, over 1 replica at batch ${c.batchSize}): ${((2 * half) / one).toFixed(2)}`);
    };
    await ratios(1);
    // Keras's steps_per_execution: a call of the replicas takes a whole epoch's steps, and the main thread does nothing between them.
    if (backend === 'compiled') await ratios(c.samples / c.batchSize);
    // Where a 2-replica step's CPU and each replica's time go: once more, outside the ratio.
    if (backend === 'compiled') {
      const steps = (c.samples / c.batchSize) * EPOCHS;
      let phases = '';
      const shares = await threadShares(
        (cpu) =>
          samplesPerSecond(c, 2, x, y, {
            timed: async (f, parallel) => {
              await parallel!.stepPhases(); // from here
              const start = performance.now();
              await cpu(f);
              phases = phaseTimes(await parallel!.stepPhases(), (performance.now() - start) / steps);
            },
          }),
        steps,
      );
      if (shares) console.log(`${c.name} 2 compiled replicas, CPU per step: ${shares}`);
      console.log(`${c.name} 2 compiled replicas, ms per step: ${phases}`);
    }
    rx.ops.dispose([x, y]);
  }
}

// The peer: PyTorch with 1 and 2 single-threaded processes, alternating as above.
for (const c of cases) {
  const peer = await pytorchDdpPair(c, dir, EPOCHS);
  if (!peer) break;
  console.log(`${c.name} batch ${c.batchSize}, pytorch ddp (gloo): 1 process ${peer.one.toFixed(0)} samples/s, 2 processes ${peer.two.toFixed(0)} samples/s`);
  console.log(`pytorch ddp scaling ${c.name} 2 processes: ${(peer.two / peer.one).toFixed(2)}`);
}
rmSync(dir, { recursive: true, force: true });

const devices = [getDevice('/cpu:1'), getDevice('/cpu:2')];
const floats = ALLREDUCE_BYTES / 4;
const group = new DeviceGroup(devices, { capacity: floats });
const worker = new URL('./parallel-worker.ts', import.meta.url);
const seconds = await Promise.all(devices.map((d, rank) => d.call<number>(worker, 'allReduceRounds', { group: group.descriptor, rank, floats, rounds: 20, warmup: 3 })));
group.close();
const slowest = Math.max(...seconds);
console.log(`allreduce 16 MB, 2 worker threads: ${(slowest * 1000).toFixed(2)} ms each`);
console.log(`allreduce GB/s: ${(ALLREDUCE_BYTES / 1e9 / slowest).toFixed(2)}`);
await disposeDevices();
