import { statSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import type { Collective, SharedCollective } from './collective.js';
import {
  CollectiveClosedError,
  CollectiveError,
  CollectiveTimeoutError,
  LostRankError,
  RendezvousError,
  type CollectiveOp,
} from './collective-errors.js';
import { loadGlooAddon, type NativeGroup } from './gloo-addon.js';
import { joinHostMemory } from './host-memory.js';
import type { SharedMemoryCollective } from './shared-memory-collective.js';
import type { StoreAddress } from './store-address.js';
import { TwoLevelCollective } from './two-level-collective.js';

/** How a Gloo group's all-reduces travel (see GlooCollective.transport). */
export type CrossTransport = 'host memory' | 'two tiers' | 'tcp';

export interface GlooOptions {
  rank: number;
  worldSize: number;
  store: StoreAddress;
  /** Namespace of this run in the store: a relaunch needs a new one (Gloo's store keys are written once). */
  runId: string;
  /** Address this member listens on and advertises to the others (default: the host's name, as Gloo resolves it). */
  host?: string;
  /** Or the network interface whose address to use (as GLOO_SOCKET_IFNAME). */
  iface?: string;
  /** Bound on joining and on every operation, in ms (default 30,000). */
  timeoutMs?: number;
  /** How often each member posts its heartbeat to the store, in ms (default 200); a lost member is named after 5 missed beats. */
  heartbeatMs?: number;
  /** All-reduce algorithm (default 'ring'). */
  algorithm?: 'ring' | 'bcube';
  /**
   * How many members run on this host (RXKERAS_LOCAL_WORLD_SIZE): when it is
   * all of them, all-reduces go through memory the processes share (see
   * joinHostMemory); when several hosts run as many each (ranks numbered host
   * by host, as `rxkeras launch` numbers them), in two tiers (see
   * TwoLevelCollective). Unless `hostMemory` is false on any member, or the
   * members say different counts (hosts of other sizes).
   */
  localWorldSize?: number;
  /** Set false to all-reduce over TCP even when every member is on this host (default true). */
  hostMemory?: boolean;
}

const RUN_ID = /^[A-Za-z0-9_.-]{1,100}$/;

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, value);
  }
}

/**
 * A `Collective` over Gloo's TCP transport between processes and hosts. Each
 * member runs its operations in call order on the addon's own thread, so the
 * event loop stays free while they run; buffers (also views on a
 * SharedArrayBuffer) are reduced in place without a copy. When every member
 * runs on this host, all-reduces go through memory the processes share
 * instead (as NCCL's and MPI's transports within a node do): on 2 cores,
 * TCP's copies through the kernel took about as long as the gradients.
 */
export class GlooCollective implements Collective {
  private closed = false;
  private subgroups = 0;
  /** The processes of this host in shared memory, where every member is on it. */
  private host: SharedMemoryCollective | undefined;
  /** The host memory's all-reduces, one after the other, in call order. */
  private hostQueue: Promise<void> = Promise.resolve();
  /** The group in host memory joined for sharded updates (see updateGroup), closed with this one. */
  private update: SharedMemoryCollective | undefined;
  private updateJoins = 0;
  /** Several hosts: this host's processes (in host memory), the same local rank's process on every host, and both tiers as one. */
  private tiers: Tiers | undefined;

  private constructor(
    private readonly group: NativeGroup,
    readonly rank: number,
    readonly size: number,
    private readonly timeoutMs: number,
    private readonly options: GlooOptions,
  ) {}

