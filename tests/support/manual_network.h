// ManualNetwork: an in-memory network of N nodes for protocol tests, driven by
// one ManualTimers (over a ManualClock). Node i owns a core::Transport whose
// address is i; send() delivers through the timers after a latency (plus an
// optional seeded jitter), unless the message is lost (seeded), its direction
// is blocked, or either end is down. Counts messages and bytes. Deterministic:
// the same sends and seed give the same deliveries, in the same order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/runtime/transport.h"
#include "support/manual_timers.h"

namespace hcsim::test_support {

struct ManualNetworkOptions {
  core::TimeNs latency_ns = 1'000'000;  // every delivery takes this long ...
  core::TimeNs jitter_ns = 0;           // ... plus uniform [0, jitter] (seeded)
  double loss_probability = 0.0;        // each message lost with this probability (seeded)
  std::uint64_t seed = 1;
};

class ManualNetwork {
 public:
  using Address = core::TransportAddress;
  using Options = ManualNetworkOptions;

  struct Stats {
    std::uint64_t sent = 0;       // send() calls, accepted or not
    std::uint64_t bytes_sent = 0;
    std::uint64_t delivered = 0;  // handed to a receiver
    std::uint64_t bytes_delivered = 0;
    std::uint64_t lost = 0;       // dropped by the loss probability
    std::uint64_t blocked = 0;    // dropped by a blocked direction or a down node (at send or delivery)
    std::uint64_t unrouted = 0;   // to an address outside the network, or to a node with no receiver
    std::size_t max_message_bytes = 0;
  };

  // Called for every send() before any drop decision (the harness decodes
  // or measures messages here).
  using Tap = std::function<void(Address from, Address to, std::string_view bytes)>;

  ManualNetwork(ManualTimers& timers, std::size_t nodes, Options options = {})
      : timers_(timers), options_(options), random_(options.seed) {
    for (std::size_t i = 0; i < nodes; ++i) {
      nodes_.push_back(std::make_unique<NodeTransport>(*this, static_cast<Address>(i)));
    }
  }
  ManualNetwork(const ManualNetwork&) = delete;
  ManualNetwork& operator=(const ManualNetwork&) = delete;

  std::size_t size() const { return nodes_.size(); }
  core::Transport& transport(std::size_t i) { return *nodes_.at(i); }
  const Stats& stats() const { return stats_; }
  // Messages and bytes node i has sent (accepted or not).
  std::uint64_t sent_by(std::size_t i) const { return nodes_.at(i)->sent; }
  std::uint64_t bytes_sent_by(std::size_t i) const { return nodes_.at(i)->bytes_sent; }
  void set_tap(Tap tap) { tap_ = std::move(tap); }

  // Blocks messages from every node in `a` to every node in `b` and back.
  void partition(const std::vector<Address>& a, const std::vector<Address>& b) {
    for (Address x : a) {
      for (Address y : b) {
        block(x, y);
        block(y, x);
      }
    }
  }
  // Blocks one direction only.
  void block(Address from, Address to) { blocked_.insert({from, to}); }
  void unblock(Address from, Address to) { blocked_.erase({from, to}); }
  // Removes every block (down nodes stay down).
  void heal() { blocked_.clear(); }
  bool is_blocked(Address from, Address to) const { return blocked_.count({from, to}) != 0; }

  // A down node neither sends nor receives (messages in flight to it are dropped).
  void set_down(Address node, bool down) {
    if (down) {
      down_.insert(node);
    } else {
      down_.erase(node);
    }
  }
  bool is_down(Address node) const { return down_.count(node) != 0; }

  // Hands `bytes` to `to`'s receiver at once, as if sent by `from` (which
  // need not be a node): for malformed input. Ignores blocks and loss.
  void inject(Address from, Address to, std::string_view bytes) {
    if (to >= nodes_.size() || !nodes_[to]->receiver) {
      ++stats_.unrouted;
      return;
    }
    const core::Transport::Receiver receiver = nodes_[to]->receiver;
    receiver(from, bytes);
  }

 private:
  struct NodeTransport final : core::Transport {
    NodeTransport(ManualNetwork& owner, Address self_address) : net(owner), address(self_address) {}
    Address self() const override { return address; }
    bool send(Address to, std::string payload) override { return net.send(address, to, std::move(payload)); }
    void set_receiver(Receiver r) override { receiver = std::move(r); }

    ManualNetwork& net;
    const Address address;
    Receiver receiver;
    std::uint64_t sent = 0;
    std::uint64_t bytes_sent = 0;
  };

  bool passable(Address from, Address to) const {
    return !is_down(from) && !is_down(to) && !is_blocked(from, to);
  }

  bool send(Address from, Address to, std::string payload) {
    ++stats_.sent;
    stats_.bytes_sent += payload.size();
    stats_.max_message_bytes = std::max(stats_.max_message_bytes, payload.size());
    ++nodes_[from]->sent;
    nodes_[from]->bytes_sent += payload.size();
    if (tap_) tap_(from, to, payload);
    if (to >= nodes_.size()) {
      ++stats_.unrouted;
      return false;
    }
    if (!passable(from, to)) {
      ++stats_.blocked;
      return false;
    }
    // Draw both numbers for every message, so that the streams do not depend
    // on which options are on.
    const double loss_draw = random_.unit();
    const std::uint64_t jitter_draw = random_.next_u64();
    if (options_.loss_probability > 0.0 && loss_draw < options_.loss_probability) {
      ++stats_.lost;
      return false;
    }
    core::TimeNs delay = options_.latency_ns;
    if (options_.jitter_ns > 0) {
      delay += static_cast<core::TimeNs>(jitter_draw % (static_cast<std::uint64_t>(options_.jitter_ns) + 1));
    }
    timers_.schedule(delay, [this, from, to, payload = std::move(payload)] { deliver(from, to, payload); });
    return true;
  }

  void deliver(Address from, Address to, const std::string& payload) {
    if (!passable(from, to)) {  // cut off while in flight
      ++stats_.blocked;
      return;
    }
    if (!nodes_[to]->receiver) {
      ++stats_.unrouted;
      return;
    }
    ++stats_.delivered;
    stats_.bytes_delivered += payload.size();
    // A copy: the receiver may replace itself (a node restarting) while it runs.
    const core::Transport::Receiver receiver = nodes_[to]->receiver;
    receiver(from, payload);
  }

  ManualTimers& timers_;
  const Options options_;
  core::SeededRandom random_;
  std::vector<std::unique_ptr<NodeTransport>> nodes_;
  std::set<std::pair<Address, Address>> blocked_;
  std::set<Address> down_;
  Stats stats_;
  Tap tap_;
};

}  // namespace hcsim::test_support
