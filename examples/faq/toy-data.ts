/**
 * The data the FAQ examples train on: rows of 8 features in [-1, 1] from a
 * seeded generator, labelled 1 when their sum is positive. `RXKERAS_FAQ_SMALL=1`
 * (used by the test that runs every example) makes every example small.
 */
export const SMALL = process.env.RXKERAS_FAQ_SMALL === '1';

/** `n` rows: x is n x 8, y is n x 1 (0 or 1). */
export function toyData(n: number, seed = 1): { x: number[][]; y: number[][] } {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
  const x = Array.from({ length: n }, () => Array.from({ length: 8 }, rand));
  const y = x.map((r) => [r.reduce((a, b) => a + b, 0) > 0 ? 1 : 0]);
  return { x, y };
}
