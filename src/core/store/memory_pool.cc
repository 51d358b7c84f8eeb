#include "core/store/memory_pool.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <new>
#include <utility>

namespace hcsim::core {
namespace {

// ---- Size classes -----------------------------------------------------------
// 8-byte steps up to 128, then 8 classes per doubling up to 16 KiB (rounding
// waste below 12.5%). Each class lives in spans of one size (64 KiB .. 1 MiB),
// aligned to that size, so deallocate(p, n) finds the span header by masking
// p with the span size of n's class. A class's span size is the smallest one
// whose unusable bytes (the 64-byte header plus the tail no chunk fits in)
// stay within 1/64 of the span. Chunks are carved lazily, so a big span that
// holds few chunks costs address space, not resident memory.
//
// Why stop at 16 KiB: a class keeps the pages of the most chunks it ever held
// at once, and classes with few, big chunks swing most under random eviction.
// Measured with a 256 MiB pool churned 4x past its budget (sizes 0..40 KiB),
// resident memory was 105% of the budget with slabs up to 16 KiB and 107.5%
// with slabs up to 64 KiB; malloc shares its free memory across sizes.

constexpr std::size_t kSpanHeaderBytes = 64;
constexpr std::size_t kMinSpanBytes = std::size_t{64} << 10;
constexpr int kSpanKinds = 5;  // span size: 64 KiB << kind
constexpr std::size_t kMaxSpanBytes = kMinSpanBytes << (kSpanKinds - 1);
using memory_pool_detail::kMaxSmallBytes;
constexpr int kNumClasses = 16 + 7 * 8;
constexpr std::size_t kPageBytes = 4096;
// Larger allocations are dedicated malloc blocks with a 32-byte header (list
// links, charge, magic), charged at header + n rounded up to 4 KiB.
constexpr std::size_t kLargeHeaderBytes = 32;
constexpr std::uint32_t kSpanMagic = 0x5350414eU;             // "SPAN"
constexpr std::uint64_t kLargeMagic = 0x4c415247452d504fULL;  // "LARGE-PO"

struct ClassTable {
  std::array<std::uint32_t, kNumClasses> size{};
  std::array<std::uint8_t, kNumClasses> span_kind{};
  std::array<std::uint16_t, kNumClasses> capacity{};
  std::array<std::uint8_t, kMaxSmallBytes / 8 + 1> by_size8{};  // index: (n + 7) / 8
};

constexpr ClassTable make_class_table() {
  ClassTable t;
  int c = 0;
  for (std::uint32_t s = 8; s <= 128; s += 8) t.size[c++] = s;
  for (std::uint32_t base = 128; base < kMaxSmallBytes; base *= 2) {
    for (std::uint32_t i = 1; i <= 8; ++i) t.size[c++] = base + i * (base / 8);
  }
  for (int k = 0; k < kNumClasses; ++k) {
    const std::size_t size = t.size[k];
    int best = kSpanKinds - 1;  // the largest span wastes the smallest share
    for (int kind = 0; kind < kSpanKinds; ++kind) {
      const std::size_t span = kMinSpanBytes << kind;
      const std::size_t unusable = (span - kSpanHeaderBytes) % size + kSpanHeaderBytes;
      if (unusable * 64 <= span) {
        best = kind;
        break;
      }
    }
    t.span_kind[k] = static_cast<std::uint8_t>(best);
    t.capacity[k] = static_cast<std::uint16_t>(((kMinSpanBytes << best) - kSpanHeaderBytes) / size);
  }
  int k = 0;
  for (std::size_t i = 0; i < t.by_size8.size(); ++i) {
    const std::size_t n = i * 8;
    while (t.size[k] < n) ++k;
    t.by_size8[i] = static_cast<std::uint8_t>(k);
  }
  return t;
}

constexpr ClassTable kClasses = make_class_table();
static_assert(kClasses.size[kNumClasses - 1] == kMaxSmallBytes);
static_assert(kClasses.by_size8[0] == 0 &&
              kClasses.by_size8[kMaxSmallBytes / 8] == kNumClasses - 1);

inline int class_of(std::size_t n) {
  assert(n <= kMaxSmallBytes);
  return kClasses.by_size8[(n + 7) >> 3];
}
inline std::size_t span_bytes_of_kind(int kind) { return kMinSpanBytes << kind; }
inline std::uint64_t round_up_page(std::uint64_t n) {
  return (n + kPageBytes - 1) / kPageBytes * kPageBytes;
}

}  // namespace

namespace memory_pool_detail {
std::uint64_t large_charge(std::size_t n) {
  // Saturates: a charge this large never fits any pool (max <= 1 TiB).
  if (n > std::numeric_limits<std::size_t>::max() - kLargeHeaderBytes - kPageBytes) {
    return std::numeric_limits<std::size_t>::max();
  }
  return round_up_page(n + kLargeHeaderBytes);
}

namespace {
constexpr std::array<std::uint32_t, kMaxSmallBytes / 8 + 1> make_charge_table() {
  std::array<std::uint32_t, kMaxSmallBytes / 8 + 1> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = kClasses.size[kClasses.by_size8[i]];
  return t;
}
}  // namespace

constinit const std::array<std::uint32_t, kMaxSmallBytes / 8 + 1> kChargeBySize8 = make_charge_table();
}  // namespace memory_pool_detail

namespace {
using memory_pool_detail::large_charge;

template <typename T>
struct List {  // intrusive doubly linked list: O(1) push and unlink
  T* head = nullptr;
  void push(T* x) {
    x->prev = nullptr;
    x->next = head;
    if (head != nullptr) head->prev = x;
    head = x;
  }
  void unlink(T* x) {
    if (x->prev != nullptr) {
      x->prev->next = x->next;
    } else {
      assert(head == x);
      head = x->next;
    }
    if (x->next != nullptr) x->next->prev = x->prev;
    x->prev = x->next = nullptr;
  }
  T* pop() {
    T* x = head;
    if (x != nullptr) unlink(x);
    return x;
  }
};

// ---- Regions: where spans come from ------------------------------------------
// Spans are cut from 4 MiB regions mapped straight from the kernel, one span
// size per region, so a span is aligned to its size without the overhead of
// an aligned malloc (glibc keeps ~8 KiB resident per 64 KiB memalign). A span
// given back is madvise(DONTNEED)d: its pages leave the resident set at once,
// its address stays with the region for the next span of that size. A region
// whose slots are all free is unmapped, unless it is the last one with room
// for its span size (a class flipping between 0 and 1 span then does not map
// and unmap 4 MiB each time; its pages are returned either way).

constexpr std::size_t kRegionBytes = std::size_t{4} << 20;

struct Region {
  Region* prev;
  Region* next;
  char* base;               // aligned to kMaxSpanBytes
  std::uint64_t free_mask;  // bit i: span slot i is free
  std::uint64_t all_mask;   // every slot of this region's span size
  std::uint8_t kind;
};

void* map_aligned(std::size_t bytes, std::size_t align) {
  const std::size_t len = bytes + align;
  void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(m);
  const std::uintptr_t aligned = (start + align - 1) & ~(std::uintptr_t{align} - 1);
  const std::size_t head = aligned - start;
  const std::size_t tail = len - head - bytes;
  if (head > 0) ::munmap(m, head);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  return reinterpret_cast<void*>(aligned);
}

void return_pages(void* p, std::size_t bytes) {
#if defined(__linux__)
  ::madvise(p, bytes, MADV_DONTNEED);  // advisory: on failure the pages just stay resident
#else
  (void)p;
  (void)bytes;
#endif
}

// Faults in [p, p + bytes) ahead of use with one call (MADV_POPULATE_WRITE,
// Linux 5.14), instead of one page fault per 4 KiB page as carving reaches
// it: on this VM a fault took about 1.6 us, ~38 ns for each of the ~42
// entries of 96 bytes a page holds. False if the kernel did not (older
// kernel, or no memory now): the pages then fault in one by one as before.
// (A call that fails part way may leave some of the range resident but
// uncounted until carving reaches it: touched_bytes then trails the
// resident pages by at most kMaxPopulateAheadBytes for that span.)
bool populate_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  return ::madvise(p, bytes, MADV_POPULATE_WRITE) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

// How far past the page carving has reached touch_to() populates: as much
// as the span has touched so far, at most this much. A span that holds few
// chunks then populates little, and resident memory runs at most 64 KiB
// per partly carved span ahead of use.
constexpr std::size_t kMaxPopulateAheadBytes = std::size_t{64} << 10;

// ---- Spans ------------------------------------------------------------------

enum class SpanList : std::uint8_t { kPartial, kFull, kCached };

// The first 64 bytes of every span; chunk i is at span + 64 + i * class size.
// Free chunks form an intrusive singly linked list (a free chunk's first 8
// bytes point to the next); chunks never handed out yet are carved from
// `bump`. `touched_end` is how far the span's pages have been written (or
// populated ahead of carving) since they were last returned to the kernel.
struct Span {
  Span* prev;
  Span* next;
  void* free_list;
  char* bump;
  char* touched_end;
  Region* region;
  std::uint32_t magic;
  std::uint32_t live;
  std::uint16_t capacity;
  std::uint8_t size_class;
  std::uint8_t kind;
  SpanList list;
};
static_assert(sizeof(Span) <= kSpanHeaderBytes);

struct LargeBlock {
  LargeBlock* prev;
  LargeBlock* next;
  std::uint64_t charge;
  std::uint64_t magic;
};
static_assert(sizeof(LargeBlock) == kLargeHeaderBytes);

std::uint64_t cache_limit_for(std::uint64_t max_bytes) {
  // 1/64 of the budget, at least one 64 KiB span (so a class flipping between
  // zero and one live chunk does not go to the kernel every time), at most
  // 4 MiB.
  const std::uint64_t share = max_bytes / 64;
  const std::uint64_t lo = kMinSpanBytes;
  const std::uint64_t hi = std::uint64_t{4} << 20;
  return share < lo ? lo : (share > hi ? hi : share);
}

Status validate_thresholds(double warning, double critical, double panic) {
  for (const double t : {warning, critical, panic}) {
    if (!(t >= 0.0 && t <= 1.0)) return Status::error("thresholds must be between 0.0 and 1.0");
  }
  if (!(warning < critical && critical < panic)) {
    return Status::error("thresholds must be ordered: warning < critical < panic");
  }
  return Status::ok();
}

// The smallest used value u with u / max >= t, computed with the same double
// division pressure() uses, so level() on bytes agrees with pressure().
std::uint64_t threshold_bytes(double t, std::uint64_t max_bytes) {
  const double max_d = static_cast<double>(max_bytes);
  const auto reaches = [&](std::uint64_t u) { return static_cast<double>(u) / max_d >= t; };
  double guess = std::ceil(t * max_d);
  if (guess < 0.0) guess = 0.0;
  if (guess > max_d) guess = max_d;
  std::uint64_t u = static_cast<std::uint64_t>(guess);
  while (u > 0 && reaches(u - 1)) --u;
  while (!reaches(u)) ++u;  // ends: reaches(max) holds since t <= 1
  return u;
}

}  // namespace

// ---- Pool state -------------------------------------------------------------

struct MemoryPool::Impl {
  std::array<List<Span>, kNumClasses> partial;  // spans with a free or uncarved chunk
  std::array<List<Span>, kNumClasses> full;     // spans with every chunk live
  std::array<List<Span>, kSpanKinds> cached;    // empty spans kept for reuse
  std::array<List<Region>, kSpanKinds> regions_with_room;
  std::array<List<Region>, kSpanKinds> regions_full;
  LargeBlock* large = nullptr;  // every live large block

