#include "core/filter/cuckoo_filter.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <utility>

namespace hcsim::core {
namespace {

static_assert(std::endian::native == std::endian::little, "the packed table assumes little-endian loads");

constexpr std::uint32_t kSlots = 4;
constexpr std::uint64_t kMaxExpectedItems = 1ULL << 32;
constexpr std::uint64_t kMaxBuckets = 1ULL << 32;  // bucket indexes fit a uint32 (stash entries)
constexpr std::uint32_t kMaxKicks = 65536;

std::uint32_t bits_from_rate(double rate) {
  const double bits = std::ceil(std::log2(2.0 * kSlots / rate));
  return static_cast<std::uint32_t>(std::clamp(bits, 4.0, 32.0));
}

}  // namespace

Result<CuckooFilter> CuckooFilter::create(const CuckooFilterConfig& config) {
  if (config.expected_items == 0) return Status::error("expected_items must be greater than 0");
  if (config.expected_items > kMaxExpectedItems) return Status::error("expected_items must be at most 4294967296");
  std::uint32_t f = config.fingerprint_bits;
  if (f == 0) {
    if (!(config.false_positive_rate > 0.0 && config.false_positive_rate < 1.0)) {
      return Status::error("false_positive_rate must be between 0 and 1");
    }
    f = bits_from_rate(config.false_positive_rate);
  } else if (f < 4 || f > 32) {
    return Status::error("fingerprint_bits must be between 4 and 32");
  }
  if (!(config.target_load > 0.0 && config.target_load <= 1.0)) return Status::error("target_load must be in (0, 1]");
  if (config.stash_slots < 1 || config.stash_slots > 64) return Status::error("stash_slots must be between 1 and 64");
  if (config.max_kicks > kMaxKicks) return Status::error("max_kicks must be at most 65536");

  const double min_buckets = std::ceil(static_cast<double>(config.expected_items) / (kSlots * config.target_load));
  if (!(min_buckets <= static_cast<double>(kMaxBuckets))) {
    return Status::error("expected_items / (4 * target_load) needs more than 2^32 buckets: raise target_load");
  }
  const std::uint64_t buckets = std::bit_ceil(std::max<std::uint64_t>(1, static_cast<std::uint64_t>(min_buckets)));
  assert(buckets <= kMaxBuckets);

  CuckooFilter filter;
  filter.config_ = config;
  filter.config_.fingerprint_bits = f;
  filter.buckets_ = buckets;
  filter.bucket_mask_ = buckets - 1;
  filter.capacity_ = static_cast<std::uint64_t>(std::floor(static_cast<double>(buckets) * kSlots * config.target_load));
  filter.f_ = f;
  filter.bucket_bits_ = kSlots * f;
  filter.fp_mask_ = static_cast<std::uint32_t>((std::uint64_t{1} << f) - 1);
  for (std::uint32_t lane = 0; lane < kSlots; ++lane) {
    filter.lane_ones_ |= U128{1} << (lane * f);
    filter.lane_highs_ |= U128{1} << (lane * f + f - 1);
  }
  filter.ones64_ = static_cast<std::uint64_t>(filter.lane_ones_);
  filter.highs64_ = static_cast<std::uint64_t>(filter.lane_highs_);
  const std::uint64_t table_bits = buckets * filter.bucket_bits_;
  // One padding word: the last bucket or slot is read with an 8- or 16-byte
  // load that may run past the table's last bit.
  filter.words_.assign((table_bits + 63) / 64 + 1, 0);
  filter.stash_.reserve(config.stash_slots);
  filter.rng_ = SeededRandom(config.seed);
  filter.update_fast();
  return filter;
}

bool CuckooFilter::probe_slow(std::uint64_t b1, std::uint64_t b2, std::uint32_t fp) const {
  bool hit;
  if (f_ <= 16) {
    const auto w1 = load_bucket<std::uint64_t>(bytes(), b1, bucket_bits_);
    const auto w2 = load_bucket<std::uint64_t>(bytes(), b2, bucket_bits_);
    hit = (matching_lanes(w1, fp, ones64_, highs64_) | matching_lanes(w2, fp, ones64_, highs64_)) != 0;
  } else {
    const U128 w1 = load_bucket<U128>(bytes(), b1, bucket_bits_);
    const U128 w2 = load_bucket<U128>(bytes(), b2, bucket_bits_);
    hit = (matching_lanes(w1, fp, lane_ones_, lane_highs_) | matching_lanes(w2, fp, lane_ones_, lane_highs_)) != 0;
  }
  if (hit) return true;
  for (const StashEntry& e : stash_) {
    if (e.fingerprint == fp && (e.bucket == b1 || e.bucket == b2)) return true;
  }
  return false;
}

std::uint32_t CuckooFilter::get_slot(std::uint64_t bucket, std::uint32_t lane_bit) const {
  assert(bucket < buckets_ && lane_bit < bucket_bits_ && lane_bit % f_ == 0);
  const std::uint64_t bit = bucket * bucket_bits_ + lane_bit;
  std::uint64_t w;
  std::memcpy(&w, bytes() + (bit >> 3), sizeof w);
  return static_cast<std::uint32_t>(w >> (bit & 7)) & fp_mask_;
}

void CuckooFilter::set_slot(std::uint64_t bucket, std::uint32_t lane_bit, std::uint32_t fp) {
  assert(bucket < buckets_ && lane_bit < bucket_bits_ && lane_bit % f_ == 0 && fp <= fp_mask_);
  const std::uint64_t bit = bucket * bucket_bits_ + lane_bit;
  const unsigned shift = static_cast<unsigned>(bit & 7);  // + f <= 39 bits: one 8-byte word
  unsigned char* p = bytes() + (bit >> 3);
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  w &= ~(std::uint64_t{fp_mask_} << shift);
  w |= std::uint64_t{fp} << shift;
  std::memcpy(p, &w, sizeof w);
}

int CuckooFilter::find_in_bucket(std::uint64_t bucket, std::uint32_t fp) const {
  // The lowest flagged lane is a true match; its high bit is at lane_bit + f - 1.
  if (f_ <= 16) {
    const auto w = load_bucket<std::uint64_t>(bytes(), bucket, bucket_bits_);
    const std::uint64_t z = matching_lanes(w, fp, ones64_, highs64_);
    if (z == 0) return -1;
    return std::countr_zero(z) - static_cast<int>(f_ - 1);
  }
  const U128 z = matching_lanes(load_bucket<U128>(bytes(), bucket, bucket_bits_), fp, lane_ones_, lane_highs_);
  if (z == 0) return -1;
  const auto low = static_cast<std::uint64_t>(z);
  const int ctz = low != 0 ? std::countr_zero(low) : 64 + std::countr_zero(static_cast<std::uint64_t>(z >> 64));
  return ctz - static_cast<int>(f_ - 1);
}

bool CuckooFilter::insert_into(std::uint64_t bucket, std::uint32_t fp) {
  const int lane_bit = find_in_bucket(bucket, 0);
  if (lane_bit < 0) return false;
  assert(table_count_ < buckets_ * kSlots);
  set_slot(bucket, static_cast<std::uint32_t>(lane_bit), fp);
  ++table_count_;
  return true;
}

bool CuckooFilter::add(std::uint64_t key_hash) {
  const std::uint32_t fp0 = fingerprint_of(key_hash);
  const std::uint64_t b1 = key_hash & bucket_mask_;
  const std::uint64_t b2 = alt_bucket(b1, fp0);
  if (insert_into(b1, fp0) || insert_into(b2, fp0)) {
    ++adds_;
    return true;
  }
  // Both buckets are full. A chain must end somewhere safe: in a free slot or,
  // when the kicks run out, in the stash. With the stash full there is no
  // safe end, so do not start.
  if (stash_.size() >= config_.stash_slots) {
    ++failed_adds_;
    return false;
  }
  std::uint32_t fp = fp0;
  std::uint64_t bucket = b1;
  std::uint64_t chain = 0;
  for (std::uint32_t step = 0; step < config_.max_kicks; ++step) {
    const std::uint64_t r = rng_.next();
    if (step == 0 && (r & 4) != 0) bucket = b2;  // start from either candidate
    const auto lane_bit = static_cast<std::uint32_t>(r & 3) * f_;
    const std::uint32_t victim = get_slot(bucket, lane_bit);
    assert(victim != 0);  // the bucket is full
    set_slot(bucket, lane_bit, fp);
    fp = victim;
    ++chain;
    bucket = alt_bucket(bucket, fp);
    if (insert_into(bucket, fp)) {
      fp = 0;
      break;
    }
  }
  kicks_ += chain;
  max_kick_chain_ = std::max(max_kick_chain_, chain);
  if (fp != 0) {
    // Homeless: both its buckets (the one it left and `bucket`) are full.
    assert(stash_.size() < config_.stash_slots);
    stash_.push_back({static_cast<std::uint32_t>(bucket), fp});
    update_fast();
  }
  ++adds_;
  return true;
}

void CuckooFilter::unstash_into(std::uint64_t bucket, std::uint32_t lane_bit) {
  // Every stashed fingerprint had both its buckets full; only `bucket` has
  // changed, so only an entry that may live there can move.
  for (std::size_t i = 0; i < stash_.size(); ++i) {
    const StashEntry e = stash_[i];
    if (e.bucket == bucket || alt_bucket(e.bucket, e.fingerprint) == bucket) {
      set_slot(bucket, lane_bit, e.fingerprint);
      ++table_count_;
      stash_[i] = stash_.back();
      stash_.pop_back();
      update_fast();
      return;
    }
  }
}

bool CuckooFilter::remove(std::uint64_t key_hash) {
  const std::uint32_t fp = fingerprint_of(key_hash);
  const std::uint64_t b1 = key_hash & bucket_mask_;
  const std::uint64_t b2 = alt_bucket(b1, fp);
  for (const std::uint64_t bucket : {b1, b2}) {
    const int lane_bit = find_in_bucket(bucket, fp);
    if (lane_bit >= 0) {
      set_slot(bucket, static_cast<std::uint32_t>(lane_bit), 0);
      --table_count_;
      if (!stash_.empty()) unstash_into(bucket, static_cast<std::uint32_t>(lane_bit));
      ++removes_;
      return true;
    }
  }
  for (std::size_t i = 0; i < stash_.size(); ++i) {
    const StashEntry e = stash_[i];
    if (e.fingerprint == fp && (e.bucket == b1 || e.bucket == b2)) {
      stash_[i] = stash_.back();
      stash_.pop_back();
      update_fast();
      ++removes_;
      return true;
    }
  }
  ++failed_removes_;
  return false;
}

void CuckooFilter::clear() {
  std::fill(words_.begin(), words_.end(), 0);
  stash_.clear();
  update_fast();
  rng_ = SeededRandom(config_.seed);
  table_count_ = 0;
  adds_ = failed_adds_ = removes_ = failed_removes_ = 0;
  kicks_ = max_kick_chain_ = 0;
  lookups_ = 0;
}

std::uint64_t CuckooFilter::size() const { return table_count_ + stash_.size(); }
std::uint64_t CuckooFilter::capacity() const { return capacity_; }
double CuckooFilter::load_factor() const { return static_cast<double>(size()) / static_cast<double>(capacity_); }
std::uint32_t CuckooFilter::fingerprint_bits() const { return f_; }
std::uint64_t CuckooFilter::buckets() const { return buckets_; }

double CuckooFilter::theoretical_fpr() const {
  const double q = 1.0 / static_cast<double>(fp_mask_);
  return -std::expm1(2.0 * kSlots * std::log1p(-q));
}

double CuckooFilter::expected_fpr() const {
  const double q = 1.0 / static_cast<double>(fp_mask_);
  const double occupancy = static_cast<double>(table_count_) / static_cast<double>(buckets_ * kSlots);
  const double candidates = buckets_ == 1 ? 1.0 : 2.0;
  return -std::expm1(candidates * kSlots * occupancy * std::log1p(-q));
}

double CuckooFilter::measured_fpr(std::span<const std::uint64_t> absent_key_hashes) const {
  if (absent_key_hashes.empty()) return 0.0;
  const Geometry g = geometry();
  std::uint64_t hits = 0;
  for (const std::uint64_t h : absent_key_hashes) hits += probe(g, h) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(absent_key_hashes.size());
}

CuckooFilterStats CuckooFilter::stats() const {
  CuckooFilterStats s;
  s.size = size();
  s.capacity = capacity_;
  s.load_factor = load_factor();
  s.fingerprint_bits = f_;
  s.buckets = buckets_;
  s.memory_bytes = memory_bytes();
  s.bits_per_item = s.size == 0 ? 0.0 : static_cast<double>(s.memory_bytes) * 8.0 / static_cast<double>(s.size);
  s.theoretical_fpr = theoretical_fpr();
  s.expected_fpr = expected_fpr();
  s.adds = adds_;
  s.failed_adds = failed_adds_;
  s.lookups = lookups_;
  s.removes = removes_;
  s.failed_removes = failed_removes_;
  s.kicks = kicks_;
  s.max_kick_chain = max_kick_chain_;
  s.stash_used = stash_.size();
  return s;
}

}  // namespace hcsim::core
