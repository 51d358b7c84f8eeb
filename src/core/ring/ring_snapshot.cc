#include "core/ring/ring_snapshot.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

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
// Calls fn with "<id>:<v>" (vnode_key, and ids too long for
// vnode_positions' buffer, which writes the same format in bulk; a test
// holds the two to the seed's keys). Ids up to kMaxNodeIdBytes (all that
// HashRing accepts) use a stack buffer.
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

// The positions of vnodes 0..count-1 of node `id`, in vnode order. Keys are
// written a block at a time into one buffer, then hashed: a hash never
// waits for the bytes just stored for it, and the hashes of a block run side
// by side.
std::vector<std::uint64_t> vnode_positions(HashKind hash, std::string_view id, std::uint32_t count) {
  std::vector<std::uint64_t> out(count);
  constexpr std::size_t kDigits = 8;  // v < 10^8 (HashRing allows 65,536 vnodes)
  if (id.size() > kMaxNodeIdBytes || count > 100'000'000) {
    for (std::uint32_t v = 0; v < count; ++v) {
      out[v] = with_vnode_key(id, v, [hash](std::string_view key) { return hash_key(hash, key); });
    }
    return out;
  }
  constexpr std::uint32_t kBlock = 64;
  const std::size_t prefix = id.size() + 1;  // "<id>:"
  const std::size_t stride = prefix + kDigits;
  std::vector<char> keys(stride * kBlock);
  for (std::uint32_t k = 0; k < kBlock; ++k) {
    std::memcpy(keys.data() + k * stride, id.data(), id.size());
    keys[k * stride + id.size()] = ':';
  }
  // v in decimal, held in one register (byte i is the i-th digit in memory
  // order) and counted up digit by digit; each key gets its digits in one
  // 8-byte store. Not kept in memory on purpose: a wide load of bytes just
  // stored one at a time cannot be forwarded from the store buffer, and
  // that stall cost more than all the hashing.
  static_assert(std::endian::native == std::endian::little);
  const auto digit_shift = [](std::size_t i) { return static_cast<unsigned>(8 * i); };
  std::uint64_t digits = '0';
  std::size_t ndigits = 1;
  std::array<std::uint16_t, kBlock> lengths;
  for (std::uint32_t base = 0; base < count; base += kBlock) {
    const std::uint32_t n = std::min(kBlock, count - base);
    for (std::uint32_t k = 0; k < n; ++k) {
      std::memcpy(keys.data() + k * stride + prefix, &digits, kDigits);
      lengths[k] = static_cast<std::uint16_t>(prefix + ndigits);
      std::size_t d = ndigits;
      while (d > 0 && ((digits >> digit_shift(d - 1)) & 0xFF) == '9') {
        --d;
        digits -= std::uint64_t{'9' - '0'} << digit_shift(d);  // 9 -> 0, carry on
      }
      if (d > 0) {
        digits += std::uint64_t{1} << digit_shift(d - 1);
      } else {  // 9..9 -> 10..0: the zeros move up one byte under a new 1
        digits = (digits << 8) | '1';
        ++ndigits;
      }
    }
    for (std::uint32_t k = 0; k < n; ++k) {
      out[base + k] = hash_key(hash, std::string_view(keys.data() + k * stride, lengths[k]));
    }
  }
  return out;
}

