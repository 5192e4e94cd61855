import { readdirSync, readFileSync } from 'node:fs';

/** CPU milliseconds each thread of this process has used, by thread id (Linux: /proc/self/task/<tid>/schedstat); undefined elsewhere. */
export function threadCpuMs(): Map<number, number> | undefined {
  try {
    return new Map(readdirSync('/proc/self/task').map((t) => [Number(t), Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6]));
  } catch {
    return undefined;
  }
}
