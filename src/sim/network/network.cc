#include "sim/network/network.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace hcsim::sim {
namespace {

constexpr TimeNs kMaxTimeNs = std::numeric_limits<TimeNs>::max();
constexpr TimeNs kMaxTransmissionNs = TimeNs{1} << 62;

// a + b for a, b >= 0, saturating at the largest TimeNs.
TimeNs saturating_add(TimeNs a, TimeNs b) {
  assert(a >= 0 && b >= 0);
  return b > kMaxTimeNs - a ? kMaxTimeNs : a + b;
}

// Uniform in [0, 1): the same formula as core::RandomSource::unit().
double unit(core::SeededRandom& random) { return static_cast<double>(random.next() >> 11) * 0x1.0p-53; }

// ceil(bytes * 1e9 / bandwidth) ns, 0 for unlimited bandwidth, at most 2^62.
// Exact (integer arithmetic) when the bandwidth is a whole number of bytes/s.
TimeNs transmission_ns(std::uint32_t bytes, double bandwidth_bytes_per_s) {
  if (!(bandwidth_bytes_per_s > 0.0)) return 0;  // also NaN: unlimited
  if (bandwidth_bytes_per_s < 0x1.0p64 && bandwidth_bytes_per_s == std::floor(bandwidth_bytes_per_s)) {
    __extension__ using U128 = unsigned __int128;
    const auto bandwidth = static_cast<std::uint64_t>(bandwidth_bytes_per_s);
    const U128 scaled = static_cast<U128>(bytes) * 1'000'000'000u;
    const U128 tx = (scaled + bandwidth - 1) / bandwidth;
    return tx >= static_cast<U128>(kMaxTransmissionNs) ? kMaxTransmissionNs : static_cast<TimeNs>(tx);
  }
  const double tx = std::ceil(static_cast<double>(bytes) * 1e9 / bandwidth_bytes_per_s);
  return tx >= static_cast<double>(kMaxTransmissionNs) ? kMaxTransmissionNs : static_cast<TimeNs>(tx);
}

[[maybe_unused]] bool valid(const LinkConfig& c) {
  return c.latency.validate("latency").is_ok() && c.bandwidth_bytes_per_s >= 0.0 && c.loss >= 0.0 &&
         c.loss <= 1.0 && c.duplicate >= 0.0 && c.duplicate <= 1.0 && c.reorder >= 0.0 && c.reorder <= 1.0 &&
         c.reorder_delay_ns >= 0;
}

}  // namespace

Network::Network(Simulator& sim, LinkConfig default_link) : sim_(sim), default_link_(std::move(default_link)) {
  assert(valid(default_link_));
}

Network::~Network() {
  // Deliveries still queued capture `this`: take them out of the simulator.
  for (const Slot& s : slots_) {
    if (s.event != kInvalidEventId) sim_.cancel(s.event);
  }
}

EndpointId Network::add_endpoint(std::string name, Handler handler) {
  assert(endpoints_.size() < kNoEndpoint);
  const auto id = static_cast<EndpointId>(endpoints_.size());
  endpoints_.push_back(Endpoint{std::move(name), std::move(handler)});
  down_.push_back(0);
  side_a_.resize(side_a_.size() + words_, 0);
  side_b_.resize(side_b_.size() + words_, 0);
  return id;
}

void Network::set_handler(EndpointId id, Handler handler) {
  assert(id < endpoints_.size());
  if (id == running_) {  // replacing the function that is running: wait until it returns
    deferred_handler_ = std::move(handler);
    has_deferred_handler_ = true;
    return;
  }
  endpoints_[id].handler = std::move(handler);
}

void Network::set_link(EndpointId from, EndpointId to, const LinkConfig& config) {
  assert(from < endpoints_.size() && to < endpoints_.size());
  assert(valid(config));
  const std::uint64_t key = Simulator::link_index(from, to);
  if (const auto it = link_configs_.find(key); it != link_configs_.end()) {
    *it->second = config;  // the link's state already points here
    return;
  }
  auto owned = std::make_unique<LinkConfig>(config);
  const LinkConfig* stable = owned.get();
  link_configs_.emplace(key, std::move(owned));
  if (const auto it = links_.find(key); it != links_.end()) it->second.config = stable;
}

