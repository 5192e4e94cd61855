#include "group.h"

#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/allreduce_ring_chunked.h>
#include <gloo/barrier_all_to_all.h>
#include <gloo/broadcast_one_to_all.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/rendezvous/redis_store.h>
#include <gloo/transport/tcp/device.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace rxkeras {
namespace {

struct RendezvousError : std::runtime_error {
  RendezvousError(const std::string& message, std::vector<int> ranks)
      : std::runtime_error(message), ranks(std::move(ranks)) {}
  std::vector<int> ranks;
};

std::string list(const std::vector<int>& ranks) {
  std::ostringstream out;
  for (size_t i = 0; i < ranks.size(); i++) out << (i ? ", " : "") << ranks[i];
  return out.str();
}

const char* opName(Job::Kind kind) {
  switch (kind) {
    case Job::ALLREDUCE: return "all-reduce";
    case Job::BROADCAST: return "broadcast";
    case Job::BARRIER: return "barrier";
    default: return "rendezvous";
  }
}

}  // namespace

Group::Group(GroupOptions options, std::function<void(Job*)> done)
    : options_(std::move(options)), done_(std::move(done)), worker_([this] { run(); }) {}

Group::~Group() {
  if (worker_.joinable()) worker_.join();
}

void Group::submit(Job* job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
  }
  cv_.notify_one();
}

void Group::leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (liveness_) liveness_->leave();
}

void Group::silence() {
  std::lock_guard<std::mutex> lock(doneMutex_);
  silenced_ = true;
}

void Group::run() {
  for (;;) {
    Job* job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return !queue_.empty(); });
      job = queue_.front();
      queue_.pop_front();
    }
    const bool last = job->kind == Job::CLOSE;
    execute(*job);
    {
      std::lock_guard<std::mutex> lock(doneMutex_);
      if (!silenced_) done_(job);
    }
    if (last) return;
  }
}

void Group::execute(Job& job) {
  if (job.kind == Job::CLOSE) {
    // A peer may still be finishing the last collective, waiting for what this rank sent last (Gloo's algorithms
    // return before their final sends are out): a last barrier, so that nobody's connections go while a peer still
    // reads them. Its own failure (a peer gone already, or closing first) changes nothing.
    if (context_ && failure_.empty()) {
      try {
        gloo::BarrierOptions opts(context_);
        opts.setTag(operations_);
        opts.setTimeout(options_.timeout);
        gloo::barrier(opts);
      } catch (const std::exception&) {
      }
    }
    leave();
    bound_.clear();  // they hold the context
    context_.reset();
    return;
  }
  if (!failure_.empty()) {
    job.code = "closed";
    job.message = "the group failed earlier: " + failure_;
    return;
  }
  try {
    if (job.kind != Job::CONNECT) operations_++;
    switch (job.kind) {
      case Job::CONNECT:
        connect();
        break;
      case Job::ALLREDUCE:
        if (options_.bcube) {
          // Gloo's bcube object is wrong for group sizes that are not a power of its base: the options-based one is not.
          gloo::AllreduceOptions opts(context_);
          opts.setOutput(job.data, job.count);
          opts.setReduceFunction(static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
          opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::BCUBE);
          opts.setTag(operations_);
          opts.setTimeout(options_.timeout);
          gloo::allreduce(opts);
          break;
        }
        [[fallthrough]];
      case Job::BROADCAST:
      case Job::BARRIER: {
        Bound& b = bound(job);
        if (job.count > 0) std::memcpy(b.staging.data(), job.data, job.count * sizeof(float));
        b.algorithm->run();
        if (job.count > 0) std::memcpy(job.data, b.staging.data(), job.count * sizeof(float));
        break;
      }
      case Job::CLOSE:
        break;
    }
  } catch (const std::exception& e) {
    explain(job, e);
    failure_ = job.message;
  }
}

