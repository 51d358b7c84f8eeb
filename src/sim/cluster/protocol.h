// The request protocol between simulated clients and nodes, carried in
// sim::Message: message types, reply flags and wire sizes. Sizes model a
// compact binary protocol: a fixed header plus the key and, where a value
// travels, its bytes.
#pragma once

#include <cstdint>

namespace hcsim::sim::protocol {

enum Type : std::uint16_t {
  kGet = 1,
  kSet = 2,
  kDel = 3,
  kReply = 4,
  kMigrate = 5,     // a batch of keys from an old owner; aux = batch id
  kMigrateAck = 6,  // aux = batch id
};

enum Flags : std::uint16_t {
  kHit = 1,        // GET found the key / DEL removed one
  kBusy = 2,       // the node's queue was full: an error reply
  kForwarded = 4,  // proxy mode: sent on by a node that does not own the key; aux = client endpoint
  kFailed = 8,     // the store refused (out of memory with noeviction, ...): an error reply
};

inline constexpr std::uint32_t kHeaderBytes = 24;

}  // namespace hcsim::sim::protocol
