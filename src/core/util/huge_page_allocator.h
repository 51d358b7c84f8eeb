// Huge pages for big, randomly accessed arrays: huge_pages::allocate backs the
// store's IdTable, HugePageAllocator (a std::allocator) a benchmark's array.
// Blocks of 2 MiB or more are mapped 2 MiB-aligned and
// marked MADV_HUGEPAGE, so a random probe costs one TLB entry per 2 MiB
// instead of per 4 KiB (on this project's VMs that halves a miss's cost).
// Smaller blocks come from operator new. Stateless; any two compare equal.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace hcsim::core {

namespace huge_pages {
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

inline void* allocate(std::size_t bytes) {
  if (bytes < kHugePageBytes) return ::operator new(bytes);
  const std::size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  // Over-map by one huge page, then trim to a 2 MiB-aligned range.
  void* raw = mmap(nullptr, rounded + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePageBytes - 1) & ~(std::uintptr_t{kHugePageBytes} - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const std::uintptr_t end = start + rounded + kHugePageBytes;
  if (end > aligned + rounded) munmap(reinterpret_cast<void*>(aligned + rounded), end - (aligned + rounded));
  madvise(reinterpret_cast<void*>(aligned), rounded, MADV_HUGEPAGE);  // a hint: failure is harmless
  return reinterpret_cast<void*>(aligned);
}

inline void deallocate(void* p, std::size_t bytes) {
  if (bytes < kHugePageBytes) {
    ::operator delete(p);
    return;
  }
  const std::size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  munmap(p, rounded);
}
}  // namespace huge_pages

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(huge_pages::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) { huge_pages::deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

}  // namespace hcsim::core
