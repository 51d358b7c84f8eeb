#include "core/ring/ring_snapshot.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>
#include <numeric>

namespace hcsim::core {
namespace {

constexpr std::uint64_t kSentinel = std::numeric_limits<std::uint64_t>::max();
constexpr unsigned kMaxTableBits = 26;  // 64 Mi entries at most (256 MiB): bounded

// One vnode while a ring is being built.
struct Point {
  std::uint64_t position;
  NodeIndex owner;
};

}  // namespace

namespace {
// Calls fn with "<id>:<v>", the one place that format lives. Ids up to
// kMaxNodeIdBytes (all that HashRing accepts) use a stack buffer.
template <typename Fn>
auto with_vnode_key(std::string_view id, std::uint32_t v, Fn&& fn) {
  char digits[10];
  const auto res = std::to_chars(digits, digits + sizeof(digits), v);
  const std::string_view number(digits, static_cast<std::size_t>(res.ptr - digits));
  if (id.size() <= kMaxNodeIdBytes) {
    char buf[kMaxVnodeKeyBytes];
    std::memcpy(buf, id.data(), id.size());
    buf[id.size()] = ':';
    std::memcpy(buf + id.size() + 1, number.data(), number.size());
    return fn(std::string_view(buf, id.size() + 1 + number.size()));
  }
  std::string key;
  key.reserve(id.size() + 1 + number.size());
  key.append(id).append(1, ':').append(number);
  return fn(std::string_view(key));
}

std::uint64_t vnode_position(HashKind hash, std::string_view id, std::uint32_t v) {
  return with_vnode_key(id, v, [hash](std::string_view key) { return hash_key(hash, key); });
}
}  // namespace

std::string vnode_key(std::string_view id, std::uint32_t v) {
  return with_vnode_key(id, v, [](std::string_view key) { return std::string(key); });
}

RingSnapshot::RingSnapshot(HashKind hash) : hash_(hash) { set_points(make_points({}, {})); }

RingSnapshot::RingSnapshot(HashKind hash, std::vector<NodeEntry> nodes) : hash_(hash), nodes_(std::move(nodes)) {
  std::vector<Point> points;
  std::size_t total = 0;
  for (const NodeEntry& n : nodes_) total += n.vnodes;
  points.reserve(total);
  for (NodeIndex idx = 0; idx < nodes_.size(); ++idx) {
    assert(nodes_[idx].vnodes > 0);
    for (std::uint32_t v = 0; v < nodes_[idx].vnodes; ++v) {
      points.push_back({vnode_position(hash_, nodes_[idx].id, v), idx});
    }
  }
  std::sort(points.begin(), points.end(), [this](const Point& a, const Point& b) {
    if (a.position != b.position) return a.position < b.position;
    return nodes_[a.owner].id < nodes_[b.owner].id;
  });
  std::vector<std::uint64_t> positions(points.size());
  std::vector<NodeIndex> owners(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    positions[i] = points[i].position;
    owners[i] = points[i].owner;
  }
  set_points(make_points(std::move(positions), std::move(owners)));
  count_alive();
}

std::shared_ptr<const RingSnapshot::Points> RingSnapshot::make_points(std::vector<std::uint64_t> positions,
                                                                      std::vector<NodeIndex> owners) {
  assert(positions.size() == owners.size());
  assert(positions.size() < kSentinel >> 32);
  auto p = std::make_shared<Points>();
  p->size = positions.size();
  // 2^b >= size keeps about one point per bucket.
  const unsigned b =
      std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(p->size > 1 ? p->size - 1 : 1)), 1, kMaxTableBits);
  p->shift = 64 - b;
  // table[t] = number of points whose top b bits are < t: a histogram of the
  // buckets, then an exclusive prefix sum (no data-dependent branches).
  p->table.assign(std::size_t{1} << b, 0);
  for (const std::uint64_t pos : positions) ++p->table[pos >> p->shift];
  std::uint32_t below = 0;
  for (std::uint32_t& t : p->table) {
    const std::uint32_t in_bucket = t;
    t = below;
    below += in_bucket;
  }
  positions.push_back(kSentinel);
  positions.push_back(kSentinel);
  for (std::size_t k = 0; k < kReplicaWindow; ++k) owners.push_back(p->size == 0 ? kNoNode : owners[k % p->size]);
  p->positions = std::move(positions);
  p->owners = std::move(owners);
  return p;
}

void RingSnapshot::set_points(std::shared_ptr<const Points> points) {
  points_ = std::move(points);
  fast_ = {points_->positions.data(), points_->owners.data(), points_->table.data(), points_->shift};
}

void RingSnapshot::count_alive() {
  alive_.resize(nodes_.size());
  alive_count_ = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    alive_[i] = nodes_[i].alive ? 1 : 0;
    alive_count_ += alive_[i];
  }
  all_alive_ = alive_count_ == nodes_.size();
}

NodeIndex RingSnapshot::find_node(std::string_view id) const {
  for (NodeIndex i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].id == id) return i;
  }
  return kNoNode;
}