  std::uint64_t cache_bytes = 0;
  std::uint64_t cache_limit_bytes = 0;
  std::uint64_t span_bytes = 0;     // spans held, cached ones included
  std::uint64_t touched_bytes = 0;  // pages of held spans written since last returned
  std::uint64_t large_bytes = 0;

  std::uint64_t requested_bytes = 0;
  std::uint64_t total_allocations = 0;
  std::uint64_t total_frees = 0;
  std::uint64_t total_reuses = 0;
  std::uint64_t failures = 0;

  double warning = 0.85;
  double critical = 0.90;
  double panic = 0.95;
  std::array<std::uint64_t, 3> level_bytes{};  // used at which warning/critical/panic start
  PressureLevel reported = PressureLevel::kNormal;
  PressureHandler handler;

  // The caller (set_thresholds, resize, create) then calls update_pressure,
  // which also moves the pool's fast-path bounds.
  void recompute_levels(std::uint64_t max_bytes) {
    level_bytes = {threshold_bytes(warning, max_bytes), threshold_bytes(critical, max_bytes),
                   threshold_bytes(panic, max_bytes)};
  }

  PressureLevel level_at(std::uint64_t used) const {
    if (used >= level_bytes[2]) return PressureLevel::kPanic;
    if (used >= level_bytes[1]) return PressureLevel::kCritical;
    if (used >= level_bytes[0]) return PressureLevel::kWarning;
    return PressureLevel::kNormal;
  }

