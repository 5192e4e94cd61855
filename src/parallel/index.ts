export type { Collective } from './collective.js';
export {
  CollectiveError,
  LostRankError,
  CollectiveTimeoutError,
  CollectiveClosedError,
  RendezvousError,
  GlooUnavailableError,
  type CollectiveOp,
} from './collective-errors.js';
export { GlooCollective, type GlooOptions } from './gloo-collective.js';
export { initDistributed, DISTRIBUTED_ENV } from './init-distributed.js';
export { launch, type LaunchOptions } from './launcher.js';
export { parseStoreAddress, formatStoreAddress, type StoreAddress } from './store-address.js';
