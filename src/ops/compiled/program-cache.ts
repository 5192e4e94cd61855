import { lowerGraph, type CutGraph } from './lower.js';
import { CUSTOM_DOMAIN } from './kernels/index.js';
import type { SessionOptions } from '../onnx/session.js';
import { openSession, type GraphSession } from '../onnx/graph-session.js';
import { ortAddon, type Port } from '../onnx/native-session.js';
import type { HostArray, TraceValue } from './trace.js';

/**
 * What a trace's structure compiled to. Small host constants start baked
 * into the graph; a constant slot seen with another value later (the
 * optimizer's bias correction, a learning rate set by a callback) becomes
 * an input, and the graph is compiled once more: after a step or two a
 * training step runs one cached session whose inputs are exactly what
 * changes between steps.
 */
interface Program {
  firstValues: HostArray[];
  varying: Set<number>;
  sessions: Map<string, GraphSession>;
}

/** Whether sessions run rxkeras's own operators: the addon registers them; onnxruntime-node's binding and older builds do not. */
const customOps = (): boolean => {
  const addon = ortAddon();
  return typeof addon !== 'string' && addon.customDomain === CUSTOM_DOMAIN;
};

const port = (v: TraceValue, name: string): Port => ({ name, dtype: v.dtype as Port['dtype'], shape: v.shape });

const equal = (a: HostArray, b: HostArray) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** Compiled programs by trace structure, least recently used dropped beyond `capacity`. */
export class ProgramCache {
  private readonly programs = new Map<string, Program>();
  compiles = 0;

  constructor(
    private readonly options: () => SessionOptions,
    private readonly capacity = 64,
  ) {}

  /** The session for a cut graph whose structure key is `key` and whose constant slots are `constants`; the feeds in order. */
  session(key: string, g: Omit<CutGraph, 'baked'>, constants: TraceValue[]): { session: GraphSession; feeds: TraceValue[] } {
    let p = this.programs.get(key);
    if (p) {
      this.programs.delete(key);
      this.programs.set(key, p);
    } else {
      p = { firstValues: constants.map((c) => c.data!.slice()), varying: new Set(), sessions: new Map() };
      this.programs.set(key, p);
      this.evict();
    }
    constants.forEach((c, k) => {
      if (!p.varying.has(k) && !equal(c.data!, p.firstValues[k])) p.varying.add(k);
    });
    const varying = constants.filter((_, k) => p.varying.has(k));
    const feeds = [...g.inputs, ...varying];
    const sessionKey = [...p.varying].sort((a, b) => a - b).join(',');
    let session = p.sessions.get(sessionKey);
    if (!session) {
      const baked = constants.filter((_, k) => !p.varying.has(k));
      const model = lowerGraph({ ...g, inputs: feeds, baked }, customOps());
      session = openSession(model, feeds.map((v, i) => port(v, `i${i}`)), g.outputs.map((v, j) => port(v, `o${j}`)), this.options());
      p.sessions.set(sessionKey, session);
      this.compiles++;
    }
    return { session, feeds };
  }

  get size(): number {
    return this.programs.size;
  }

  private evict(): void {
    while (this.programs.size > this.capacity) {
      const [oldest, p] = this.programs.entries().next().value as [string, Program];
      for (const s of p.sessions.values()) s.dispose();
      this.programs.delete(oldest);
    }
  }

  /** Frees every session. */
  clear(): void {
    for (const p of this.programs.values()) for (const s of p.sessions.values()) s.dispose();
    this.programs.clear();
  }
}