  // A span slot from a region with room (mapping a new region if none has).
  Span* take_slot(int kind) {
    Region* r = regions_with_room[kind].head;
    if (r == nullptr) {
      void* base = map_aligned(kRegionBytes, kMaxSpanBytes);
      if (base == nullptr) return nullptr;
      r = new (std::nothrow) Region{};
      if (r == nullptr) {
        ::munmap(base, kRegionBytes);
        return nullptr;
      }
      const std::size_t slots = kRegionBytes / span_bytes_of_kind(kind);
      r->base = static_cast<char*>(base);
      r->all_mask = slots >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << slots) - 1;
      r->free_mask = r->all_mask;
      r->kind = static_cast<std::uint8_t>(kind);
      regions_with_room[kind].push(r);
    }
    assert(r->free_mask != 0);
    const int slot = __builtin_ctzll(r->free_mask);
    r->free_mask &= r->free_mask - 1;
    if (r->free_mask == 0) {
      regions_with_room[kind].unlink(r);
      regions_full[kind].push(r);
    }
    auto* s = reinterpret_cast<Span*>(r->base +
                                      static_cast<std::size_t>(slot) * span_bytes_of_kind(kind));
    s->region = r;
    s->touched_end = reinterpret_cast<char*>(s) + kPageBytes;  // the header's page
    span_bytes += span_bytes_of_kind(kind);
    touched_bytes += kPageBytes;
    return s;
  }