  /** Joins the group: resolves once all `worldSize` members are connected, rejects with `RendezvousError` naming the missing ones. */
  static async connect(options: GlooOptions): Promise<GlooCollective> {
    const { rank, worldSize, store, runId } = options;
    checkInt('worldSize', worldSize, 1, 65536);
    checkInt('rank', rank, 0, worldSize - 1);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const heartbeatMs = options.heartbeatMs ?? 200;
    checkInt('timeoutMs', timeoutMs, 1, 2 ** 31 - 1);
    checkInt('heartbeatMs', heartbeatMs, 10, 60_000);
    if (!RUN_ID.test(runId)) throw new InvalidArgumentError('runId', 'letters, digits, _ . - (1 to 100 characters)', runId);
    // Gloo's file store waits for its keys in a folder it does not make: a missing one would look like absent members.
    if (store.kind === 'file' && !statSync(store.path, { throwIfNoEntry: false })?.isDirectory())
      throw new InvalidArgumentError('file store', 'an existing folder every member reaches', store.path);
    const { Group } = loadGlooAddon();
    const group = new Group({
      rank,
      size: worldSize,
      storeKind: store.kind,
      storeHost: store.kind === 'redis' ? store.host : '',
      storePort: store.kind === 'redis' ? store.port : 0,
      storePath: store.kind === 'file' ? store.path : '',
      prefix: `rxkeras.${runId}`,
      hostname: options.host ?? '',
      iface: options.iface ?? '',
      timeoutMs,
      heartbeatMs,
      algorithm: options.algorithm ?? 'ring',
    });
    const member = new GlooCollective(group, rank, worldSize, timeoutMs, { ...options, timeoutMs, heartbeatMs });
    await member.call('rendezvous', () => group.connect());
    const local = options.localWorldSize;
    if (worldSize > 1 && local !== undefined) {
      try {
        // Every member takes the same path: where any wants TCP or says another count (hosts of other sizes), all keep it.
        if (await member.everyone(options.hostMemory !== false ? local : 0)) {
          if (local === worldSize) member.host = await joinHostMemory(member, runId, timeoutMs);
          else if (local > 1 && worldSize % local === 0) member.tiers = await member.joinTiers(local);
        }
      } catch (e) {
        await member.close().catch(() => {});
        throw e;
      }
    }
    return member;
  }

  /**
   * How to join another group of the same members (each with this rank),
   * in a namespace of its own: the n-th one asked for is `<runId>.<n>`, so
   * members that ask in the same order meet (the replicas of each process
   * do, see TwoLevelCollective). Plain data, for a worker thread to connect with.
   */
  subgroupOptions(): GlooOptions {
    return { ...this.options, runId: `${this.options.runId}.${this.subgroups++}` };
  }

  /** Whether all-reduces go through memory shared by this host's processes (all of them, or the first of two tiers). */
  get hostLocal(): boolean {
    return this.transport !== 'tcp';
  }

  /** Whether all-reduces run in two tiers: host memory, then across hosts (see TwoLevelCollective). */
  get hierarchical(): boolean {
    return this.transport === 'two tiers';
  }

  /** The path all-reduces take: this host's memory (every member on it), two tiers (host memory, then across hosts), or Gloo's TCP. */
  get transport(): CrossTransport {
    return this.tiers ? 'two tiers' : this.host ? 'host memory' : 'tcp';
  }

  /** Whether the members have joined a group in host memory for sharded updates in place (see updateGroup). */
  get updatesInPlace(): boolean {
    return this.update !== undefined || this.tiers?.update !== undefined;
  }

  /** This member's slot of the host memory (see Collective.inPlaceBuffer), where all-reduces go through it. */
  inPlaceBuffer(length: number): Float32Array | undefined {
    if (this.tiers) return this.tiers.local.inPlaceBuffer(length);
    return this.host && length <= this.host.capacity ? this.host.slot(length) : undefined;
  }

  /**
   * Where every member is on this host: a group of them in host memory of
   * its own, sized for a sharded update in place of `length` floats (see
   * Collective.updateGroup); the same one again while it is long enough.
   * In two tiers, such a group of this host's processes, with the cross-host
   * tier over it. Every member must call it at the same point.
   */
  async updateGroup(length: number): Promise<SharedCollective | undefined> {
    const tiers = this.tiers;
    if (tiers) {
      const local = await tiers.local.updateGroup(length);
      if (local !== tiers.updateLocal) [tiers.updateLocal, tiers.update] = [local, local && new TwoLevelCollective(local, tiers.cross, tiers.explain)];
      return tiers.update;
    }
    if (!this.host) return undefined;
    if (this.update && length <= this.update.capacity) return this.update;
    void this.update?.close();
    this.update = await joinHostMemory(this, `${this.options.runId}.update${this.updateJoins++}`, this.timeoutMs, { capacity: length, updateRegions: true });
    return this.update;
  }

  /**
   * Two tiers for this member of several hosts with `local` processes each
   * (ranks numbered host by host): a group of this host's processes, which
   * joins host memory, and a group of the processes with this local rank on
   * every host. Every member then votes over the flat group: where any
   * host's processes could not share memory, all keep the flat group
   * (undefined).
   */
  private async joinTiers(local: number): Promise<Tiers | undefined> {
    const [host, localRank] = [Math.floor(this.rank / local), this.rank % local];
    const tier = (runId: string, rank: number, worldSize: number, hostMemory: boolean) =>
      GlooCollective.connect({ ...this.options, runId: `${this.options.runId}.${runId}`, rank, worldSize, localWorldSize: hostMemory ? worldSize : undefined });
    const hostGroup = await tier(`host${host}`, localRank, local, true);
    const cross = await tier(`local${localRank}`, host, this.size / local, false).catch(async (e: unknown) => {
      await hostGroup.close();
      throw e;
    });
    const explain = (tier: 'local' | 'cross', lost: LostRankError) => this.explainLost(tier === 'local' ? (r) => host * local + r : (h) => h * local + localRank, lost);
    if (await this.everyone(hostGroup.host ? 1 : 0)) return { local: hostGroup, cross, explain, both: new TwoLevelCollective(hostGroup.host!, cross, explain) };
    await Promise.all([hostGroup.close(), cross.close()]);
    return undefined;
  }

