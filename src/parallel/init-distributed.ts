import { InvalidArgumentError } from '../core/errors.js';
import { GlooCollective, type GlooOptions } from './gloo-collective.js';
import { isLoopbackStore, parseStoreAddress } from './store-address.js';

/** The environment `rxkeras launch` gives each process (as torchrun's RANK, WORLD_SIZE, MASTER_ADDR). */
export const DISTRIBUTED_ENV = {
  rank: 'RXKERAS_RANK',
  localRank: 'RXKERAS_LOCAL_RANK',
  worldSize: 'RXKERAS_WORLD_SIZE',
  localWorldSize: 'RXKERAS_LOCAL_WORLD_SIZE',
  store: 'RXKERAS_STORE',
  runId: 'RXKERAS_RUN_ID',
  host: 'RXKERAS_HOST',
  iface: 'RXKERAS_IFACE',
  timeoutMs: 'RXKERAS_TIMEOUT_MS',
  hostMemory: 'RXKERAS_HOST_MEMORY',
} as const;

const HINT = 'run the script with `rxkeras launch --nproc N script.ts`, or set it yourself';

function intFrom(env: NodeJS.ProcessEnv, name: string, expected: string): number {
  const text = env[name];
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(name, `${expected} (${HINT})`, text);
  return n;
}

/**
 * Joins the group this process was launched into and returns its Collective:
 * rank, world size and store come from the environment that `rxkeras launch`
 * sets (RXKERAS_RANK, RXKERAS_WORLD_SIZE, RXKERAS_STORE, RXKERAS_RUN_ID, and
 * optionally RXKERAS_HOST or RXKERAS_IFACE, RXKERAS_TIMEOUT_MS); `options`
 * override them. Where RXKERAS_LOCAL_WORLD_SIZE says every member runs on
 * this host, all-reduces go through shared memory, unless
 * RXKERAS_HOST_MEMORY=0.
 */
export async function initDistributed(
  { env = process.env, ...options }: Partial<GlooOptions> & { env?: NodeJS.ProcessEnv } = {},
): Promise<GlooCollective> {
  const worldSize = options.worldSize ?? intFrom(env, DISTRIBUTED_ENV.worldSize, 'an integer >= 1');
  const rank = options.rank ?? intFrom(env, DISTRIBUTED_ENV.rank, `an integer in [0, ${worldSize})`);
  if (options.store === undefined && !env[DISTRIBUTED_ENV.store]) {
    throw new InvalidArgumentError(DISTRIBUTED_ENV.store, `redis://HOST:PORT or file:///PATH (${HINT})`, env[DISTRIBUTED_ENV.store]);
  }
  const store = options.store ?? parseStoreAddress(env[DISTRIBUTED_ENV.store]!, DISTRIBUTED_ENV.store);
  const iface = options.iface ?? env[DISTRIBUTED_ENV.iface];
  // Peers meeting through a loopback store are on this host: listen on loopback too.
  const host = options.host ?? env[DISTRIBUTED_ENV.host] ?? (iface === undefined && isLoopbackStore(store) ? '127.0.0.1' : undefined);
  const timeoutText = env[DISTRIBUTED_ENV.timeoutMs];
  return GlooCollective.connect({
    ...options,
    rank,
    worldSize,
    store,
    runId: options.runId ?? env[DISTRIBUTED_ENV.runId] ?? 'default',
    host,
    iface,
    timeoutMs: options.timeoutMs ?? (timeoutText ? intFrom(env, DISTRIBUTED_ENV.timeoutMs, 'a time in ms') : undefined),
    localWorldSize: options.localWorldSize ?? (env[DISTRIBUTED_ENV.localWorldSize] ? intFrom(env, DISTRIBUTED_ENV.localWorldSize, 'an integer >= 1') : undefined),
    hostMemory: options.hostMemory ?? env[DISTRIBUTED_ENV.hostMemory] !== '0',
  });
}
