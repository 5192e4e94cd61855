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
export { DistributedStep, type DistributedStepOptions } from './distributed-step.js';
export { GlooCollective, type GlooOptions } from './gloo-collective.js';
export { initDistributed, DISTRIBUTED_ENV } from './init-distributed.js';
export { launch, type LaunchOptions } from './launcher.js';
export { parseStoreAddress, formatStoreAddress, type StoreAddress } from './store-address.js';
export { listDevices, configureDevices, getDevice, firstDevices, disposeDevices, type DeviceInfo, type DevicesOptions } from './devices.js';
export { Device, RemoteError, type DeviceSpec, type CallOptions } from './device.js';
export type { DeviceContext, DeviceFunction, GroupDescriptor } from './device-context.js';
export { DeviceGroup, type GroupOptions } from './device-group.js';
export { DeviceError, UnknownDeviceError } from './errors.js';
export { SharedMemoryCollective, createSharedGroup, abortSharedGroup, type SharedGroup, type JoinOptions } from './shared-memory-collective.js';
export { RelayCollective } from './relay-collective.js';
export { TwoLevelCollective } from './two-level-collective.js';
export { Replica, type ReplicaStepResult } from './replica.js';
export type { StepPhases } from './step-phases.js';
export { fusedLayout, type FusedLayout } from './fused-layout.js';
export { DataParallel, type DataParallelOptions } from './data-parallel.js';
export { splitRows } from '../training/split-rows.js';