// Sorts hashes: two counting passes over their top 16 bits, then an
// insertion sort, which has only the few that share those bits to order.
// Faster than std::sort for a node's 256 vnodes, whose comparisons are
// coin flips to the branch predictor.
void sort_hashes(std::vector<std::uint64_t>& v) {
  if (v.size() < 32 || v.size() > (std::size_t{1} << 16)) {
    std::sort(v.begin(), v.end());
    return;
  }
  // Both digits' counts in one read, then one scatter per digit.
  const std::size_t n = v.size();
  auto other = std::make_unique_for_overwrite<std::uint64_t[]>(n);
  std::array<std::uint32_t, 256> low{};
  std::array<std::uint32_t, 256> high{};
  for (std::size_t i = 0; i < n; ++i) {
    ++low[(v[i] >> 48) & 0xFF];
    ++high[v[i] >> 56];
  }
  std::uint32_t below_low = 0;
  std::uint32_t below_high = 0;
  for (std::size_t d = 0; d < 256; ++d) {
    below_low += std::exchange(low[d], below_low);
    below_high += std::exchange(high[d], below_high);
  }
  for (std::size_t i = 0; i < n; ++i) other[low[(v[i] >> 48) & 0xFF]++] = v[i];
  for (std::size_t i = 0; i < n; ++i) v[high[other[i] >> 56]++] = other[i];
  for (std::size_t i = 1; i < v.size(); ++i) {
    const std::uint64_t x = v[i];
    std::size_t j = i;
    for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
    v[j] = x;
  }
}

// A node's positions, sorted.
std::shared_ptr<const RingSnapshot::NodePositions> node_positions(HashKind hash, std::string_view id,
                                                                   std::uint32_t vnodes) {
  std::vector<std::uint64_t> sorted = vnode_positions(hash, id, vnodes);
  sort_hashes(sorted);
  return std::make_shared<const RingSnapshot::NodePositions>(
      RingSnapshot::NodePositions{hash, std::string(id), std::move(sorted)});
}
}  // namespace

std::string vnode_key(std::string_view id, std::uint32_t v) {
  return with_vnode_key(id, v, [](std::string_view key) { return std::string(key); });
}

RingSnapshot::RingSnapshot(HashKind hash) : hash_(hash) {
  auto p = allocate_points(0);
  finish_points(*p);
  build_table(*p);
  set_points(std::move(p));
}

RingSnapshot::RingSnapshot(HashKind hash, std::vector<NodeEntry> nodes) : hash_(hash), nodes_(std::move(nodes)) {
  std::vector<Point> points;
  std::size_t total = 0;
  for (const NodeEntry& n : nodes_) total += n.vnodes;
  points.reserve(total);
  for (NodeIndex idx = 0; idx < nodes_.size(); ++idx) {
    NodeEntry& n = nodes_[idx];
    assert(n.vnodes > 0);
    if (!n.positions || n.positions->hash != hash_ || n.positions->id != n.id || n.positions->sorted.size() != n.vnodes) {
      n.positions = node_positions(hash_, n.id, n.vnodes);
    }
    for (const std::uint64_t pos : n.positions->sorted) points.push_back({pos, idx});
  }
  std::sort(points.begin(), points.end(), [this](const Point& a, const Point& b) {
    if (a.position != b.position) return a.position < b.position;
    return nodes_[a.owner].id < nodes_[b.owner].id;
  });
  auto p = allocate_points(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    p->positions[i] = points[i].position;
    p->owners[i] = points[i].owner;
  }
  finish_points(*p);
  build_table(*p);
  set_points(std::move(p));
  count_alive();
}

namespace {
// 2^b >= size keeps about one point per bucket.
unsigned table_bits(std::size_t size) {
  return std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(size > 1 ? size - 1 : 1)), 1, kMaxTableBits);
}
}  // namespace

std::shared_ptr<RingSnapshot::Points> RingSnapshot::allocate_points(std::size_t size) {
  assert(size < kSentinel >> 32);
  auto p = std::make_shared<Points>();
  p->size = size;
  p->shift = 64 - table_bits(size);
  const std::size_t positions_bytes = (size + kSlack) * sizeof(std::uint64_t);
  const std::size_t owners_bytes = (size + kSlack) * sizeof(NodeIndex);
  const std::size_t table_bytes = (p->table_size() + kSlack) * sizeof(std::uint32_t);
  static_assert(alignof(std::uint64_t) >= alignof(NodeIndex) && alignof(NodeIndex) >= alignof(std::uint32_t));
  p->memory = std::make_unique_for_overwrite<std::byte[]>(positions_bytes + owners_bytes + table_bytes);
  p->positions = reinterpret_cast<std::uint64_t*>(p->memory.get());
  p->owners = reinterpret_cast<NodeIndex*>(p->memory.get() + positions_bytes);
  p->table = reinterpret_cast<std::uint32_t*>(p->memory.get() + positions_bytes + owners_bytes);
  return p;
}

