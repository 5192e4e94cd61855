// The sum of a shared-memory all-reduce (src/parallel/shared-memory-collective.ts):
// the group's buffers live in one shared WebAssembly memory, which every
// member's instance of this module imports. V8's JavaScript loops over a
// SharedArrayBuffer run ~3x slower than over plain memory; this runs ~10x
// faster than them. Compiled to build/shared-sum.wasm by build.mjs.

/** out[i] = a[i] + b[i] for i < n floats; out, a and b are byte offsets (out may be a). */
export function add(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = (<usize>i) << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
    v128.store(out + o + 16, f32x4.add(v128.load(a + o + 16), v128.load(b + o + 16)));
    v128.store(out + o + 32, f32x4.add(v128.load(a + o + 32), v128.load(b + o + 32)));
    v128.store(out + o + 48, f32x4.add(v128.load(a + o + 48), v128.load(b + o + 48)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}
