// The fused optimizer updates with AVX2 (fused-update.cc) and their binding
// (fused-update-binding.cc). Pointers are into one memory (a WebAssembly
// memory's buffer); `n` floats each, padded to a multiple of four; outputs
// may be the inputs. Call the kernels only where the CPU has AVX2.
#pragma once
#include <cstddef>

#include <node_api.h>

namespace rxkeras {

struct SgdArgs {
  const float *p, *g, *g2, *mom;
  float *pOut, *momOut;
  size_t n;
  float nlr, d;
  bool useMomentum, nesterov, twoGrads;
};

struct AdamArgs {
  const float *p, *g, *g2, *m, *v, *vh;
  float *pOut, *mOut, *vOut, *vhOut;
  size_t n;
  float b1, c1, b2, c2, alpha, eps, nlr;
  bool amsgrad, twoGrads;
};

struct RmspropArgs {
  const float *p, *g, *g2, *rms, *mg, *mom;
  float *pOut, *rmsOut, *mgOut, *momOut;
  size_t n;
  float rho, c, eps, lr, nlr, d;
  bool centered, useMomentum, twoGrads;
};

void sgdAvx2(const SgdArgs& a);
void adamAvx2(const AdamArgs& a);
void rmspropAvx2(const RmspropArgs& a);

/** Adds `fusedUpdate` ({ sgd, adam, rmsprop }, the kernels of native/fused-update with a memory first) to `exports` where the CPU has AVX2. */
void addFusedUpdate(napi_env env, napi_value exports);

}  // namespace rxkeras
