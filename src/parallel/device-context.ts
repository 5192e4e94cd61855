import type { Collective } from './collective.js';
import type { SharedGroup } from './shared-memory-collective.js';

/** A collective group as the main thread describes it to its members (plain data, posted to each). */
export type GroupDescriptor =
  | { kind: 'shared'; group: SharedGroup; timeoutMs: number }
  | { kind: 'relay'; id: number; size: number; timeoutMs: number };

/**
 * What a function run on a device receives besides its arguments: the
 * device's name and a way to join the collective groups the main thread made.
 */
export interface DeviceContext {
  readonly device: string;
  join(group: GroupDescriptor, rank: number): Collective;
}

/** A function a device can run: exported by a module, called with plain-data arguments; its result is sent back as plain data. */
export type DeviceFunction<A = never, R = unknown> = (args: A, context: DeviceContext) => R | Promise<R>;