  Span* new_span(int size_class) {
    const int kind = kClasses.span_kind[size_class];
    Span* s = cached[kind].pop();
    if (s != nullptr) {
      cache_bytes -= span_bytes_of_kind(kind);
    } else {
      s = take_slot(kind);
      if (s == nullptr) return nullptr;
    }
    s->free_list = nullptr;
    s->bump = reinterpret_cast<char*>(s) + kSpanHeaderBytes;
    s->magic = kSpanMagic;
    s->live = 0;
    s->capacity = kClasses.capacity[size_class];
    s->size_class = static_cast<std::uint8_t>(size_class);
    s->kind = static_cast<std::uint8_t>(kind);
    s->list = SpanList::kPartial;
    partial[size_class].push(s);
    return s;
  }

  // Carving moved past the pages written so far: populate the pages it
  // reached and some ahead (see kMaxPopulateAheadBytes), and count them.
  void touch_to(Span* s) {
    char* const base = reinterpret_cast<char*>(s);
    const auto offset = static_cast<std::uint64_t>(s->bump - base);
    const std::uint64_t reached = round_up_page(offset);
    char* end = base + reached;
    const std::uint64_t ahead = std::min<std::uint64_t>(static_cast<std::uint64_t>(s->touched_end - base),
                                                        kMaxPopulateAheadBytes);
    char* const want = base + std::min<std::uint64_t>(reached + ahead, span_bytes_of_kind(s->kind));
    if (populate_pages(s->touched_end, static_cast<std::size_t>(want - s->touched_end))) end = want;
    touched_bytes += static_cast<std::uint64_t>(end - s->touched_end);
    s->touched_end = end;
  }

