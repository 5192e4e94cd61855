// AssemblyScript source of the fused optimizer updates (src/ops/compiled/fused-update.ts),
// compiled to build/fused-update.wasm by `npm run build` (build.mjs).
//
// Each kernel reads a weight, its gradient and its slots once and writes the
// new weight and slots, four float32 lanes at a time. Every operation is one
// float32 operation, in the order the traced (eager) optimizer computes it,
// so the results are the eager ones. Arguments are byte offsets into this
// module's memory; buffers are 16-byte aligned and padded to a multiple of
// four floats (the padding lanes compute garbage nobody reads). With `twoGrads`
// the gradient is the sum g + g2, added as it is read (two data-parallel
// members' gradients, which the update then sums without a pass of its own;
// the same float32 addition a separate sum would make).

export function heapBase(): usize {
  return __heap_base;
}

@inline function ld(base: usize, i: usize): v128 {
  return v128.load(base + i);
}

@inline function grad(g: usize, g2: usize, twoGrads: bool, i: usize): v128 {
  return twoGrads ? f32x4.add(ld(g, i), ld(g2, i)) : ld(g, i);
}

@inline function st(base: usize, i: usize, x: v128): void {
  v128.store(base + i, x);
}

/** SGD: p += -lr g; with momentum mom = d mom + (-lr g), p += mom (Nesterov: d mom + (-lr g)). */
export function sgd(p: usize, g: usize, g2: usize, mom: usize, pOut: usize, momOut: usize, n: i32, nlr: f32, d: f32, useMomentum: bool, nesterov: bool, twoGrads: bool): void {
  const vnlr = f32x4.splat(nlr);
  const vd = f32x4.splat(d);
  const bytes = (<usize>n) << 2;
  for (let i: usize = 0; i < bytes; i += 16) {
    const u = f32x4.mul(grad(g, g2, twoGrads, i), vnlr);
    if (!useMomentum) {
      st(pOut, i, f32x4.add(ld(p, i), u));
      continue;
    }
    const m = f32x4.add(f32x4.mul(ld(mom, i), vd), u);
    st(momOut, i, m);
    st(pOut, i, f32x4.add(ld(p, i), nesterov ? f32x4.add(f32x4.mul(m, vd), u) : m));
  }
}

/** Adam (epsilon hat): m = b1 m + c1 g, v = b2 v + c2 g^2, [vh = max(vh, v)], p += (m alpha / (sqrt(v or vh) + eps)) (-lr). */
export function adam(
  p: usize, g: usize, g2: usize, m0: usize, v0: usize, vh0: usize, pOut: usize, mOut: usize, vOut: usize, vhOut: usize, n: i32,
  b1: f32, c1: f32, b2: f32, c2: f32, alpha: f32, eps: f32, nlr: f32, amsgrad: bool, twoGrads: bool,
): void {
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1), vb2 = f32x4.splat(b2), vc2 = f32x4.splat(c2);
  const valpha = f32x4.splat(alpha), veps = f32x4.splat(eps), vnlr = f32x4.splat(nlr);
  const bytes = (<usize>n) << 2;
  for (let i: usize = 0; i < bytes; i += 16) {
    const gi = grad(g, g2, twoGrads, i);
    const m = f32x4.add(f32x4.mul(ld(m0, i), vb1), f32x4.mul(gi, vc1));
    const v = f32x4.add(f32x4.mul(ld(v0, i), vb2), f32x4.mul(f32x4.mul(gi, gi), vc2));
    st(mOut, i, m);
    st(vOut, i, v);
    let den = v;
    if (amsgrad) {
      den = f32x4.max(ld(vh0, i), v);
      st(vhOut, i, den);
    }
    const u = f32x4.div(f32x4.mul(m, valpha), f32x4.add(f32x4.sqrt(den), veps));
    st(pOut, i, f32x4.add(ld(p, i), f32x4.mul(u, vnlr)));
  }
}

/**
 * RMSprop: rms = rho rms + c g^2; centered: mg = rho mg + c g and rms - mg^2 below.
 * Without momentum p += (g / (sqrt(den) + eps)) (-lr); with it (epsilon inside the
 * square root) mom = d mom + (g / sqrt(den + eps)) lr, p += -mom.
 */
export function rmsprop(
  p: usize, g: usize, g2: usize, rms0: usize, mg0: usize, mom0: usize, pOut: usize, rmsOut: usize, mgOut: usize, momOut: usize, n: i32,
  rho: f32, c: f32, eps: f32, lr: f32, nlr: f32, d: f32, centered: bool, useMomentum: bool, twoGrads: bool,
): void {
  const vrho = f32x4.splat(rho), vc = f32x4.splat(c), veps = f32x4.splat(eps);
  const vlr = f32x4.splat(lr), vnlr = f32x4.splat(nlr), vd = f32x4.splat(d);
  const bytes = (<usize>n) << 2;
  for (let i: usize = 0; i < bytes; i += 16) {
    const gi = grad(g, g2, twoGrads, i);
    const rms = f32x4.add(f32x4.mul(ld(rms0, i), vrho), f32x4.mul(f32x4.mul(gi, gi), vc));
    st(rmsOut, i, rms);
    let den = rms;
    if (centered) {
      const mg = f32x4.add(f32x4.mul(ld(mg0, i), vrho), f32x4.mul(gi, vc));
      st(mgOut, i, mg);
      den = f32x4.sub(rms, f32x4.mul(mg, mg));
    }
    if (useMomentum) {
      const mom = f32x4.add(f32x4.mul(ld(mom0, i), vd), f32x4.mul(f32x4.div(gi, f32x4.sqrt(f32x4.add(den, veps))), vlr));
      st(momOut, i, mom);
      st(pOut, i, f32x4.sub(ld(p, i), mom));
    } else st(pOut, i, f32x4.add(ld(p, i), f32x4.mul(f32x4.div(gi, f32x4.add(f32x4.sqrt(den), veps)), vnlr)));
  }
}
