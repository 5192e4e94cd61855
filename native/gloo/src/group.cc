#include "group.h"

#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/rendezvous/redis_store.h>
#include <gloo/transport/tcp/device.h>

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
    leave();
    context_.reset();
    return;
  }
  if (!failure_.empty()) {
    job.code = "closed";
    job.message = "the group failed earlier: " + failure_;
    return;
  }
  try {
    const auto tag = job.kind == Job::CONNECT ? 0 : tag_++;
    switch (job.kind) {
      case Job::CONNECT:
        connect();
        break;
      case Job::ALLREDUCE: {
        gloo::AllreduceOptions opts(context_);
        opts.setOutput(job.data, job.count);
        opts.setReduceFunction(static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
        opts.setAlgorithm(options_.bcube ? gloo::AllreduceOptions::Algorithm::BCUBE
                                         : gloo::AllreduceOptions::Algorithm::RING);
        opts.setTag(tag);
        opts.setTimeout(options_.timeout);
        gloo::allreduce(opts);
        break;
      }
      case Job::BROADCAST: {
        gloo::BroadcastOptions opts(context_);
        opts.setOutput(job.data, job.count);
        opts.setRoot(job.root);
        opts.setTag(tag);
        opts.setTimeout(options_.timeout);
        gloo::broadcast(opts);
        break;
      }
      case Job::BARRIER: {
        gloo::BarrierOptions opts(context_);
        opts.setTag(tag);
        opts.setTimeout(options_.timeout);
        gloo::barrier(opts);
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
  const std::string where = " during " + op + " #" + std::to_string(tag_ - 1) + " (" + cause + ")";
  if (!probe.stopped.empty()) {
    job.code = "lost-rank";
    job.ranks = probe.stopped;
    job.message = "rank(s) " + list(probe.stopped) + " stopped responding (no heartbeat for " +
                  std::to_string(window.count()) + " ms)" + where;
  } else if (!probe.left.empty()) {
    job.code = "lost-rank";
    job.ranks = probe.left;
    job.message = "rank(s) " + list(probe.left) + " left the group" + where;
  } else if (cause.find("Timed out") != std::string::npos) {
    job.code = "timeout";
    job.message = op + " #" + std::to_string(tag_ - 1) + " did not complete within " +
                  std::to_string(options_.timeout.count()) + " ms (" + cause + ")" + unknown;
  } else {
    job.code = "failed";
    job.message = op + " #" + std::to_string(tag_ - 1) + " failed: " + cause + unknown;
  }
}

}  // namespace rxkeras
