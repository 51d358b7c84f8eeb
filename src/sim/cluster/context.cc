#include "sim/cluster/context.h"

#include <charconv>

namespace hcsim::sim {

void RequestCounters::add(const RequestCounters& o) {
  requests += o.requests;
  gets += o.gets;
  hits += o.hits;
  misses += o.misses;
  sets += o.sets;
  dels += o.dels;
  errors += o.errors;
  timeouts += o.timeouts;
  backfills += o.backfills;
  forwards += o.forwards;
  dropped_unrouted += o.dropped_unrouted;
}

std::string_view ClusterContext::key_name(std::uint64_t index, std::string& buffer) const {
  const std::string& prefix = sc.workload.key_prefix;
  buffer.resize(prefix.size() + 20);
  if (buffer.compare(0, prefix.size(), prefix) != 0) buffer.replace(0, prefix.size(), prefix);
  char* begin = buffer.data() + prefix.size();
  const auto [end, ec] = std::to_chars(begin, buffer.data() + buffer.size(), index);
  (void)ec;
  return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

std::uint64_t ClusterContext::value_bytes_for(std::uint64_t key) const {
  const Distribution& d = sc.workload.value_bytes;
  if (d.kind == Distribution::Kind::kConstant) return static_cast<std::uint64_t>(d.a);
  core::SeededRandom r(value_size_seed ^ (key * 0x9e3779b97f4a7c15ULL));
  const std::int64_t v = d.sample_int(r);
  return static_cast<std::uint64_t>(v < 0 ? 0 : v);
}

bool ClusterContext::route(std::string_view key, EndpointId& owner) const {
  if (!ring || ring->empty()) return false;
  const core::NodeIndex i = ring->primary(key);
  if (i == core::kNoNode) return false;
  owner = ring_endpoints[i];
  return true;
}

}  // namespace hcsim::sim
