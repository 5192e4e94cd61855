/**
 * The row ranges Keras's `multi_gpu_model` gives each of `parts` replicas
 * (`get_slice` in keras/utils/multi_gpu_utils.py): `floor(rows / parts)`
 * rows each, and the last replica also takes the remainder. A batch of 10
 * over 4 replicas is split 2, 2, 2, 4; a batch smaller than `parts` leaves
 * the first replicas empty.
 */
export function splitRows(rows: number, parts: number): [start: number, end: number][] {
  const step = Math.floor(rows / parts);
  return Array.from({ length: parts }, (_, i) => [i * step, i === parts - 1 ? rows : (i + 1) * step]);
}

/** One member's part of every global batch in distributed training: member `rank` of `size`. */
export interface Shard {
  rank: number;
  size: number;
}