const LinkConfig& Network::link(EndpointId from, EndpointId to) const {
  assert(from < endpoints_.size() && to < endpoints_.size());
  const auto it = link_configs_.find(Simulator::link_index(from, to));
  return it != link_configs_.end() ? *it->second : default_link_;
}

void Network::set_default_link(const LinkConfig& config) {
  assert(valid(config));
  default_link_ = config;  // links without an override point at default_link_
}

void Network::set_down(EndpointId id, bool down) {
  assert(id < endpoints_.size());
  down_[id] = down ? 1 : 0;
}

void Network::set_words(std::size_t words) {
  assert(words > words_);
  const std::size_t n = endpoints_.size();
  std::vector<std::uint64_t> a(n * words, 0);
  std::vector<std::uint64_t> b(n * words, 0);
  for (std::size_t e = 0; e < n; ++e) {
    std::copy_n(side_a_.begin() + static_cast<std::ptrdiff_t>(e * words_), words_,
                a.begin() + static_cast<std::ptrdiff_t>(e * words));
    std::copy_n(side_b_.begin() + static_cast<std::ptrdiff_t>(e * words_), words_,
                b.begin() + static_cast<std::ptrdiff_t>(e * words));
  }
  side_a_.swap(a);
  side_b_.swap(b);
  two_way_.resize(words, 0);
  words_ = words;
}

void Network::partition(std::span<const EndpointId> a, std::span<const EndpointId> b, bool one_way) {
  assert(partitions_ < kMaxPartitions);
  const std::size_t rule = partitions_;
  const std::size_t word = rule / 64;
  if (word >= words_) set_words(word + 1);
  const std::uint64_t bit = std::uint64_t{1} << (rule % 64);
  for (const EndpointId id : a) {
    assert(id < endpoints_.size());
    side_a_[id * words_ + word] |= bit;
  }
  for (const EndpointId id : b) {
    assert(id < endpoints_.size());
    side_b_[id * words_ + word] |= bit;
  }
  if (!one_way) two_way_[word] |= bit;
  ++partitions_;
}

void Network::heal() {
  partitions_ = 0;
  words_ = 0;
  side_a_.clear();
  side_b_.clear();
  two_way_.clear();
}

bool Network::blocked_slow(EndpointId from, EndpointId to) const {
  assert(from < endpoints_.size() && to < endpoints_.size());
  const std::uint64_t* from_a = side_a_.data() + std::size_t{from} * words_;
  const std::uint64_t* from_b = side_b_.data() + std::size_t{from} * words_;
  const std::uint64_t* to_a = side_a_.data() + std::size_t{to} * words_;
  const std::uint64_t* to_b = side_b_.data() + std::size_t{to} * words_;
  for (std::size_t w = 0; w < words_; ++w) {
    if (((from_a[w] & to_b[w]) | (from_b[w] & to_a[w] & two_way_[w])) != 0) return true;
  }
  return false;
}

Network::LinkState& Network::state(EndpointId from, EndpointId to) {
  const std::uint64_t key = Simulator::link_index(from, to);
  if (const auto it = links_.find(key); it != links_.end()) return it->second;
  const auto config = link_configs_.find(key);
  return links_
      .emplace(key, LinkState{.random = sim_.stream(StreamKind::kLink, key),
                              .config = config != link_configs_.end() ? config->second.get() : &default_link_})
      .first->second;
}

bool Network::send(Message message) {
  static const std::string kNoPayload;
  return send_impl(message, kNoPayload);
}

bool Network::send(Message message, std::string payload) { return send_impl(message, payload); }

