// The internal binary codec of the membership protocol: SwimMessage <-> the
// bytes that cross the transport. Frames are compact, versioned, length-
// prefixed and CRC-32C checked; decode() rejects every malformed frame with a
// Status (never a crash, never an allocation sized by an unchecked field).
//
// Frame (all integers LEB128 varints unless noted; canonical encodings only):
//
//   magic u8 (kMagic) | version u8 (kVersion) | type u8 (MessageType)
//   | payload_len varint | payload (payload_len bytes)
//   | crc32c u32 little-endian, over every byte before it
//
//   payload  = seq | sender str | target str | target_address | join u8 (0/1)
//              | update_count | update * update_count
//   update   = state u8 (MemberState) | incarnation | address | node str
//              | from str | metadata_count | (key str | value str) * count
//   str      = length u8 | bytes
//
// Every message type carries every field (unused ones cost one byte each), so
// decode(encode(m)) == m for every valid m. Encodings are canonical: varints
// must be minimal and `join` must be 0 or 1, so a frame that decodes is
// exactly the frame encode() would produce for the decoded message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/protocol/swim_message.h"
#include "core/util/result.h"
#include "core/util/status.h"

namespace hcsim::core::protocol {

inline constexpr std::uint8_t kMagic = 0xB7;
inline constexpr std::uint8_t kVersion = 1;

// Bounds. encode() needs a message within them (see validate()); decode()
// rejects frames that break them.
inline constexpr std::size_t kMaxFrameBytes = 64 * 1024;  // whole frame, header and checksum included
inline constexpr std::size_t kMaxStringBytes = 255;       // any one string (node ids, metadata)
inline constexpr std::size_t kMaxUpdates = 4096;          // updates per message
inline constexpr std::size_t kMaxMetadataPairs = 64;      // metadata pairs per update

// magic + version + type + the shortest payload length varint + checksum.
inline constexpr std::size_t kMinFrameBytes = 3 + 1 + 4;

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and
// final xor 0xFFFFFFFF), as used by iSCSI and ext4: crc32c("123456789") ==
// 0xE3069283.
std::uint32_t crc32c(std::string_view bytes);

// OK when `m` is within the bounds above (its type and member states are
// declared enumerators, its strings, update and metadata counts are bounded
// and its frame fits kMaxFrameBytes); otherwise says which field breaks which.
Status validate(const SwimMessage& m);

// The exact number of bytes encode(m) returns (0 when validate(m) fails).
std::size_t encoded_size(const SwimMessage& m);

// The frame for `m`. Precondition: validate(m) is OK. Debug builds assert it;
// release builds return an empty string, which decode() rejects.
std::string encode(const SwimMessage& m);

// The message in `bytes`, which must be exactly one frame. Errors name what is
// wrong ("checksum mismatch", "unsupported protocol version 2", ...).
Result<SwimMessage> decode(std::string_view bytes);

}  // namespace hcsim::core::protocol
