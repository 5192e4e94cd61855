#pragma once
#include <node_api.h>

namespace rxkeras {
// Adds mapShared, futexWait and futexWake to the addon's exports (see host_memory.cc).
napi_status defineHostMemory(napi_env env, napi_value exports);
}  // namespace rxkeras
