// The N-API binding: a JS class `Group` over rxkeras::Group. Every operation
// returns a promise; the group's worker thread runs it and posts the result
// back through a thread-safe function, so the event loop stays free. The
// thread-safe function is referenced only while operations are in flight, so
// an idle group never keeps the process alive.
#include <node_api.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include "group.h"
#include "host_memory.h"

namespace rxkeras {
namespace {

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "rxkeras gloo: " #call " failed"); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

// One per Node.js environment (the main thread and each worker thread that loads the addon).
struct EnvState {
  bool tearingDown = false;  // the environment is going away: its groups' results are dropped
};

struct Binding {
  Group* group = nullptr;
  EnvState* state = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  int inflight = 0;
  bool closing = false;    // close() was called (or the wrapper was collected)
  bool collected = false;  // the JS object is gone
};

struct Pending {
  napi_deferred deferred = nullptr;
  napi_ref buffer = nullptr;
};

// Groups still open, of every environment, so that a process that exits without close()
// posts their leave marks.
std::mutex registryMutex;
std::set<Binding*> registry;

void leaveAll() {
  std::lock_guard<std::mutex> lock(registryMutex);
  for (auto* b : registry) b->group->leave();
}

// An environment goes away (the process ends, or a worker thread does): no job of its groups
// may reach its thread-safe functions any more, and its groups still open are left where they
// are (their threads end with the process). Other environments' groups go on.
void leaveAtCleanup(void* data) {
  auto* state = static_cast<EnvState*>(data);
  std::lock_guard<std::mutex> lock(registryMutex);
  state->tearingDown = true;
  for (auto* b : registry) {
    if (b->state != state) continue;
    b->group->silence();
    b->group->leave();
  }
}

napi_value errorFor(napi_env env, const Job& job) {
  napi_value message, error, code, ranks;
  napi_create_string_utf8(env, job.message.c_str(), job.message.size(), &message);
  napi_create_error(env, nullptr, message, &error);
  napi_create_string_utf8(env, job.code.c_str(), job.code.size(), &code);
  napi_set_named_property(env, error, "code", code);
  napi_create_array_with_length(env, job.ranks.size(), &ranks);
  for (size_t i = 0; i < job.ranks.size(); i++) {
    napi_value r;
    napi_create_int32(env, job.ranks[i], &r);
    napi_set_element(env, ranks, i, r);
  }
  napi_set_named_property(env, error, "ranks", ranks);
  return error;
}

void finishGroup(Binding* b) {
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    registry.erase(b);
  }
  delete b->group;  // joins the worker, which has returned after CLOSE
  b->group = nullptr;
}

// Runs on the JS thread for each finished job (env is null while the environment is torn down).
void settle(napi_env env, napi_value, void* context, void* data) {
  auto* b = static_cast<Binding*>(context);
  auto* job = static_cast<Job*>(data);
  auto* pending = static_cast<Pending*>(job->owner);
  if (env != nullptr && pending != nullptr) {
    if (job->code.empty()) {
      napi_value undefined;
      napi_get_undefined(env, &undefined);
      napi_resolve_deferred(env, pending->deferred, undefined);
    } else {
      napi_reject_deferred(env, pending->deferred, errorFor(env, *job));
    }
    if (pending->buffer) napi_delete_reference(env, pending->buffer);
  }
  delete pending;
  const bool closed = job->kind == Job::CLOSE;
  delete job;
  if (env != nullptr && --b->inflight == 0) napi_unref_threadsafe_function(env, b->tsfn);
  if (closed) {
    finishGroup(b);
    napi_release_threadsafe_function(b->tsfn, napi_tsfn_release);
    if (b->collected) delete b;
  }
}

void submit(napi_env env, Binding* b, Job* job) {
  if (b->inflight++ == 0) napi_ref_threadsafe_function(env, b->tsfn);
  b->group->submit(job);
}

Binding* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  void* b = nullptr;
  if (napi_unwrap(env, self, &b) != napi_ok) napi_throw_type_error(env, nullptr, "rxkeras gloo: not a Group");
  return static_cast<Binding*>(b);
}

// Queues `kind` and returns its promise; a closed group rejects at once.
napi_value enqueue(napi_env env, Binding* b, Job::Kind kind, napi_value buffer, int root) {
  auto* job = new Job();
  job->kind = kind;
  job->root = root;
  if (buffer != nullptr) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    if (napi_get_typedarray_info(env, buffer, &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array) {
      delete job;
      napi_throw_type_error(env, nullptr, "rxkeras gloo: expected a Float32Array");
      return nullptr;
    }
    job->data = static_cast<float*>(data);
    job->count = length;
  }
  napi_value promise;
  auto* pending = new Pending();
  job->owner = pending;
  CHECK(napi_create_promise(env, &pending->deferred, &promise));
  if (b->closing) {
    job->code = "closed";
    job->message = "the group is closed";
    napi_reject_deferred(env, pending->deferred, errorFor(env, *job));
    delete pending;
    delete job;
    return promise;
  }
  // The buffer stays referenced until the job is settled, so its memory outlives the operation.
  if (buffer != nullptr) CHECK(napi_create_reference(env, buffer, 1, &pending->buffer));
  if (kind == Job::CLOSE) b->closing = true;
  submit(env, b, job);
  return promise;
}

