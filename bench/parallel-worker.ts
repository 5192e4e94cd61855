/** What `npm run bench:parallel` runs on each device: timed all-reduces of one buffer in shared memory. */
import type { DeviceContext, GroupDescriptor } from '../src/parallel/device-context.js';
import { SharedMemoryCollective } from '../src/parallel/shared-memory-collective.js';

/** `rounds` all-reduces of `floats` floats fused in place in this member's slot, after `warmup` more; seconds per all-reduce. */
export async function allReduceRounds(args: { group: GroupDescriptor; rank: number; floats: number; rounds: number; warmup: number }, context: DeviceContext): Promise<number> {
  const group = context.join(args.group, args.rank) as SharedMemoryCollective;
  const buffer = group.slot(args.floats);
  for (let i = 0; i < args.warmup; i++) {
    buffer.fill(1);
    await group.allReduce(buffer);
  }
  await group.barrier();
  const start = performance.now();
  for (let i = 0; i < args.rounds; i++) await group.allReduce(buffer);
  const seconds = (performance.now() - start) / 1000 / args.rounds;
  await group.close();
  return seconds;
}
