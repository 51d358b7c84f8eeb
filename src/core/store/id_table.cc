#include "core/store/id_table.h"

#include <new>

#include "core/util/huge_page_allocator.h"

namespace hcsim::core {

IdTable::Bucket* IdTable::allocate(std::size_t count) {
  const std::size_t bytes = count * sizeof(Bucket);
  void* mem = bytes >= huge_pages::kHugePageBytes ? huge_pages::allocate(bytes)
                                                  : ::operator new(bytes, std::align_val_t{alignof(Bucket)});
  std::memset(mem, 0, bytes);
  return static_cast<Bucket*>(mem);
}

void IdTable::deallocate(Bucket* buckets, std::size_t count) {
  if (buckets == nullptr) return;
  const std::size_t bytes = count * sizeof(Bucket);
  if (bytes >= huge_pages::kHugePageBytes) {
    huge_pages::deallocate(buckets, bytes);
  } else {
    ::operator delete(buckets, std::align_val_t{alignof(Bucket)});
  }
}

}  // namespace hcsim::core