Group::Bound& Group::bound(const Job& job) {
  const int root = job.kind == Job::BROADCAST ? job.root : 0;
  auto hit = std::find_if(bound_.begin(), bound_.end(),
                          [&](const Bound& b) { return b.kind == job.kind && b.count == job.count && b.root == root; });
  if (hit != bound_.end()) {
    if (hit != bound_.begin()) {
      Bound moved = std::move(*hit);
      bound_.erase(hit);
      bound_.push_front(std::move(moved));
    }
    return bound_.front();
  }
  // A few shapes recur (the fused gradients, the losses): more would be a caller building new sizes every step.
  constexpr size_t kKept = 8;
  if (bound_.size() == kKept) bound_.pop_back();
  Bound b{job.kind, job.count, root, std::vector<float>(job.count), nullptr};
  const std::vector<float*> ptrs{b.staging.data()};
  switch (job.kind) {
    case Job::ALLREDUCE:
      b.algorithm = std::make_unique<gloo::AllreduceRingChunked<float>>(context_, ptrs, static_cast<int>(job.count));
      break;
    case Job::BROADCAST:
      b.algorithm = std::make_unique<gloo::BroadcastOneToAll<float>>(context_, ptrs, job.count, root);
      break;
    default:
      b.algorithm = std::make_unique<gloo::BarrierAllToAll>(context_);
      break;
  }
  bound_.push_front(std::move(b));
  return bound_.front();
}

void Group::connect() {
  {
    auto liveness = Liveness::open(options_.store, options_.prefix, options_.rank, options_.size);
    std::lock_guard<std::mutex> lock(mutex_);
    liveness_ = std::move(liveness);
  }
  if (liveness_->posted()) {
    throw RendezvousError("rank " + std::to_string(options_.rank) + " of run '" + options_.prefix +
                              "' has already joined through this store: a rank given twice, or a run id used before "
                              "(Gloo's store keys are written once; give each launch a new run id)",
                          {});
  }
  liveness_->start(options_.heartbeat);
  // Everyone posts a heartbeat first, so a member that never comes is named.
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  auto absent = liveness_->absent();
  while (!absent.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    absent = liveness_->absent();
  }
  if (!absent.empty()) {
    throw RendezvousError(
        "rank(s) " + list(absent) + " did not join within " + std::to_string(options_.timeout.count()) + " ms", absent);
  }

  std::unique_ptr<gloo::rendezvous::Store> store;
  if (options_.store.kind == "redis") {
    store = std::make_unique<gloo::rendezvous::RedisStore>(options_.store.host, options_.store.port);
  } else {
    store = std::make_unique<gloo::rendezvous::FileStore>(options_.store.path);
  }
  gloo::rendezvous::PrefixStore prefixed(options_.prefix, *store);

  gloo::transport::tcp::attr attr;
  if (!options_.iface.empty()) {
    attr.iface = options_.iface;
  } else {
    attr.hostname = options_.hostname;
  }
  auto device = gloo::transport::tcp::CreateDevice(attr);
  auto context = std::make_shared<gloo::rendezvous::Context>(options_.rank, options_.size);
  context->setTimeout(options_.timeout);
  context->connectFullMesh(prefixed, device);
  context_ = context;
}

void Group::explain(Job& job, const std::exception& e) {
  const std::string op = opName(job.kind);
  const std::string cause = e.what();
  if (job.kind == Job::CONNECT) {
    job.code = "rendezvous";
    job.message = cause;
    if (auto* r = dynamic_cast<const RendezvousError*>(&e)) job.ranks = r->ranks;
    return;
  }
  // Gloo names a socket or only a timeout: ask the liveness board who is gone.
  const auto window = std::max(options_.heartbeat * 5, std::chrono::milliseconds(500));
  Probe probe;
  std::string unknown;
  try {
    probe = liveness_->probe(window);
  } catch (const std::exception& board) {
    unknown = "; the store could not tell who is alive: " + std::string(board.what());
  }
  const std::string where = " during " + op + " #" + std::to_string(operations_ - 1) + " (" + cause + ")";
  if (!probe.stopped.empty()) {
    job.code = "lost-rank";
    job.ranks = probe.stopped;
    job.message = "rank(s) " + list(probe.stopped) + " stopped responding (no heartbeat for " +
                  std::to_string(window.count()) + " ms)" + where;
  } else if (!probe.left.empty()) {
    job.code = "lost-rank";
    job.ranks = probe.left;
    job.message = "rank(s) " + list(probe.left) + " left the group" + where;
  } else if (cause.find("Timed out") != std::string::npos || cause.find("Read timeout") != std::string::npos) {
    // The first from Gloo's options-based collectives, the second from its algorithm objects' buffers.
    job.code = "timeout";
    job.message = op + " #" + std::to_string(operations_ - 1) + " did not complete within " +
                  std::to_string(options_.timeout.count()) + " ms (" + cause + ")" + unknown;
  } else {
    job.code = "failed";
    job.message = op + " #" + std::to_string(operations_ - 1) + " failed: " + cause + unknown;
  }
}

}  // namespace rxkeras
