// The fused optimizer updates of native/fused-update (WebAssembly SIMD, four
// lanes) with eight lanes of AVX2, for the CPUs that have it (the caller
// checks, see fused-update.h). Each operation is the same float32 operation
// in the same order as there (no fused multiply-add: this file enables AVX2
// only), so the results are bit for bit the WebAssembly kernels', which are
// the eager optimizer's. Buffers are padded to a multiple of four floats;
// the last four, where eight do not fit, go four lanes at a time.
#pragma GCC target("avx2")
#include "fused-update.h"

#include <immintrin.h>

namespace rxkeras {
namespace {

struct Lanes8 {
  using V = __m256;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V x) { _mm256_storeu_ps(p, x); }
  static V splat(float x) { return _mm256_set1_ps(x); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V sqrt(V a) { return _mm256_sqrt_ps(a); }
  // WebAssembly's max is NaN when either is (x86's gives the second operand): a + b carries the NaN.
  static V max(V a, V b) { return _mm256_blendv_ps(_mm256_max_ps(a, b), _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q)); }
};

struct Lanes4 {
  using V = __m128;
  static V load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, V x) { _mm_storeu_ps(p, x); }
  static V splat(float x) { return _mm_set1_ps(x); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static V sub(V a, V b) { return _mm_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm_mul_ps(a, b); }
  static V div(V a, V b) { return _mm_div_ps(a, b); }
  static V sqrt(V a) { return _mm_sqrt_ps(a); }
  static V max(V a, V b) { return _mm_blendv_ps(_mm_max_ps(a, b), _mm_add_ps(a, b), _mm_cmpunord_ps(a, b)); }
};

/** `Body<L>::run(a, i)` over n floats padded to a multiple of 4: eight lanes, then four. */
template <template <class> class Body, class A>
void lanes(const A& a, size_t n) {
  size_t padded = (n + 3) / 4 * 4, eights = padded / 8 * 8, i = 0;
  for (; i < eights; i += 8) Body<Lanes8>::run(a, i);
  for (; i < padded; i += 4) Body<Lanes4>::run(a, i);
}

template <class L>
typename L::V grad(const float* g, const float* g2, bool two, size_t i) {
  return two ? L::add(L::load(g + i), L::load(g2 + i)) : L::load(g + i);
}

template <class L>
struct Sgd {
  static void run(const SgdArgs& a, size_t i) {
    auto u = L::mul(grad<L>(a.g, a.g2, a.twoGrads, i), L::splat(a.nlr));
    if (!a.useMomentum) {
      L::store(a.pOut + i, L::add(L::load(a.p + i), u));
      return;
    }
    auto d = L::splat(a.d);
    auto m = L::add(L::mul(L::load(a.mom + i), d), u);
    L::store(a.momOut + i, m);
    L::store(a.pOut + i, L::add(L::load(a.p + i), a.nesterov ? L::add(L::mul(m, d), u) : m));
  }
};

template <class L>
struct Adam {
  static void run(const AdamArgs& a, size_t i) {
    auto gi = grad<L>(a.g, a.g2, a.twoGrads, i);
    auto m = L::add(L::mul(L::load(a.m + i), L::splat(a.b1)), L::mul(gi, L::splat(a.c1)));
    auto v = L::add(L::mul(L::load(a.v + i), L::splat(a.b2)), L::mul(L::mul(gi, gi), L::splat(a.c2)));
    L::store(a.mOut + i, m);
    L::store(a.vOut + i, v);
    auto den = v;
    if (a.amsgrad) {
      den = L::max(L::load(a.vh + i), v);
      L::store(a.vhOut + i, den);
    }
    auto u = L::div(L::mul(m, L::splat(a.alpha)), L::add(L::sqrt(den), L::splat(a.eps)));
    L::store(a.pOut + i, L::add(L::load(a.p + i), L::mul(u, L::splat(a.nlr))));
  }
};

template <class L>
struct Rmsprop {
  static void run(const RmspropArgs& a, size_t i) {
    auto gi = grad<L>(a.g, a.g2, a.twoGrads, i);
    auto rho = L::splat(a.rho), c = L::splat(a.c);
    auto rms = L::add(L::mul(L::load(a.rms + i), rho), L::mul(L::mul(gi, gi), c));
    L::store(a.rmsOut + i, rms);
    auto den = rms;
    if (a.centered) {
      auto mg = L::add(L::mul(L::load(a.mg + i), rho), L::mul(gi, c));
      L::store(a.mgOut + i, mg);
      den = L::sub(rms, L::mul(mg, mg));
    }
    if (a.useMomentum) {
      auto step = L::mul(L::div(gi, L::sqrt(L::add(den, L::splat(a.eps)))), L::splat(a.lr));
      auto mom = L::add(L::mul(L::load(a.mom + i), L::splat(a.d)), step);
      L::store(a.momOut + i, mom);
      L::store(a.pOut + i, L::sub(L::load(a.p + i), mom));
    } else {
      auto step = L::mul(L::div(gi, L::add(L::sqrt(den), L::splat(a.eps))), L::splat(a.nlr));
      L::store(a.pOut + i, L::add(L::load(a.p + i), step));
    }
  }
};

}  // namespace

void sgdAvx2(const SgdArgs& a) { lanes<Sgd>(a, a.n); }
void adamAvx2(const AdamArgs& a) { lanes<Adam>(a, a.n); }
void rmspropAvx2(const RmspropArgs& a) { lanes<Rmsprop>(a, a.n); }

}  // namespace rxkeras