  void release_to_system(Span* s) {
    const int kind = s->kind;
    const std::size_t bytes = span_bytes_of_kind(kind);
    Region* r = s->region;
    const auto slot =
        static_cast<int>(static_cast<std::size_t>(reinterpret_cast<char*>(s) - r->base) / bytes);
    assert(r->kind == kind && ((r->free_mask >> slot) & 1) == 0);
    s->magic = 0;
    span_bytes -= bytes;
    touched_bytes -= static_cast<std::uint64_t>(s->touched_end - reinterpret_cast<char*>(s));
    return_pages(s, bytes);
    if (r->free_mask == 0) {
      regions_full[kind].unlink(r);
      regions_with_room[kind].push(r);
    }
    r->free_mask |= std::uint64_t{1} << slot;
    if (r->free_mask == r->all_mask && !(regions_with_room[kind].head == r && r->next == nullptr)) {
      regions_with_room[kind].unlink(r);
      ::munmap(r->base, kRegionBytes);
      delete r;
    }
  }

  // An empty span leaves its class: into the cache when it fits, else back.
  void retire_span(Span* s) {
    assert(s->live == 0 && s->list == SpanList::kPartial);
    partial[s->size_class].unlink(s);
    const std::size_t bytes = span_bytes_of_kind(s->kind);
    if (cache_bytes + bytes <= cache_limit_bytes) {
      s->list = SpanList::kCached;
      cached[s->kind].push(s);
      cache_bytes += bytes;
    } else {
      release_to_system(s);
    }
  }

  void trim_cache() {
    for (int kind = kSpanKinds - 1; kind >= 0 && cache_bytes > cache_limit_bytes; --kind) {
      while (cache_bytes > cache_limit_bytes && cached[kind].head != nullptr) {
        Span* s = cached[kind].pop();
        cache_bytes -= span_bytes_of_kind(kind);
        release_to_system(s);
      }
    }
  }

  void free_everything() {
    // Every span lives in a region: unmapping the regions frees them all.
    for (auto& q : partial) q.head = nullptr;
    for (auto& q : full) q.head = nullptr;
    for (auto& q : cached) q.head = nullptr;
    cache_bytes = span_bytes = touched_bytes = 0;
    auto drain = [](List<Region>& list) {
      while (Region* r = list.pop()) {
        ::munmap(r->base, kRegionBytes);
        delete r;
      }
    };
    for (auto& list : regions_with_room) drain(list);
    for (auto& list : regions_full) drain(list);
    while (large != nullptr) {
      LargeBlock* b = large;
      large = b->next;
      large_bytes -= b->charge;
      b->magic = 0;
      ::operator delete(static_cast<void*>(b));
    }
  }
};

// ---- Public API -------------------------------------------------------------

MemoryPool::MemoryPool(std::string name, std::uint64_t max_bytes)
    : name_(std::move(name)), max_bytes_(max_bytes), impl_(std::make_unique<Impl>()) {
  impl_->cache_limit_bytes = cache_limit_for(max_bytes_);
}

MemoryPool::~MemoryPool() { impl_->free_everything(); }

Result<std::unique_ptr<MemoryPool>> MemoryPool::create(MemoryPoolConfig config) {
  if (config.name.empty()) return Status::error("pool name cannot be empty");
  if (config.max_bytes == 0) return Status::error("pool max size must be greater than 0");
  if (config.max_bytes > kMaxPoolBytes) {
    return Status::error(fmt::format("pool max size must be at most {} bytes", kMaxPoolBytes));
  }
  Status st = validate_thresholds(config.warning_threshold, config.critical_threshold,
                                  config.panic_threshold);
  if (!st.is_ok()) return st;
  std::unique_ptr<MemoryPool> pool(new MemoryPool(std::move(config.name), config.max_bytes));
  pool->impl_->warning = config.warning_threshold;
  pool->impl_->critical = config.critical_threshold;
  pool->impl_->panic = config.panic_threshold;
  pool->impl_->recompute_levels(pool->max_bytes_);
  pool->update_pressure();
  return pool;
}


