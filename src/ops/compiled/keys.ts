/**
 * Where random keys come from while a step is traced. core/rng reports each
 * derived key (fold-in or split) here; a traced random op's seed can then
 * be re-derived from another step's key without running the step's code
 * again (see jit.ts).
 */
export interface Derivation {
  parent: number;
  data: number | string;
  derive(parent: number, data: number | string): number;
}

let table: Map<number, Derivation> | undefined;

/** Called by core/rng for every derived key; records it while a trace listens. */
export function noteKey(child: number, parent: number, data: number | string, derive: Derivation['derive']): void {
  if (table && !table.has(child)) table.set(child, { parent, data, derive });
}

/** Records key derivations while `fn` runs. */
export function listenToKeys<T>(fn: () => T): { result: T; derivations: Map<number, Derivation> } {
  const outer = table;
  const derivations = new Map<number, Derivation>(outer);
  table = derivations;
  try {
    return { result: fn(), derivations };
  } finally {
    if (outer) for (const [k, d] of derivations) if (!outer.has(k)) outer.set(k, d);
    table = outer;
  }
}

/** The chain of derivations from a root key down to `key` (empty for a root). */
export function chainOf(key: number, derivations: Map<number, Derivation>): Derivation[] {
  const chain: Derivation[] = [];
  for (let k = key, d = derivations.get(k); d; k = d.parent, d = derivations.get(k)) chain.unshift(d);
  return chain;
}
