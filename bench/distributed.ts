/**
 * `npm run bench:distributed`, on one host:
 * 1. all-reduce throughput of a 64 MB float32 buffer between 2 processes
 *    through Gloo over loopback TCP (ring and bcube) and through the memory
 *    the processes of one host share (the default under `launch`), and
 *    between 2 worker threads through the shared-memory collective, after a
 *    warm-up; GB/s is algorithm bandwidth, buffer bytes over the time of one
 *    all-reduce (for 2 members the bus bandwidth is the same); and between
 *    4 processes as 2 hosts of 2 (two launches on this host): Gloo's ring
 *    over all 4, and two tiers (host memory, then one Gloo group per local
 *    rank across the hosts);
 * 2. `distributed scaling 2 processes: S`: the bench's MLP (784-512-512-10,
 *    global batch 128, Adam) trained by 2 single-threaded processes with
 *    DistributedStep over 1 single-threaded process with the plain step;
 *    samples/s of BENCH_STEPS steps after BENCH_WARMUP_STEPS, each run
 *    BENCH_TRAIN_ROUNDS times in alternating order; with compiled steps
 *    (the default backend) as launch runs them (all-reduces in host
 *    memory, the update sharded in place), then over Gloo's TCP
 *    (RXKERAS_HOST_MEMORY=0), then with eager wasm steps (host memory).
 *    Each of 2 processes steps on half the global batch, and a step on
 *    fewer rows is not proportionally cheaper: twice the samples/s of 1
 *    process at batch 64, over 1 process at 128, is printed as a
 *    reference (processes that waited for nothing; but each of 2 updates
 *    only half the weights, in place, where 1 process updates them all
 *    with the plain step, so 2 processes can pass it);
 * 3. the peer: the same MLP and global batch trained by PyTorch's
 *    DistributedDataParallel over Gloo on loopback (bench/pytorch_ddp.py),
 *    2 single-threaded processes over 1, in the same run.
 * The bench launches itself: the parent runs `launch`, the children measure
 * and write their figures to a file the parent reads.
 */
import { mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDistributed } from '../src/parallel/init-distributed.js';
import { launch } from '../src/parallel/launcher.js';
import { threadCpuMs } from './thread-cpu.js';

const BYTES = 64 << 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const STEPS = Number(process.env.BENCH_STEPS ?? 300);
// V8 optimises the functions that run once a step only after some 400-500 steps (the larger, the later: Replica.step's
// compile alone takes 30 ms of a helper thread), on the cores the other process needs; a 1-process run has a free core
// for it. In 300 steps timed after 100, 2 processes compiled for 223 ms (--trace-opt), 235 ms after 400 and 56 ms after
// 1000; 'other threads' in the CPU per step below shows it. After 1000 steps the timings see the steady state.
const WARMUP_STEPS = Number(process.env.BENCH_WARMUP_STEPS ?? 1000);
// Runs of each training variant, in alternating order: this machine's speed drifts by 10-30% from minute to minute.
const TRAIN_ROUNDS = Number(process.env.BENCH_TRAIN_ROUNDS ?? 3);
const BATCH = 128;
/** The global batch of a training run: 64 for the 1-process run at a member's share of it (the reference, below). */
const RUN_BATCH = Number(process.env.BENCH_BATCH ?? BATCH);
const script = new URL(import.meta.url).pathname;

/** The all-reduces one member times: between 2 processes of this host, or 4 as 2 hosts of 2 (two launches on this host). */
const allReduceVariants = {
  allreduce: [
    ['gloo ring (tcp)', 'ring', { algorithm: 'ring', hostMemory: false }],
    ['gloo bcube (tcp)', 'bcube', { algorithm: 'bcube', hostMemory: false }],
    ['host memory', 'host', {}],
  ],
  'allreduce-hosts': [
    ['gloo ring (tcp)', 'ring', { algorithm: 'ring', hostMemory: false }],
    ['two tiers (host memory, then tcp across hosts)', 'tiers', {}],
  ],
} as const;

async function allReduceMember(mode: keyof typeof allReduceVariants): Promise<void> {
  for (const [name, key, options] of allReduceVariants[mode]) {
    const group = await initDistributed({ ...options, runId: `${process.env.RXKERAS_RUN_ID}-${key}` });
    const buffer = new Float32Array(BYTES / 4).fill(1);
    await group.allReduce(buffer); // warm-up: connections, page faults
    await group.barrier();
    const start = process.hrtime.bigint();
    for (let i = 0; i < ROUNDS; i++) await group.allReduce(buffer);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9 / ROUNDS;
    if (group.rank === 0) {
      const members = mode === 'allreduce' ? '2 processes' : '4 processes as 2 hosts of 2';
      console.log(`allreduce ${name} ${members} 64 MB: ${(BYTES / 1e9 / seconds).toFixed(2)} GB/s (${(seconds * 1000).toFixed(1)} ms each)`);
    }
    await group.close();
  }
}

