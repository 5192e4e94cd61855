import { existsSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Collective } from './collective.js';
import { loadGlooAddon } from './gloo-addon.js';
import { CONTROL_WORDS, SharedMemoryCollective, createSharedGroup, type GroupSync } from './shared-memory-collective.js';
import { sharedMemory } from './shared-sum.js';

/** Floats per member slot by default (4 MB; the file holds one more for the sum): larger buffers are reduced in chunks of this size. */
const CAPACITY = 1 << 20;
/** The control memory: one WebAssembly page, at the start of the file. */
const CONTROL_BYTES = 65536;
/** Where each member's process id is kept, after the control words. */
const PIDS = CONTROL_WORDS;

/** Whether the process `pid` still exists (signal 0 probes without sending). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a member first waits on this thread (blocking its event loop) before it waits on a pool thread, in ms. */
const BLOCKING_WAIT_MS = 2;

/**
 * Futexes on the shared pages (Atomics.notify wakes only this process's
 * waiters): a short wait on this thread, the common case of members a
 * step's noise apart, then waits on a pool thread, so that the event loop
 * stays free; a member whose process ended is lost.
 */
function processSync(control: Int32Array, size: number): GroupSync {
  const { futexWait, futexWaitSync, futexWake } = loadGlooAddon();
  return {
    wait: (c, index, value, timeoutMs) => {
      if (futexWaitSync(c, index, value, Math.min(BLOCKING_WAIT_MS, timeoutMs)) !== 1) return Promise.resolve();
      return futexWait(c, index, value, Math.max(1, Math.round(timeoutMs)));
    },
    notify: (c, index) => futexWake(c, index),
    sliceMs: 200,
    lostMember() {
      for (let rank = 0; rank < size; rank++) {
        const pid = Atomics.load(control, PIDS + rank);
        if (pid > 0 && !processAlive(pid)) return rank;
      }
      return undefined;
    },
  };
}

/** The folder for the shared file: tmpfs where the host has it, so its pages never go to disk. */
function sharedDir(): string {
  return statSync('/dev/shm', { throwIfNoEntry: false })?.isDirectory() ? '/dev/shm' : tmpdir();
}

/**
 * Joins the processes of one host (every member of `group`, as `rxkeras
 * launch` started them) in shared memory, for their all-reduces: one file
 * that every member maps (member 0 makes it, and removes its name once all
 * have mapped it; the pages live while the members do), laid out as a
 * SharedGroup of the shared-memory collective of worker threads (slots of
 * `capacity` floats, and with `updateRegions` the regions of a sharded
 * update in place), so the same reduce-scatter, all-gather and SIMD kernels
 * run over it. Members wait on futexes, and name a member whose process
 * ended as lost. Resolves to undefined on every member (and the group
 * all-reduces over its own transport) where a member cannot map the file:
 * hosts that are not one after all, a missing or full /dev/shm.
 */
export async function joinHostMemory(
  group: Collective,
  name: string,
  timeoutMs: number,
  { capacity = CAPACITY, updateRegions = false }: { capacity?: number; updateRegions?: boolean } = {},
): Promise<SharedMemoryCollective | undefined> {
  const { rank, size } = group;
  const shared = { ...createSharedGroup(size, capacity, { updateRegions }), control: sharedMemory(CONTROL_BYTES).buffer };
  // Too large for a WebAssembly memory, or without room for the update asked for: alike on every member.
  if (!shared.memory || shared.updateRegions !== updateRegions) return undefined;
  const { data, control } = shared;
  const path = join(sharedDir(), `rxkeras.${name}.host`);
  const { mapShared } = loadGlooAddon();
  const map = (create: boolean) => {
    // The data after the control page; the file is made long enough for both when the data is mapped.
    mapShared(new Uint8Array(data), path, CONTROL_BYTES, create);
    mapShared(new Uint8Array(control), path, 0, false);
  };
  const mapped = async (step: () => void): Promise<boolean> => {
    let ok = 1;
    try {
      step();
    } catch {
      ok = 0;
    }
    const votes = Float32Array.of(ok);
    await group.allReduce(votes);
    return votes[0] === size;
  };
  // A file left by a crashed run of the same name on this host is stale: member 0 starts afresh.
  let ready = await mapped(() => {
    if (rank !== 0) return;
    if (existsSync(path)) unlinkSync(path);
    map(true);
  });
  if (ready) ready = await mapped(() => rank !== 0 && map(false));
  if (rank === 0 && existsSync(path)) unlinkSync(path);
  if (!ready) return undefined;
  const words = new Int32Array(control);
  Atomics.store(words, PIDS + rank, process.pid);
  // Every member's process id is written before any waits.
  await group.barrier();
  return new SharedMemoryCollective(shared, rank, { timeoutMs, sync: processSync(words, size) });
}