RingSnapshot RingSnapshot::with_node(std::string_view id, std::uint32_t vnodes) const {
  assert(find_node(id) == kNoNode);
  assert(vnodes > 0);
  RingSnapshot next(hash_);
  next.nodes_ = nodes_;
  const auto added = static_cast<NodeIndex>(nodes_.size());
  next.nodes_.push_back({std::string(id), vnodes, true});

  std::vector<std::uint64_t> fresh(vnodes);
  for (std::uint32_t v = 0; v < vnodes; ++v) fresh[v] = vnode_position(hash_, id, v);
  std::sort(fresh.begin(), fresh.end());

  const Points& old = *points_;
  // Merge on positions alone, without data-dependent branches: the sentinels
  // end both inputs. An equal pair of positions (practically never: 64-bit
  // hashes) needs the id tie rule, so it falls back to an exact rebuild.
  fresh.push_back(kSentinel);
  const std::size_t total = old.size + vnodes;
  std::vector<std::uint64_t> positions(total);
  std::vector<NodeIndex> owners(total);
  std::size_t a = 0;
  std::size_t b = 0;
  bool tie = false;
  for (std::size_t k = 0; k < total; ++k) {
    const std::uint64_t pa = old.positions[a];
    const std::uint64_t pb = fresh[b];
    tie |= pa == pb;
    const bool take_old = pa < pb;
    positions[k] = take_old ? pa : pb;
    owners[k] = take_old ? old.owners[a] : added;  // owners[size] is a valid pad
    a += take_old;
    b += !take_old;
  }
  if (tie) return RingSnapshot(hash_, next.nodes_);
  next.set_points(make_points(std::move(positions), std::move(owners)));
  next.count_alive();
  return next;
}

RingSnapshot RingSnapshot::without_node(std::string_view id) const {
  const NodeIndex gone = find_node(id);
  assert(gone != kNoNode);
  RingSnapshot next(hash_);
  next.nodes_ = nodes_;
  next.nodes_.erase(next.nodes_.begin() + gone);
  const Points& old = *points_;
  // Compaction without data-dependent branches: write every point, advance
  // only past the kept ones.
  std::vector<std::uint64_t> positions(old.size);
  std::vector<NodeIndex> owners(old.size);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < old.size; ++i) {
    const NodeIndex o = old.owners[i];
    positions[kept] = old.positions[i];
    owners[kept] = o - (o > gone ? 1 : 0);
    kept += o != gone;
  }
  positions.resize(kept);
  owners.resize(kept);
  next.set_points(make_points(std::move(positions), std::move(owners)));
  next.count_alive();
  return next;
}

RingSnapshot RingSnapshot::with_alive(std::string_view id, bool alive) const {
  const NodeIndex i = find_node(id);
  assert(i != kNoNode);
  RingSnapshot next(*this);
  next.nodes_[i].alive = alive;
  next.count_alive();
  return next;
}

NodeIndex RingSnapshot::primary_with_dead(std::uint64_t h) const {
  return alive_count_ == 0 ? kNoNode : first_alive_from(successor(h));
}

NodeIndex RingSnapshot::first_alive_from(std::size_t i) const {
  const Points& p = *points_;
  for (std::size_t j = i; j < p.size; ++j) {
    if (alive_[p.owners[j]]) return p.owners[j];
  }
  for (std::size_t j = 0; j < i; ++j) {
    if (alive_[p.owners[j]]) return p.owners[j];
  }
  return kNoNode;
}

std::size_t RingSnapshot::replicas_walk(std::size_t start, std::span<NodeIndex> out) const {
  const std::size_t want = out.size();
  const Points& p = *points_;
  // Few replicas: check distinctness against what is collected; many: a bitmap.
  constexpr std::size_t kLinearLimit = 8;
  std::vector<std::uint8_t> seen;
  if (want > kLinearLimit) seen.assign(nodes_.size(), 0);
  std::size_t got = 0;
  std::size_t j = start;
  for (std::size_t step = 0; step < p.size; ++step, ++j) {
    if (j == p.size) j = 0;
    const NodeIndex o = p.owners[j];
    if (!alive_[o]) continue;
    if (want > kLinearLimit) {
      if (seen[o]) continue;
      seen[o] = 1;
    } else if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got), o) !=
               out.begin() + static_cast<std::ptrdiff_t>(got)) {
      continue;
    }
    out[got++] = o;
    if (got == want) break;
  }
  assert(got == want);
  return got;
}

std::vector<double> RingSnapshot::arc_shares() const {
  std::vector<double> shares(nodes_.size(), 0.0);
  const Points& p = *points_;
  if (p.size == 0 || alive_count_ == 0) return shares;
  constexpr double kSpace = 18446744073709551616.0;  // 2^64
  if (p.size == 1) {
    shares[first_alive_from(0)] = 1.0;
    return shares;
  }
  for (std::size_t i = 0; i < p.size; ++i) {
    // Point i owns the hashes in (previous position, its position], wrapping.
    const std::uint64_t prev = p.positions[i == 0 ? p.size - 1 : i - 1];
    const std::uint64_t arc = p.positions[i] - prev;  // modulo 2^64
    shares[first_alive_from(i)] += static_cast<double>(arc) / kSpace;
  }
  return shares;
}

}  // namespace hcsim::core