void* MemoryPool::allocate(std::size_t n) {
  if (n > kMaxSmallBytes) return allocate_large(n);
  Impl& m = *impl_;
  const int c = class_of(n);
  const std::uint64_t charge = kClasses.size[c];
  if (used_bytes_ > max_bytes_ || charge > max_bytes_ - used_bytes_) {
    ++m.failures;
    return nullptr;
  }
  Span* s = m.partial[c].head;
  if (s == nullptr) {
    s = m.new_span(c);
    if (s == nullptr) {
      ++m.failures;
      return nullptr;
    }
  }
  assert(s->live < s->capacity);
  void* p;
  if (s->free_list != nullptr) {
    p = s->free_list;
    s->free_list = *static_cast<void**>(p);
  } else {
    p = s->bump;
    s->bump += charge;
    assert(s->bump <= reinterpret_cast<char*>(s) + span_bytes_of_kind(s->kind));
    if (s->bump > s->touched_end) m.touch_to(s);
  }
  if (++s->live == s->capacity) {
    m.partial[c].unlink(s);
    s->list = SpanList::kFull;
    m.full[c].push(s);
  }
  used_bytes_ += charge;
  m.requested_bytes += n;
  ++m.total_allocations;
  if (used_bytes_ >= rise_bytes_) update_pressure();
  return p;
}

void MemoryPool::deallocate(void* p, std::size_t n) {
  if (p == nullptr) return;
  if (n > kMaxSmallBytes) {
    deallocate_large(p, n);
    return;
  }
  Impl& m = *impl_;
  const int c = class_of(n);
  const std::uint64_t charge = kClasses.size[c];
  const std::uintptr_t mask = ~(std::uintptr_t{span_bytes_of_kind(kClasses.span_kind[c])} - 1);
  Span* s = reinterpret_cast<Span*>(reinterpret_cast<std::uintptr_t>(p) & mask);
  // A wrong n (or a pointer not from this pool) lands on a header of another
  // class or on no header at all.
  assert(s->magic == kSpanMagic && s->size_class == c && s->live > 0);
  assert(used_bytes_ >= charge && m.requested_bytes >= n);
  *static_cast<void**>(p) = s->free_list;
  s->free_list = p;
  if (s->live == s->capacity) {
    m.full[c].unlink(s);
    s->list = SpanList::kPartial;
    m.partial[c].push(s);
  }
  if (--s->live == 0) m.retire_span(s);
  used_bytes_ -= charge;
  m.requested_bytes -= n;
  ++m.total_frees;
  if (used_bytes_ < fall_bytes_) update_pressure();
}

void* MemoryPool::reuse(void* p, std::size_t old_n, std::size_t new_n) {
  assert(p != nullptr && same_small_class(old_n, new_n));
  Impl& m = *impl_;
  assert(m.requested_bytes >= old_n);
#ifndef NDEBUG
  const int c = class_of(old_n);
  const std::uintptr_t mask = ~(std::uintptr_t{span_bytes_of_kind(kClasses.span_kind[c])} - 1);
  const Span* s = reinterpret_cast<const Span*>(reinterpret_cast<std::uintptr_t>(p) & mask);
  assert(s->magic == kSpanMagic && s->size_class == c && s->live > 0);  // live memory of this pool
#endif
  m.requested_bytes = m.requested_bytes - old_n + new_n;
  ++m.total_frees;
  ++m.total_allocations;
  ++m.total_reuses;
  return p;
}

void* MemoryPool::allocate_large(std::size_t n) {
  Impl& m = *impl_;
  const std::uint64_t charge = large_charge(n);
  if (used_bytes_ > max_bytes_ || charge > max_bytes_ - used_bytes_) {
    ++m.failures;
    return nullptr;
  }
  void* mem = ::operator new(static_cast<std::size_t>(charge), std::nothrow);
  if (mem == nullptr) {
    ++m.failures;
    return nullptr;
  }
  auto* b = static_cast<LargeBlock*>(mem);
  b->prev = nullptr;
  b->next = m.large;
  if (m.large != nullptr) m.large->prev = b;
  m.large = b;
  b->charge = charge;
  b->magic = kLargeMagic;
  m.large_bytes += charge;
  used_bytes_ += charge;
  m.requested_bytes += n;
  ++m.total_allocations;
  if (used_bytes_ >= rise_bytes_) update_pressure();
  return static_cast<char*>(mem) + kLargeHeaderBytes;
}

