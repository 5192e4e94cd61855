// One member of a Gloo group: the rendezvous, the collectives, and the thread
// they run on. Operations queue in call order (every member issues the same
// operations in the same order) and run one at a time off the JS thread; each
// finished job is handed to `done`, which the binding posts back to JS.
#pragma once

#include <gloo/algorithm.h>
#include <gloo/context.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "liveness.h"

namespace rxkeras {

struct GroupOptions {
  int rank = 0;
  int size = 1;
  StoreAddress store;
  std::string prefix;    // the run's namespace in the store
  std::string hostname;  // address this member listens on and advertises ("" with iface unset: the host name)
  std::string iface;     // or a network interface to take the address from
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds heartbeat{200};
  bool bcube = false;  // all-reduce algorithm: ring (default) or bcube
};

struct Job {
  enum Kind { CONNECT, ALLREDUCE, BROADCAST, BARRIER, CLOSE } kind;
  float* data = nullptr;
  size_t count = 0;
  int root = 0;
  void* owner = nullptr;  // the binding's promise and buffer reference
  // Result: an empty code means success.
  std::string code;  // "lost-rank" | "timeout" | "rendezvous" | "closed" | "failed"
  std::string message;
  std::vector<int> ranks;
};

class Group {
 public:
  Group(GroupOptions options, std::function<void(Job*)> done);
  ~Group();  // joins the worker: call only once CLOSE has been processed

  void submit(Job* job);
  const GroupOptions& options() const { return options_; }
  // Posts the leave mark (at process exit, so that peers report "left", not "stopped").
  void leave();
  // From now on finished jobs are dropped instead of handed to `done` (the JS environment is going away).
  void silence();

 private:
  void run();
  void execute(Job& job);
  void connect();
  void explain(Job& job, const std::exception& e);

  // Gloo's algorithm objects (chunked ring all-reduce, whose reduce-then-share
  // passes give every member the bit-identical sum; one-to-all broadcast;
  // barrier), each bound to a buffer of its own. Measured here: the
  // options-based gloo::allreduce takes 2-5 ms even for 16 floats, these
  // 0.1-0.2 ms; but building one takes ~16 ms for 670k floats, so they are
  // kept. Keyed by operation, count and root, never by the caller's address:
  // every member then builds the same objects in the same order, which keeps
  // Gloo's slot numbers matched.
  struct Bound {
    Job::Kind kind;
    size_t count;
    int root;
    std::vector<float> staging;
    std::unique_ptr<gloo::Algorithm> algorithm;
  };
  Bound& bound(const Job& job);
  std::deque<Bound> bound_;  // most recently used first

  const GroupOptions options_;
  const std::function<void(Job*)> done_;
  std::unique_ptr<Liveness> liveness_;
  std::shared_ptr<gloo::Context> context_;
  uint32_t operations_ = 0;  // collectives run so far, named in errors
  std::string failure_;  // set once an operation failed: the group is unusable from then on

  std::mutex doneMutex_;
  bool silenced_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  std::thread worker_;
};

}  // namespace rxkeras
