import { spawnSync } from 'node:child_process';

/** Two hosts simulated by network namespaces joined by a veth pair. */
export interface Hosts {
  /** Namespace names, host 0 first. */
  names: string[];
  /** Each host's address on the link. */
  addresses: string[];
  remove(): void;
}

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

function must(...args: string[]): void {
  const r = ip(...args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error}`);
}

/**
 * Two namespaces with a veth pair between them (10.213.N.1 and 10.213.N.2,
 * addresses that exist only inside them), or the reason it cannot be done
 * here (not root, no `ip`, namespaces not permitted). `remove` deletes both
 * namespaces, which removes the link.
 */
export function makeHosts(tag: string): Hosts | string {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (ip('-V').status !== 0) return "the 'ip' command (iproute2) is missing";
  const names = [`rxk-${tag}-a`, `rxk-${tag}-b`];
  const subnet = `10.213.${process.pid % 250}`;
  const remove = () => names.forEach((n) => ip('netns', 'del', n));
  try {
    for (const n of names) must('netns', 'add', n);
  } catch (e) {
    remove();
    return `cannot create network namespaces here: ${(e as Error).message.trim()}`;
  }
  try {
    const [a, b] = names;
    must('link', 'add', `${tag}a`, 'netns', a, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', b);
    must('-n', a, 'addr', 'add', `${subnet}.1/24`, 'dev', `${tag}a`);
    must('-n', b, 'addr', 'add', `${subnet}.2/24`, 'dev', `${tag}b`);
    for (const [n, dev] of [
      [a, `${tag}a`],
      [b, `${tag}b`],
    ]) {
      must('-n', n, 'link', 'set', dev, 'up');
      must('-n', n, 'link', 'set', 'lo', 'up');
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { names, addresses: [`${subnet}.1`, `${subnet}.2`], remove };
}
