import type { Collective } from './collective.js';
import { CollectiveClosedError, CollectiveError, CollectiveTimeoutError, LostRankError, type CollectiveOp } from './collective-errors.js';
import { serializeError, type RelayMessage } from './protocol.js';

/**
 * A collective for members that share no memory (child processes): each
 * member sends its buffer to the main process, which combines them in rank
 * order (the same sums as the shared-memory group) and answers every member.
 * Two copies through an IPC channel per operation: correct everywhere,
 * fast nowhere; across hosts, a Gloo transport implements the same interface.
 */
export class RelayCollective implements Collective {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (m: RelayMessage) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(
    readonly group: number,
    readonly rank: number,
    readonly size: number,
    private readonly send: (m: RelayMessage) => void,
    private readonly timeoutMs = 120_000,
  ) {}

  async allReduce(buffer: Float32Array): Promise<void> {
    const reply = await this.exchange('allReduce', { buffer });
    buffer.set(reply.buffer!);
  }

  async broadcast(buffer: Float32Array, root: number): Promise<void> {
    const reply = await this.exchange('broadcast', { root, ...(this.rank === root ? { buffer } : {}) });
    if (this.rank !== root) buffer.set(reply.buffer!);
  }

  async barrier(): Promise<void> {
    await this.exchange('barrier', {});
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(new CollectiveClosedError('close', this.rank, 'the group was closed'));
    this.waiting.clear();
  }

  /** The main process's answer to one of this member's operations. */
  receive(message: RelayMessage): void {
    const w = this.waiting.get(message.seq);
    if (!w) return;
    this.waiting.delete(message.seq);
    if (message.error) w.reject(restore(message, this.rank));
    else w.resolve(message);
  }

  private exchange(op: RelayMessage['op'], part: Partial<RelayMessage>): Promise<RelayMessage> {
    if (this.closed) return Promise.reject(new CollectiveClosedError(OPS[op], this.rank, 'this member has closed the group'));
    const seq = this.seq++;
    return new Promise<RelayMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new CollectiveTimeoutError(OPS[op], this.rank, this.timeoutMs, `the other members did not arrive within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.waiting.set(seq, { resolve: done(resolve), reject: done(reject) });
      this.send({ kind: 'relay', group: this.group, rank: this.rank, seq, op, ...part });
    });
  }
}

/** The message ops by the names errors use. */
const OPS: Record<RelayMessage['op'], CollectiveOp> = { allReduce: 'all-reduce', broadcast: 'broadcast', barrier: 'barrier' };

/** The hub's failure, as this member's error. */
function restore(m: RelayMessage, rank: number): CollectiveError {
  const detail = m.error!.message;
  return m.lostRank !== undefined && m.lostRank >= 0 ? new LostRankError(OPS[m.op], rank, [m.lostRank], detail) : new CollectiveError(OPS[m.op], rank, detail);
}

/**
 * The main process's side of a relay group: collects each operation from
 * every member, combines, and answers all of them. `abort(lost)` answers
 * everything pending, and everything later, with an error naming the member.
 */
export class RelayHub {
  private readonly pending = new Map<number, RelayMessage[]>();
  private failure: { lostRank: number; detail: string } | undefined;

  constructor(
    readonly group: number,
    readonly size: number,
    private readonly send: (rank: number, m: RelayMessage) => void,
  ) {}

  receive(message: RelayMessage): void {
    if (this.failure) return this.fail(message);
    const parts = this.pending.get(message.seq) ?? [];
    parts.push(message);
    this.pending.set(message.seq, parts);
    if (parts.length < this.size) return;
    this.pending.delete(message.seq);
    const first = parts[0];
    if (parts.some((p) => p.op !== first.op || p.root !== first.root || (p.op === 'allReduce' && p.buffer?.length !== first.buffer?.length))) {
      this.pending.set(message.seq, parts);
      return this.abort(-1, `members called different operations at operation ${message.seq}: ${parts.map((p) => `${p.op}(${p.buffer?.length ?? ''})`).join(', ')}`);
    }
    const answer = combine(parts.sort((a, b) => a.rank - b.rank));
    for (const p of parts) this.send(p.rank, { ...p, buffer: answer });
  }

  abort(lostRank: number, detail: string): void {
    this.failure ??= { lostRank, detail };
    for (const parts of this.pending.values()) for (const p of parts) this.fail(p);
    this.pending.clear();
  }

  private fail(m: RelayMessage): void {
    const { lostRank, detail } = this.failure!;
    this.send(m.rank, { kind: 'relay', group: m.group, rank: m.rank, seq: m.seq, op: m.op, error: serializeError(new Error(detail)), lostRank });
  }
}

function combine(parts: RelayMessage[]): Float32Array | undefined {
  const op = parts[0].op;
  if (op === 'barrier') return undefined;
  if (op === 'broadcast') return parts.find((p) => p.rank === p.root)!.buffer;
  const sum = Float32Array.from(parts[0].buffer!);
  for (const p of parts.slice(1)) for (let k = 0; k < sum.length; k++) sum[k] += p.buffer![k];
  return sum;
}
