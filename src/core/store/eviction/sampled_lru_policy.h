// Redis-style approximated LRU (without Redis's candidate pool): victim()
// takes a sample of sample_size tracked ids drawn uniformly at random (with
// replacement) from the injected RandomSource and returns the one least
// recently accessed at the time of the call (ties: the first drawn). 8 bytes
// per id: the last access time, by id.
//
// Three samples are always drawn ahead (kAhead): a call uses the oldest and,
// as it returns, draws the sample of the call three from now (the first
// call draws its own and the next two first), and only prefetches its
// times (a load there would hold up the rest of the set). When a sample is
// used, a draw that is free then is drawn again (kRedraws counts the first
// draw); an id reused since stands for the entry now holding it.
// peek_victim() tells the next victim exactly, and peek_victim_later(1) the
// one after as things stand (the next eviction's freed id may hold the new
// key by then); both samples' times have loaded by then, so the store loads
// the next victim's entry and the one after's directory slot a set ahead.
// store-set-evict-sampled-lru went 1272 -> 823 ns with one sample ahead (on
// an earlier machine), then 571 -> 436 ns with three (interleaved medians).
//
// Ids are drawn straight from the id range, not from a dense list of
// tracked ids (which took another 8 bytes per id: the list and each id's
// place in it): a draw that lands on an untracked id is drawn again, up to
// kRedraws times, after which the pick takes the next tracked id from there.
// The store reuses freed ids first, and the range drops untracked ids off its
// top, so nearly every draw lands; the fallback only keeps a victim()
// bounded when most of the range is free (after a mass delete), at the price
// of a bias towards ids just past a free stretch.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "core/store/eviction_policy.h"

namespace hcsim::core {

class SampledLruPolicy final : public EvictionPolicy {
 public:
  // sample_size in [1, 64] (validate() checks it); `random` must outlive this.
  SampledLruPolicy(std::uint32_t sample_size, RandomSource& random);

  std::string_view name() const override { return "sampled-lru"; }
  void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) override;
  void on_access(EntryId id, TimeNs now) override;
  void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) override;
  std::optional<EntryId> victim(TimeNs now) override;
  // Exact while every id of the drawn sample is still tracked.
  std::optional<EntryId> peek_victim(TimeNs now) const override;
  std::optional<EntryId> peek_victim_later(std::uint32_t later, TimeNs now) const override;
  void clear() override;
  std::size_t size() const override { return size_; }
  std::size_t memory_bytes() const override { return last_access_ns_.capacity() * sizeof(TimeNs); }
  void reserve(std::size_t ids) override { last_access_ns_.reserve(ids); }

  static constexpr std::uint32_t kRedraws = 8;  // draws per pick before the fallback

 private:
  static constexpr TimeNs kNotTracked = std::numeric_limits<TimeNs>::min();
  bool tracked(EntryId id) const { return id < last_access_ns_.size() && last_access_ns_[id] != kNotTracked; }
  static_assert(kRedraws > 1);
  // A tracked id, after `draws` draws that landed on free ids (the last at
  // `at`): up to kRedraws in all, then the fallback. size_ > 0.
  EntryId redraw(std::size_t at, std::uint32_t draws);
  static constexpr std::uint32_t kAhead = 3;  // samples drawn ahead
  void draw_sample(EntryId* sample);  // first draws of a sample; size_ > 0
  EntryId oldest_of(const EntryId* sample) const;  // every sampled id tracked
  std::optional<EntryId> peek(std::uint32_t ahead) const;
  EntryId* sample(std::uint32_t ahead) { return samples_[(next_ + ahead) % kAhead]; }
  const EntryId* sample(std::uint32_t ahead) const { return samples_[(next_ + ahead) % kAhead]; }

  std::uint32_t sample_size_;
  RandomSource& random_;
  std::vector<TimeNs> last_access_ns_;  // by id; kNotTracked past the tracked ones
  std::size_t size_ = 0;                // tracked ids
  bool sampled_ = false;                // samples_ hold the next kAhead calls' draws
  std::uint32_t next_ = 0;              // samples_[next_]: the next call's
  EntryId samples_[kAhead][64];
};

}  // namespace hcsim::core
