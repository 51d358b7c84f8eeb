// MemoryPool: owns the memory that a store's keys and values live in. A
// size-class (slab) allocator over spans of 64 KiB - 1 MiB mapped from the
// kernel (one class per span; above 16 KiB, dedicated blocks): every
// allocation is charged at its size class, so the budget counts allocator
// rounding; owners charge their index structures through charge_external() so
// the budget covers everything they hold. Freed chunks are reused by the same
// class; empty spans go to a small bounded cache or their pages back to the
// kernel. Not thread-safe: one owner (a store shard) drives it.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/util/result.h"
#include "core/util/status.h"

namespace hcsim::core {

namespace memory_pool_detail {
// Sizes up to this many bytes go to size classes; larger ones get their own block.
inline constexpr std::size_t kMaxSmallBytes = std::size_t{16} << 10;
// The class size charged for n <= kMaxSmallBytes, by (n + 7) / 8.
extern const std::array<std::uint32_t, kMaxSmallBytes / 8 + 1> kChargeBySize8;
std::uint64_t large_charge(std::size_t n);
}  // namespace memory_pool_detail

enum class PressureLevel : std::uint8_t { kNormal, kWarning, kCritical, kPanic };

struct MemoryPoolConfig {
  std::string name;
  std::uint64_t max_bytes = 0;
  double warning_threshold = 0.85;
  double critical_threshold = 0.90;
  double panic_threshold = 0.95;
};

struct MemoryPoolStats {
  std::string name;
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;       // charged: chunks at their class size + external
  std::uint64_t available_bytes = 0;  // max - used (0 when over after a resize race)
  double pressure = 0.0;              // used / max
  std::uint64_t requested_bytes = 0;  // sum of sizes asked for by live allocations
  std::uint64_t external_bytes = 0;   // charged through charge_external
  std::uint64_t reserved_bytes = 0;   // bytes of spans (cached ones too) and large blocks held
  std::uint64_t touched_bytes = 0;    // of those, pages written or populated since last returned: an upper
                                      // bound on the pool's resident memory
  std::uint64_t internal_fragmentation_bytes = 0;  // charged chunk bytes - requested bytes
  std::uint64_t live_allocations = 0;
  std::uint64_t total_allocations = 0;
  std::uint64_t total_frees = 0;
  std::uint64_t total_reuses = 0;  // chunks handed on by reuse (each also counted as a free and an allocation)
  std::uint64_t failures = 0;
  double warning_threshold = 0.0;
  double critical_threshold = 0.0;
  double panic_threshold = 0.0;
};

class MemoryPool {
 public:
  using PressureHandler = std::function<void(PressureLevel level, double pressure)>;

  // Errors: "pool name cannot be empty", "pool max size must be greater than
  // 0", and the threshold rules of set_thresholds.
  // Also "pool max size must be at most 1099511627776 bytes" above kMaxPoolBytes.
  static Result<std::unique_ptr<MemoryPool>> create(MemoryPoolConfig config);
  static constexpr std::uint64_t kMaxPoolBytes = std::uint64_t{1} << 40;  // 1 TiB
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // The size class an allocation of n bytes is charged at (n == 0 is valid).
  static std::size_t charged_size(std::size_t n) {
    if (n <= memory_pool_detail::kMaxSmallBytes) [[likely]] return memory_pool_detail::kChargeBySize8[(n + 7) >> 3];
    return memory_pool_detail::large_charge(n);
  }
  // Whether allocate(n) would succeed now (overflow-safe: used may exceed max
  // after external charges, and charged_size saturates for absurd n).
  bool fits(std::size_t n) const {
    return used_bytes_ <= max_bytes_ && charged_size(n) <= max_bytes_ - used_bytes_;
  }
  // Whether `charge` more bytes, already a charge (a charged_size, or a sum
  // of them), fit under max now. (fits(n) charges n again: for a large n
  // that is another page.)
  bool fits_charge(std::uint64_t charge) const {
    return used_bytes_ <= max_bytes_ && charge <= max_bytes_ - used_bytes_;
  }