void MemoryPool::deallocate_large(void* p, std::size_t n) {
  Impl& m = *impl_;
  auto* b = reinterpret_cast<LargeBlock*>(static_cast<char*>(p) - kLargeHeaderBytes);
  assert(b->magic == kLargeMagic && b->charge == large_charge(n));
  const std::uint64_t charge = b->charge;
  if (b->prev != nullptr) {
    b->prev->next = b->next;
  } else {
    m.large = b->next;
  }
  if (b->next != nullptr) b->next->prev = b->prev;
  b->magic = 0;
  ::operator delete(static_cast<void*>(b));
  m.large_bytes -= charge;
  used_bytes_ -= charge;
  m.requested_bytes -= n;
  ++m.total_frees;
  if (used_bytes_ < fall_bytes_) update_pressure();
}

Status MemoryPool::set_thresholds(double warning, double critical, double panic) {
  Status st = validate_thresholds(warning, critical, panic);
  if (!st.is_ok()) return st;
  impl_->warning = warning;
  impl_->critical = critical;
  impl_->panic = panic;
  impl_->recompute_levels(max_bytes_);
  update_pressure();
  return Status::ok();
}

void MemoryPool::set_pressure_handler(PressureHandler handler) {
  impl_->handler = std::move(handler);
}

Status MemoryPool::resize(std::uint64_t new_max_bytes) {
  if (new_max_bytes == 0) return Status::error("invalid pool size: 0");
  if (new_max_bytes > kMaxPoolBytes) {
    return Status::error(fmt::format("pool max size must be at most {} bytes", kMaxPoolBytes));
  }
  if (new_max_bytes < used_bytes_) {
    return Status::error(
        fmt::format("cannot resize below current usage: {} < {}", new_max_bytes, used_bytes_));
  }
  max_bytes_ = new_max_bytes;
  impl_->cache_limit_bytes = cache_limit_for(max_bytes_);
  impl_->trim_cache();
  impl_->recompute_levels(max_bytes_);
  update_pressure();
  return Status::ok();
}

PressureLevel MemoryPool::level() const { return impl_->level_at(used_bytes_); }

void MemoryPool::update_pressure() {
  Impl& m = *impl_;
  const PressureLevel now = m.level_at(used_bytes_);
  const bool rose = now > m.reported;
  m.reported = now;
  // The bounds around the reported level (they move with the thresholds too).
  const int r = static_cast<int>(now);
  rise_bytes_ = r == 3 ? std::numeric_limits<std::uint64_t>::max() : m.level_bytes[r];
  fall_bytes_ = r == 0 ? 0 : m.level_bytes[r - 1];
  if (rose && m.handler) {
    // A copy: the handler may replace itself (set_pressure_handler) while it runs.
    PressureHandler handler = m.handler;
    handler(now, pressure());
  }
}

MemoryPoolStats MemoryPool::stats() const {
  const Impl& m = *impl_;
  MemoryPoolStats s;
  s.name = name_;
  s.max_bytes = max_bytes_;
  s.used_bytes = used_bytes_;
  s.available_bytes = available_bytes();
  s.pressure = pressure();
  s.requested_bytes = m.requested_bytes;
  s.external_bytes = external_bytes_;
  s.reserved_bytes = m.span_bytes + m.large_bytes;
  s.touched_bytes = m.touched_bytes + m.large_bytes;
  assert(used_bytes_ >= external_bytes_ + m.requested_bytes);
  s.internal_fragmentation_bytes = used_bytes_ - external_bytes_ - m.requested_bytes;
  s.live_allocations = m.total_allocations - m.total_frees;
  s.total_allocations = m.total_allocations;
  s.total_frees = m.total_frees;
  s.total_reuses = m.total_reuses;
  s.failures = m.failures;
  s.warning_threshold = m.warning;
  s.critical_threshold = m.critical;
  s.panic_threshold = m.panic;
  return s;
}

}  // namespace hcsim::core