void RingSnapshot::finish_points(Points& p) {
  // Every spare element is set: a derived snapshot's run moves read them.
  std::fill_n(p.positions + p.size, kSlack, kSentinel);
  for (std::size_t k = 0; k < kSlack; ++k) p.owners[p.size + k] = p.size == 0 ? kNoNode : p.owners[k % p.size];
  std::fill_n(p.table + p.table_size(), kSlack, static_cast<std::uint32_t>(p.size));
}

void RingSnapshot::build_table(Points& p) {
  // table[t] = number of points whose top b bits are < t: a histogram of the
  // buckets, then an exclusive prefix sum (no data-dependent branches).
  const std::size_t n = p.table_size();
  std::fill_n(p.table, n, 0u);
  for (std::size_t i = 0; i < p.size; ++i) ++p.table[p.positions[i] >> p.shift];
  std::uint32_t below = 0;
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint32_t in_bucket = p.table[t];
    p.table[t] = below;
    below += in_bucket;
  }
}

void RingSnapshot::set_points(std::shared_ptr<const Points> points) {
  points_ = std::move(points);
  fast_ = {points_->positions, points_->owners, points_->table, points_->shift};
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

namespace {
// Elements a run move handles at once (vectorised), without a loop.
constexpr std::size_t kRunChunk = 16;

// Moves a run of n elements from a parent snapshot's array into a derived
// one's, through f: kRunChunk at a time, with no loop at all for a run that
// short (most are: about 10 points or 16 index entries), so a run's length
// costs no mispredicted loop exit. Reads and writes up to kRunChunk - 1
// elements past the run (the arrays keep kSlack spare ones); runs are moved
// in ascending order, so the next run overwrites what one wrote past its end.
template <typename T, typename F>
void move_run(const T* __restrict src, T* __restrict dst, std::size_t n, F f) {
  for (std::size_t c = 0; c < kRunChunk; ++c) dst[c] = f(src[c]);
  for (std::size_t i = kRunChunk; i < n; i += kRunChunk) {
    for (std::size_t c = 0; c < kRunChunk; ++c) dst[i + c] = f(src[i + c]);
  }
}

constexpr auto kSame = [](auto x) { return x; };

}  // namespace

template <bool kInsert, typename OwnerFn>
bool RingSnapshot::move_runs(const Points& old, Points& p, std::span<const std::uint32_t> at,
                             const std::uint64_t* changed, NodeIndex added, OwnerFn owner_fn) {
  // Run r: the old points between changed points r-1 and r move up by r
  // (inserted) or down by r (removed), and so do the index entries of the
  // buckets past changed point r-1's up to r's. Same index width: the same
  // buckets; else the caller builds the index anew. Raw pointers in locals:
  // the stores could alias anything reached through memory, which the
  // compiler would otherwise reload on every run.
  const std::uint64_t* const old_positions = old.positions;
  const NodeIndex* const old_owners = old.owners;
  const std::uint32_t* const old_table = old.table;
  std::uint64_t* const positions = p.positions;
  NodeIndex* const owners = p.owners;
  std::uint32_t* const table = p.table;
  const std::uint32_t* const changed_at = at.data();
  const std::size_t n = at.size();
  const std::size_t old_size = old.size;
  const std::size_t entries = p.table_size();
  const unsigned shift = p.shift;
  const bool move_table = shift == old.shift;
  std::size_t from = 0;
  std::size_t t = 0;
  for (std::size_t r = 0; r <= n; ++r) {
    const std::size_t to = r < n ? changed_at[r] : old_size;
    const std::size_t dst = kInsert ? from + r : from - r;
    move_run(old_positions + from, positions + dst, to - from, kSame);
    move_run(old_owners + from, owners + dst, to - from, owner_fn);
    if (kInsert && r < n) {
      positions[to + r] = changed[r];
      owners[to + r] = added;
    }
    if (move_table) {
      const std::size_t t_end = r < n ? static_cast<std::size_t>(changed[r] >> shift) + 1 : entries;
      const auto d = static_cast<std::uint32_t>(kInsert ? r : 0 - r);  // modulo 2^32: adds or subtracts r
      move_run(old_table + t, table + t, t_end - t, [d](std::uint32_t x) { return x + d; });
      t = t_end;
    }
    from = kInsert ? to : to + 1;
  }
  return move_table;
}

void RingSnapshot::finish_derived(RingSnapshot& next, std::shared_ptr<Points> p, bool table_moved) const {
  static_assert(kSlack >= kRunChunk);
  finish_points(*p);
  if (!table_moved) build_table(*p);
  next.set_points(std::move(p));
  next.count_alive();
}

RingSnapshot RingSnapshot::with_node(std::string_view id, std::uint32_t vnodes) const {
  assert(find_node(id) == kNoNode);
  assert(vnodes > 0);
  RingSnapshot next(hash_, NoPoints{});
  next.nodes_.reserve(nodes_.size() + 1);
  next.nodes_ = nodes_;
  const auto added = static_cast<NodeIndex>(nodes_.size());
  next.nodes_.push_back({std::string(id), vnodes, true});

  next.nodes_.back().positions = node_positions(hash_, id, vnodes);
  const std::vector<std::uint64_t>& fresh = next.nodes_.back().positions->sorted;
  const Points& old = *points_;
  // Each new point goes just before the first old point at or above it (an
  // O(1) search each). An equal position (practically never: 64-bit hashes)
  // needs the id tie rule, so it falls back to an exact rebuild.
  std::vector<std::uint32_t> at(vnodes);
  bool tie = false;
  for (std::uint32_t k = 0; k < vnodes; ++k) {
    at[k] = static_cast<std::uint32_t>(search(fresh[k]));
    tie |= old.positions[at[k]] == fresh[k];
  }
  if (tie) return RingSnapshot(hash_, next.nodes_);

  auto p = allocate_points(old.size + vnodes);
  const bool move_table = move_runs<true>(old, *p, at, fresh.data(), added, kSame);
  finish_derived(next, std::move(p), move_table);
  return next;
}

RingSnapshot RingSnapshot::without_node(std::string_view id) const {
  const NodeIndex gone = find_node(id);
  assert(gone != kNoNode);
  RingSnapshot next(hash_, NoPoints{});
  next.nodes_ = nodes_;
  next.nodes_.erase(next.nodes_.begin() + gone);
  const Points& old = *points_;
  const std::size_t count = nodes_[gone].vnodes;
  // The removed points' indices in order: a search for each of the node's
  // positions, then past any equal position that sorts first (another
  // node's, or this node's already found).
  const std::vector<std::uint64_t>& gone_positions = nodes_[gone].positions->sorted;
  assert(gone_positions.size() == count);
  // The previous index stays in a register: read back from `removed`, it
  // would chain every search to the last one's store.
  std::vector<std::uint32_t> removed(count);
  std::size_t next_free = 0;  // just past the previous removed point
  for (std::size_t j = 0; j < count; ++j) {
    std::size_t i = std::max(search(gone_positions[j]), next_free);
    while (old.owners[i] != gone) ++i;
    removed[j] = static_cast<std::uint32_t>(i);
    next_free = i + 1;
  }
  auto p = allocate_points(old.size - count);
  const bool move_table = move_runs<false>(old, *p, removed, gone_positions.data(), gone,
                                           [gone](NodeIndex o) { return o - (o > gone ? 1 : 0); });
  finish_derived(next, std::move(p), move_table);
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