  // Memory for n bytes, aligned to 8 (to 16 when charged_size(n) is a
  // multiple of 16, as it is for every n > 120), or nullptr (and failures++)
  // when the charge would exceed max_bytes. O(1).
  void* allocate(std::size_t n);
  // Returns memory from allocate(n); n must be the size asked for (the span
  // is found from it). nullptr is ignored. O(1).
  void deallocate(void* p, std::size_t n);
  // Whether reuse(p, a, b) may be called: a and b are small sizes of the
  // same class.
  static bool same_small_class(std::size_t a, std::size_t b) {
    return a <= memory_pool_detail::kMaxSmallBytes && b <= memory_pool_detail::kMaxSmallBytes &&
           memory_pool_detail::kChargeBySize8[(a + 7) >> 3] == memory_pool_detail::kChargeBySize8[(b + 7) >> 3];
  }
  // p, from allocate(old_n), now holds new_n bytes (same_small_class(old_n,
  // new_n)): counted as a free of old_n and an allocation of new_n, without
  // either (its charge stays). A cache evicting an entry to store one of the
  // same class takes the victim's chunk as it is, as memcached does within a
  // slab class. O(1); returns p.
  void* reuse(void* p, std::size_t old_n, std::size_t new_n);

  // Charges (delta > 0) or releases (delta < 0) bytes the owner holds outside
  // the pool. Charging never fails: the owner evicts to get back under max.
  // Inline: a store charges its index growth on every set.
  void charge_external(std::int64_t delta) {
    if (delta >= 0) {
      const auto d = static_cast<std::uint64_t>(delta);
      external_bytes_ += d;
      used_bytes_ += d;
    } else {
      // Releasing more than was charged is an owner bug; clamped in release builds.
      std::uint64_t d = static_cast<std::uint64_t>(-(delta + 1)) + 1;
      assert(d <= external_bytes_);
      if (d > external_bytes_) d = external_bytes_;
      external_bytes_ -= d;
      used_bytes_ -= d;
    }
    if (used_bytes_ >= rise_bytes_ || used_bytes_ < fall_bytes_) update_pressure();
  }

  // Each threshold in [0,1] ("thresholds must be between 0.0 and 1.0") and
  // warning < critical < panic ("thresholds must be ordered: warning <
  // critical < panic").
  Status set_thresholds(double warning, double critical, double panic);
  // Called synchronously when pressure rises into a higher level than last
  // reported (once per crossing, not per allocation); only the highest level
  // reached is reported. The level re-arms when pressure falls back below it.
  void set_pressure_handler(PressureHandler handler);
  // New maximum: "invalid pool size: 0" for zero, "cannot resize below
  // current usage: <new> < <used>" below use, the kMaxPoolBytes rule above it.
  // Shrinking can raise pressure into a new level: the handler fires then too.
  Status resize(std::uint64_t new_max_bytes);

  const std::string& name() const { return name_; }
  std::uint64_t max_bytes() const { return max_bytes_; }
  std::uint64_t used_bytes() const { return used_bytes_; }
  std::uint64_t available_bytes() const { return used_bytes_ >= max_bytes_ ? 0 : max_bytes_ - used_bytes_; }
  double pressure() const { return static_cast<double>(used_bytes_) / static_cast<double>(max_bytes_); }
  PressureLevel level() const;
  MemoryPoolStats stats() const;

 private:
  struct Impl;
  MemoryPool(std::string name, std::uint64_t max_bytes);
  void* allocate_large(std::size_t n);
  void deallocate_large(void* p, std::size_t n);
  // Re-derives the reported level after used or the thresholds changed, and
  // fires the handler when it rose.
  void update_pressure();

  std::string name_;
  std::uint64_t max_bytes_ = 0;
  std::uint64_t used_bytes_ = 0;
  std::uint64_t external_bytes_ = 0;  // charged through charge_external
  // Fast-path bounds around the reported pressure level (update_pressure
  // sets them): re-evaluate only when used reaches rise or drops below fall.
  std::uint64_t rise_bytes_ = 0;
  std::uint64_t fall_bytes_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hcsim::core
