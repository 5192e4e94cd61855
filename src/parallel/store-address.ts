import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../core/errors.js';

/** Where the members of a group meet: Gloo's Redis store, or its file store on a path every member reaches. */
export type StoreAddress = { kind: 'redis'; host: string; port: number } | { kind: 'file'; path: string };

const EXPECTED = 'redis://HOST:PORT or file:///ABSOLUTE/PATH';

/** Parses `redis://host:port` (port 6379 when left out) or `file:///path`; `where` names the source in errors. */
export function parseStoreAddress(text: string, where = 'store'): StoreAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(where, EXPECTED, text);
  }
  if (url.protocol === 'redis:' && url.hostname !== '' && url.pathname === '') {
    const port = url.port === '' ? 6379 : Number(url.port);
    return { kind: 'redis', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  }
  if (url.protocol === 'file:' && url.host === '' && url.pathname.length > 1) {
    return { kind: 'file', path: fileURLToPath(url) };
  }
  throw new InvalidArgumentError(where, EXPECTED, text);
}

/** The address as `parseStoreAddress` reads it. */
export function formatStoreAddress(store: StoreAddress): string {
  return store.kind === 'redis' ? `redis://${store.host.includes(':') ? `[${store.host}]` : store.host}:${store.port}` : `file://${store.path}`;
}

/** Whether members meeting through this store can only be on this host (a Redis store on loopback). */
export function isLoopbackStore(store: StoreAddress): boolean {
  return store.kind === 'redis' && /^(127\.|localhost$|::1$)/.test(store.host);
}