bool Network::send_impl(Message& message, const std::string& payload) {
  assert(message.from < endpoints_.size() && message.to < endpoints_.size());
  assert(message.bytes > 0);
  const TimeNs now = sim_.now();
  message.sent_ns = now;
  ++stats_.sent;
  stats_.sent_bytes += message.bytes;
  if ((down_[message.from] | down_[message.to]) != 0) {
    ++stats_.dropped_down;
    return false;
  }
  if (blocked(message.from, message.to)) {
    ++stats_.dropped_partition;
    return false;
  }

  LinkState& link = state(message.from, message.to);
  const LinkConfig& config = *link.config;
  // The draws, in the documented order; each skipped at probability 0.
  if (config.loss > 0.0 && unit(link.random) < config.loss) {
    ++stats_.dropped_loss;
    return false;
  }
  const TimeNs latency_ns = config.latency.sample_int(link.random);
  const bool duplicate = config.duplicate > 0.0 && unit(link.random) < config.duplicate;
  const bool reorder = config.reorder > 0.0 && unit(link.random) < config.reorder;
  TimeNs hold_back_ns = 0;
  if (reorder && config.reorder_delay_ns > 0) {
    const auto bound = static_cast<std::uint64_t>(config.reorder_delay_ns) + 1;  // <= 2^63
    hold_back_ns = static_cast<TimeNs>(link.random.uniform(bound));
  }

  const TimeNs start_ns = std::max(now, link.free_at_ns);
  link.free_at_ns = saturating_add(start_ns, transmission_ns(message.bytes, config.bandwidth_bytes_per_s));
  TimeNs arrival_ns = saturating_add(link.free_at_ns, latency_ns);
  if (reorder) {
    ++stats_.reordered;
    arrival_ns = saturating_add(arrival_ns, hold_back_ns);
  } else {
    arrival_ns = std::max(arrival_ns, link.last_delivery_ns);
    link.last_delivery_ns = arrival_ns;
  }

  if (!schedule_delivery(message, arrival_ns, payload)) return false;
  if (duplicate && schedule_delivery(message, saturating_add(arrival_ns, 1), payload)) ++stats_.duplicated;
  return true;
}

bool Network::schedule_delivery(const Message& m, TimeNs arrival_ns, const std::string& payload) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    assert(slots_.size() < std::numeric_limits<std::uint32_t>::max());
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const EventId event = sim_.at(arrival_ns, [this, slot] { deliver(slot); });
  if (event == kInvalidEventId) {  // the simulator refused (full queue); it counts the rejection
    free_slots_.push_back(slot);
    return false;
  }
  Slot& s = slots_[slot];
  s.message = m;
  s.event = event;
  if (!payload.empty()) s.payload = payload;  // a free slot's payload is always empty
  ++in_flight_;
  return true;
}

void Network::deliver(std::uint32_t slot) {
  assert(slot < slots_.size());
  Slot& s = slots_[slot];
  assert(s.event != kInvalidEventId);
  // Copy out and free the slot first: the handler may send (and grow slots_).
  const Message message = s.message;
  std::string payload;
  if (!s.payload.empty()) {
    payload = std::move(s.payload);
    s.payload.clear();
  }
  s.event = kInvalidEventId;
  free_slots_.push_back(slot);
  assert(in_flight_ > 0);
  --in_flight_;

  if (down_[message.to] != 0) {
    ++stats_.dropped_down;
    return;
  }
  ++stats_.delivered;
  stats_.delivered_bytes += message.bytes;
  Endpoint& endpoint = endpoints_[message.to];  // a deque: stays put if the handler adds endpoints
  if (!endpoint.handler) return;
  assert(running_ == kNoEndpoint);
  running_ = message.to;
  if (!payload.empty()) current_payload_ = std::move(payload);
  endpoint.handler(message);
  current_payload_.clear();
  running_ = kNoEndpoint;
  if (has_deferred_handler_) {
    endpoint.handler = std::move(deferred_handler_);
    deferred_handler_ = nullptr;
    has_deferred_handler_ = false;
  }
}

}  // namespace hcsim::sim
