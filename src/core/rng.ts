/**
 * Explicit, splittable random keys (as in JAX): a key is a 32-bit integer;
 * `split` derives independent child keys deterministically, so a seed makes
 * initialisation, shuffling and dropout reproducible bit for bit.
 */
import { noteKey } from '../ops/compiled/keys.js';

export type Key = number;

/** A key from a user seed; without one, from Math.random. */
export function makeKey(seed?: number): Key {
  return mix((seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0);
}

/** `n` independent keys derived from `key`. */
export function split(key: Key, n = 2): Key[] {
  const keys: Key[] = [];
  for (let i = 0; i < n; i++) keys.push(splitOne(key, i));
  return keys;
}

function splitOne(key: Key, i: number): Key {
  const child = mix((key + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
  noteKey(child, key, i, (k, d) => splitOne(k, d as number));
  return child;
}

/** A key for a named purpose, so that e.g. layer `dense_1` always gets the same stream. */
export function foldIn(key: Key, data: number | string): Key {
  const n = typeof data === 'number' ? data >>> 0 : hashString(data);
  const child = mix((key ^ Math.imul(n, 0x85ebca6b)) >>> 0);
  // A compiled step re-derives its random seeds from the next step's key (ops/compiled/jit.ts).
  noteKey(child, key, data, foldIn);
  return child;
}

/** A seed suitable for tfjs random ops (`tf.randomNormal(..., seed)`). */
export function seedOf(key: Key): number {
  return key >>> 0;
}

/** A float in [0, 1) and the next key. */
export function uniform(key: Key): [number, Key] {
  const [a, b] = split(key);
  return [a / 2 ** 32, b];
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates driven by the key). */
export function permutation(key: Key, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  let state = key >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = mix((state + 0x6d2b79f5) >>> 0);
    const j = Math.floor((state / 2 ** 32) * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

// murmur3's 32-bit finaliser: a bijection with good avalanche.
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