napi_value Connect(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  auto* b = unwrap(env, info, &argc, nullptr);
  return b ? enqueue(env, b, Job::CONNECT, nullptr, 0) : nullptr;
}

napi_value AllReduce(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  auto* b = unwrap(env, info, &argc, argv);
  return b && argc == 1 ? enqueue(env, b, Job::ALLREDUCE, argv[0], 0) : nullptr;
}

napi_value Broadcast(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  auto* b = unwrap(env, info, &argc, argv);
  if (b == nullptr || argc != 2) return nullptr;
  int32_t root = 0;
  CHECK(napi_get_value_int32(env, argv[1], &root));
  return enqueue(env, b, Job::BROADCAST, argv[0], root);
}

napi_value Barrier(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  auto* b = unwrap(env, info, &argc, nullptr);
  return b ? enqueue(env, b, Job::BARRIER, nullptr, 0) : nullptr;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  auto* b = unwrap(env, info, &argc, nullptr);
  return b ? enqueue(env, b, Job::CLOSE, nullptr, 0) : nullptr;
}

void collect(napi_env env, void* data, void*) {
  auto* b = static_cast<Binding*>(data);
  b->collected = true;
  if (b->state->tearingDown) return;
  if (b->group == nullptr) {
    delete b;
  } else if (!b->closing) {
    b->closing = true;
    submit(env, b, new Job{Job::CLOSE});
  }
}

std::string stringProperty(napi_env env, napi_value object, const char* name) {
  napi_value value;
  size_t length = 0;
  napi_get_named_property(env, object, name, &value);
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return "";
  std::string text(length, '\0');
  napi_get_value_string_utf8(env, value, text.data(), length + 1, &length);
  return text;
}

int intProperty(napi_env env, napi_value object, const char* name) {
  napi_value value;
  int32_t n = 0;
  napi_get_named_property(env, object, name, &value);
  napi_get_value_int32(env, value, &n);
  return n;
}

// new Group({ rank, size, storeKind, storeHost, storePort, storePath, prefix, hostname, iface,
//             timeoutMs, heartbeatMs, algorithm }): the JS wrapper validates the options.
napi_value Construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  GroupOptions o;
  o.rank = intProperty(env, argv[0], "rank");
  o.size = intProperty(env, argv[0], "size");
  o.store.kind = stringProperty(env, argv[0], "storeKind");
  o.store.host = stringProperty(env, argv[0], "storeHost");
  o.store.port = intProperty(env, argv[0], "storePort");
  o.store.path = stringProperty(env, argv[0], "storePath");
  o.prefix = stringProperty(env, argv[0], "prefix");
  o.hostname = stringProperty(env, argv[0], "hostname");
  o.iface = stringProperty(env, argv[0], "iface");
  o.timeout = std::chrono::milliseconds(intProperty(env, argv[0], "timeoutMs"));
  o.heartbeat = std::chrono::milliseconds(intProperty(env, argv[0], "heartbeatMs"));
  o.bcube = stringProperty(env, argv[0], "algorithm") == "bcube";

  void* state = nullptr;
  CHECK(napi_get_instance_data(env, &state));
  auto* b = new Binding();
  b->state = static_cast<EnvState*>(state);
  napi_value name;
  CHECK(napi_create_string_utf8(env, "rxkeras-gloo", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, b, settle, &b->tsfn));
  CHECK(napi_unref_threadsafe_function(env, b->tsfn));
  b->group = new Group(o, [tsfn = b->tsfn](Job* job) { napi_call_threadsafe_function(tsfn, job, napi_tsfn_blocking); });
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    registry.insert(b);
  }
  CHECK(napi_wrap(env, self, b, collect, nullptr, nullptr));
  return self;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"connect", nullptr, Connect, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"allReduce", nullptr, AllReduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"broadcast", nullptr, Broadcast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"barrier", nullptr, Barrier, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  CHECK(napi_define_class(env, "Group", NAPI_AUTO_LENGTH, Construct, nullptr, 5, methods, &cls));
  CHECK(napi_set_named_property(env, exports, "Group", cls));
  CHECK(defineHostMemory(env, exports));
  // Kept after the environment ends (a few bytes): finalizers that run after the hook read it.
  auto* state = new EnvState();
  CHECK(napi_set_instance_data(env, state, nullptr, nullptr));
  napi_add_env_cleanup_hook(env, leaveAtCleanup, state);
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(leaveAll); });
  return exports;
}

}  // namespace
}  // namespace rxkeras

NAPI_MODULE(NODE_GYP_MODULE_NAME, rxkeras::Init)
