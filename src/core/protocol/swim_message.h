// The messages of the membership protocol (SWIM with suspicion, as in
// HashiCorp memberlist), as plain values. binary_codec.h turns them into the
// bytes that cross the transport and back.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hcsim::core::protocol {

// A member's state as one node believes it. Order matters: for the same
// incarnation, a later state overrides an earlier one (alive < suspect < dead).
enum class MemberState : std::uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };

// One piece of membership news (piggybacked gossip), or one entry of a full
// state exchange. `from` names who suspected or declared the member dead
// (empty for alive; equal to `node` for a graceful leave).
struct MemberUpdate {
  MemberState state = MemberState::kAlive;
  std::uint32_t incarnation = 0;
  std::uint32_t address = 0;  // the member's transport address
  std::string node;
  std::string from;
  std::vector<std::pair<std::string, std::string>> metadata;  // alive (and sync) only

  friend bool operator==(const MemberUpdate&, const MemberUpdate&) = default;
};

enum class MessageType : std::uint8_t {
  kPing = 1,          // direct probe of `target`; answered with an ack
  kIndirectPing = 2,  // ask the receiver to probe `target` (at target_address) for the sender
  kAck = 3,           // answer to a ping, by sequence number
  kGossip = 4,        // piggyback carrier only
  kSync = 5,          // push-pull: the sender's full state (join, or anti-entropy)
  kSyncReply = 6,     // the receiver's full state in return
};

struct SwimMessage {
  MessageType type = MessageType::kPing;
  std::uint32_t seq = 0;             // ping/indirect/ack: matches acks to probes
  std::string sender;                // the sending node's id
  std::string target;                // ping/indirect: the node probed (a misdelivered ping is ignored)
  std::uint32_t target_address = 0;  // indirect ping only
  bool join = false;                 // sync: the sender is joining
  std::vector<MemberUpdate> updates; // piggybacked gossip, or the full state for sync

  friend bool operator==(const SwimMessage&, const SwimMessage&) = default;
};

}  // namespace hcsim::core::protocol