/** The same all-reduce through the shared-memory collective of `multiGpuModel`, between 2 worker threads of this process. */
async function sharedMemoryAllReduce(): Promise<void> {
  const { configureDevices, disposeDevices, getDevice } = await import('../src/parallel/devices.js');
  const { DeviceGroup } = await import('../src/parallel/device-group.js');
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1 });
  const devices = [getDevice('/cpu:1'), getDevice('/cpu:2')];
  const floats = BYTES / 4;
  const group = new DeviceGroup(devices, { capacity: floats });
  const worker = new URL('./parallel-worker.ts', import.meta.url);
  const seconds = await Promise.all(devices.map((d, rank) => d.call<number>(worker, 'allReduceRounds', { group: group.descriptor, rank, floats, rounds: ROUNDS, warmup: 1 })));
  group.close();
  await disposeDevices();
  const slowest = Math.max(...seconds);
  console.log(`allreduce shared memory 2 worker threads 64 MB: ${(BYTES / 1e9 / slowest).toFixed(2)} GB/s (${(slowest * 1000).toFixed(1)} ms each)`);
}

/** Trains the MLP for STEPS steps after WARMUP_STEPS; rank 0 writes samples/s to BENCH_OUT. */
async function trainMember(distributed: boolean): Promise<void> {
  const rx = await import('../src/index.js');
  const { DistributedStep } = await import('../src/parallel/distributed-step.js');
  const { startState } = await import('../src/training/setup.js');
  const { runCompiled, trainStep } = await import('../src/training/steps.js');
  const { splitRows } = await import('../src/training/split-rows.js');
  const { disposeStepResult } = await import('../src/training/logs.js');
  const { disposeReplaced } = await import('../src/core/tree.js');
  await rx.initBackend({ quiet: true });
  const model = new rx.Sequential({
    layers: [rx.Dense({ units: 512, activation: 'relu', input_shape: [784] }), rx.Dense({ units: 512, activation: 'relu' }), rx.Dense({ units: 10, activation: 'softmax' })],
  });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });
  model.build(1);
  const group = distributed ? await initDistributed() : undefined;
  const step = group ? new DistributedStep(model, model.compiled!.compiled, group) : undefined;
  let ts = startState(model, model.compiled!, model.variables!).state;
  if (step) ts = await step.syncState(ts);
  // Each process takes its rows of the global batch, as distributedModel's fit on arrays does (knowing every member's rows).
  const ranges = splitRows(RUN_BATCH, group?.size ?? 1);
  const [from, to] = ranges[group?.rank ?? 0];
  const x = rx.ops.randomUniform([to - from, 784]);
  const y = rx.ops.cast(rx.ops.oneHot(rx.ops.tensor1d(Array.from({ length: to - from }, (_, i) => (from + i) % 10), 'int32'), 10), 'float32');
  let start = 0n;
  let cpuBefore: Map<number, number> | undefined;
  for (let i = 0; i < STEPS + WARMUP_STEPS; i++) {
    if (i === WARMUP_STEPS) {
      start = process.hrtime.bigint();
      cpuBefore = threadCpuMs();
    }
    const batch = { x: [x], y: [y], memberRows: ranges.map(([a, b]) => b - a) };
    const r = step ? await step.train(ts, batch) : runCompiled(model, () => trainStep(model, model.compiled!.compiled, ts, batch));
    if (!step) disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState }, { p: r.state.params, s: r.state.state, o: r.state.optState });
    disposeStepResult(r.result);
    ts = r.state;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuAfter = threadCpuMs();
  if ((group?.rank ?? 0) === 0) {
    writeFileSync(process.env.BENCH_OUT!, String((STEPS * RUN_BATCH) / seconds));
    // Where a step's CPU goes in this process: its main thread (the graph, the update, JavaScript), the others (Gloo's, V8's helpers).
    if (cpuBefore && cpuAfter) {
      const used = [...cpuAfter].map(([tid, ms]) => [tid, ms - (cpuBefore!.get(tid) ?? 0)] as const);
      const main = used.find(([tid]) => tid === process.pid)?.[1] ?? 0;
      const others = used.filter(([tid]) => tid !== process.pid).reduce((a, [, ms]) => a + ms, 0);
      const how = !group ? '' : !group.hostLocal ? ' over tcp' : step?.lendsState ? ' in host memory, update in place' : ' in host memory';
      console.log(`  ${group ? `rank 0 of ${group.size}${how}` : `1 process, batch ${RUN_BATCH}`}, ${process.env.RXKERAS_BACKEND} steps, CPU per step: main thread ${(main / STEPS).toFixed(2)} ms, other threads ${(others / STEPS).toFixed(2)} ms`);
    }
  }
  await group?.close();
}