  /** Whether every member said the same `value`, not 0 (two sums over the flat group's TCP). */
  private async everyone(value: number): Promise<boolean> {
    const sum = new Float32Array([value]);
    await this.call('all-reduce', () => this.group.allReduce(sum));
    const agreed = new Float32Array([value !== 0 && sum[0] === value * this.size ? 1 : 0]);
    await this.call('all-reduce', () => this.group.allReduce(agreed));
    return agreed[0] === this.size;
  }

  /**
   * The error for a member lost in a tier (`globalRank` maps its rank there).
   * It may have failed only because another was lost first, and left: the
   * whole group's liveness board, read by a barrier that cannot complete,
   * tells the member that stopped from those that left, and names it.
   */
  private async explainLost(globalRank: (rank: number) => number, lost: LostRankError): Promise<Error> {
    try {
      await this.barrier();
    } catch (e) {
      if (e instanceof LostRankError) return new LostRankError(lost.op, this.rank, e.lostRanks, `rank(s) ${e.lostRanks.join(', ')} of the whole group were lost (its liveness board: ${e.message})`);
    }
    const ranks = lost.lostRanks.map(globalRank);
    return new LostRankError(lost.op, this.rank, ranks, `rank(s) ${ranks.join(', ')} of the whole group were lost (${lost.message})`);
  }

  allReduce(buffer: Float32Array): Promise<void> {
    const host = this.host ?? this.tiers?.both;
    return this.withBuffer('all-reduce', buffer, host ? () => (this.hostQueue = this.hostQueue.catch(() => {}).then(() => host.allReduce(buffer))) : () => this.group.allReduce(buffer));
  }

  broadcast(buffer: Float32Array, root: number): Promise<void> {
    checkInt('root', root, 0, this.size - 1);
    return this.withBuffer('broadcast', buffer, () => this.group.broadcast(buffer, root));
  }

  barrier(): Promise<void> {
    return this.call('barrier', () => this.group.barrier());
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const group of [this.host, this.update, this.tiers?.local, this.tiers?.cross]) void group?.close();
    return this.call('close', () => this.group.close());
  }

  private withBuffer(op: CollectiveOp, buffer: Float32Array, run: () => Promise<void>): Promise<void> {
    if (!(buffer instanceof Float32Array)) return Promise.reject(new InvalidArgumentError(`${op} buffer`, 'a Float32Array', buffer));
    // Every member calls with the same length, so all skip an empty buffer alike.
    if (buffer.length === 0 && !this.closed) return Promise.resolve();
    return this.call(op, run);
  }

  private async call(op: CollectiveOp, run: () => Promise<void>): Promise<void> {
    if (this.closed && op !== 'close') throw new CollectiveClosedError(op, this.rank, 'the group is closed');
    try {
      await run();
    } catch (e) {
      // The host memory's errors are typed already.
      throw e instanceof CollectiveError ? e : this.typed(op, e as Error & { code?: string; ranks?: number[] });
    }
  }

  private typed(op: CollectiveOp, e: Error & { code?: string; ranks?: number[] }): CollectiveError {
    const ranks = e.ranks ?? [];
    switch (e.code) {
      case 'lost-rank':
        return new LostRankError(op, this.rank, ranks, e.message);
      case 'timeout':
        return new CollectiveTimeoutError(op, this.rank, this.timeoutMs, e.message);
      case 'rendezvous':
        return new RendezvousError(this.rank, ranks, e.message);
      case 'closed':
        return new CollectiveClosedError(op, this.rank, e.message);
      default:
        return new CollectiveError(op, this.rank, e.message);
    }
  }
}

/** The two tiers of a member of several hosts (see GlooCollective.joinTiers). */
interface Tiers {
  local: GlooCollective;
  cross: GlooCollective;
  both: TwoLevelCollective;
  explain: (tier: 'local' | 'cross', lost: LostRankError) => Promise<Error>;
  /** The local group's host memory for sharded updates (see updateGroup) and both tiers over it. */
  updateLocal?: SharedCollective;
  update?: TwoLevelCollective;
}
