import type { Device } from './device.js';
import type { GroupDescriptor } from './device-context.js';
import { RelayHub } from './relay-collective.js';
import { abortSharedGroup, createSharedGroup } from './shared-memory-collective.js';

export interface GroupOptions {
  /** Floats reduced per chunk in shared memory (the fused gradient length fits in one). */
  capacity: number;
  /** Bound on any one wait inside a collective operation, in ms. */
  timeoutMs?: number;
  /** Shared memory also holds the weights and optimizer slots that replicas update in place (see createSharedGroup). */
  updateRegions?: boolean;
}

let nextRelayId = 0;

/**
 * The main thread's handle on a collective group of devices (rank = index
 * in `devices`): shared memory when every device is a worker thread, else
 * relayed through this process. When a member's worker dies, the group is
 * aborted: the others' waits end at once with an error naming it.
 */
export class DeviceGroup {
  readonly descriptor: GroupDescriptor;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly abortWith: (rank: number, detail: string) => void;

  constructor(readonly devices: readonly Device[], options: GroupOptions) {
    const timeoutMs = options.timeoutMs ?? 120_000;
    if (devices.every((d) => d.spec.transport === 'thread')) {
      const group = createSharedGroup(devices.length, options.capacity, { updateRegions: options.updateRegions });
      this.descriptor = { kind: 'shared', group, timeoutMs };
      this.abortWith = (rank) => abortSharedGroup(group, rank);
    } else {
      const id = nextRelayId++;
      const hub = new RelayHub(id, devices.length, (rank, m) => devices[rank].postRelay(m));
      this.descriptor = { kind: 'relay', id, size: devices.length, timeoutMs };
      this.abortWith = (rank, detail) => hub.abort(rank, detail);
      devices.forEach((d) => this.unsubscribe.push(d.onRelay((m) => m.group === id && hub.receive(m))));
    }
    devices.forEach((d, rank) => this.unsubscribe.push(d.onExit((detail) => this.abort(rank, `member ${rank} (${d.name}) was lost: ${detail}`))));
  }

  /** Fails the group's pending and later operations, naming `rank` (-1: unknown) as the cause. */
  abort(rank: number, detail = `member ${rank} was lost`): void {
    this.abortWith(rank, detail);
  }

  /** Stops watching the devices; the members close their own ends. */
  close(): void {
    for (const f of this.unsubscribe.splice(0)) f();
  }
}