const mode = process.argv[2];
if (mode === 'allreduce' || mode === 'allreduce-hosts') await allReduceMember(mode);
else if (mode === 'single' || mode === 'dp') await trainMember(mode === 'dp');
else {
  process.exitCode = await launch({ script, args: ['allreduce'], nproc: 2 });
  await sharedMemoryAllReduce();
  const dir = mkdtempSync(join(tmpdir(), 'rxkeras-bench-'));
  // Two hosts of 2 processes, simulated by two launches on this host that meet through one file store.
  const store = join(dir, 'store');
  mkdirSync(store);
  const runId = `hosts-${process.pid}`;
  const hosts = await Promise.all([0, 1].map((nodeRank) => launch({ script, args: ['allreduce-hosts'], nproc: 2, nnodes: 2, nodeRank, store: `file://${store}`, runId, host: '127.0.0.1' })));
  if (hosts.some((code) => code !== 0)) process.exitCode = hosts.find((code) => code !== 0);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const runs = (a: number[]) => a.map((v) => v.toFixed(0)).join(', ');
  for (const backend of ['compiled', 'wasm']) {
    const env = { ...process.env, RXKERAS_BACKEND: backend, RXKERAS_COMPILED_THREADS: '1', RXKERAS_WASM_THREADS: '1', RXKERAS_QUIET: '1', BENCH_OUT: join(dir, 'out') };
    // 1 process, 1 process at half the batch (a member's share), and 2 as launch runs them (host memory); with compiled steps also 2 over TCP.
    const variants = backend === 'compiled' ? (['one', 'half', 'host', 'tcp'] as const) : (['one', 'half', 'host'] as const);
    const rates = { one: [] as number[], half: [] as number[], host: [] as number[], tcp: [] as number[] };
    for (let round = 0; round < TRAIN_ROUNDS; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const nproc = variant === 'one' || variant === 'half' ? 1 : 2;
        const extra = variant === 'tcp' ? { RXKERAS_HOST_MEMORY: '0' } : variant === 'half' ? { BENCH_BATCH: String(BATCH / 2) } : {};
        const code = await launch({ script, args: [nproc === 1 ? 'single' : 'dp'], nproc, env: { ...env, ...extra } });
        if (code !== 0) throw new Error(`training run with ${nproc} process(es) on ${backend} exited with ${code}`);
        rates[variant].push(Number(readFileSync(env.BENCH_OUT, 'utf8')));
      }
    }
    const one = mean(rates.one);
    const steps = backend === 'compiled' ? '' : ` (${backend} steps)`;
    console.log(`mlp samples/s, ${backend} steps: 1 process ${one.toFixed(0)} (runs ${runs(rates.one)}), 2 processes in host memory ${mean(rates.host).toFixed(0)} (runs ${runs(rates.host)})` +
      (backend === 'compiled' ? `, 2 processes over tcp ${mean(rates.tcp).toFixed(0)} (runs ${runs(rates.tcp)})` : '') + ' (1 thread each)');
    console.log(`distributed scaling 2 processes${steps}: ${(mean(rates.host) / one).toFixed(2)}`);
    console.log(`mlp samples/s, ${backend} steps, 1 process at batch ${BATCH / 2} (a member's share): ${mean(rates.half).toFixed(0)} (runs ${runs(rates.half)})`);
    console.log(`distributed scaling reference 2 processes${steps} (twice 1 process at batch ${BATCH / 2}, over 1 process at batch ${BATCH}): ${((2 * mean(rates.half)) / one).toFixed(2)}`);
    if (backend === 'compiled') console.log(`distributed scaling 2 processes over gloo tcp (RXKERAS_HOST_MEMORY=0): ${(mean(rates.tcp) / one).toFixed(2)}`);
  }
  const rx = await import('../src/index.js');
  await rx.initBackend({ quiet: true });
  const { cases, caseData, pytorchDdpPair } = await import('./cases.js');
  const mlp = cases.find((c) => c.name === 'mlp')!;
  const { x, y } = caseData(mlp, dir);
  x.dispose();
  y.dispose();
  const epochs = Math.ceil(STEPS / (mlp.samples / mlp.batchSize));
  const peer = await pytorchDdpPair(mlp, dir, epochs);
  if (peer) {
    console.log(`mlp samples/s, pytorch ddp (gloo): 1 process ${peer.one.toFixed(0)}, 2 processes ${peer.two.toFixed(0)} (1 thread each)`);
    console.log(`pytorch ddp scaling 2 processes: ${(peer.two / peer.one).toFixed(2)}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
