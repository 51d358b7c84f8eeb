// Writes the fuzz seed corpus for binary_codec_fuzz: a few valid frames of
// every message type (with and without updates and metadata, empty and
// 255-byte strings, large numbers). Usage: hcsim_codec_corpus OUT_DIR.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/protocol/binary_codec.h"

namespace {

using namespace hcsim::core::protocol;

std::vector<SwimMessage> seeds() {
  std::vector<SwimMessage> out;
  for (int t = 1; t <= 6; ++t) {
    SwimMessage bare;
    bare.type = static_cast<MessageType>(t);
    out.push_back(bare);

    SwimMessage m = bare;
    m.seq = 300U * static_cast<std::uint32_t>(t);
    m.sender = "node" + std::to_string(t);
    m.target = t <= 2 ? "node9" : "";
    m.target_address = t == 2 ? 9 : 0;
    m.join = t == 5;
    MemberUpdate alive;
    alive.incarnation = 129;
    alive.address = 70000;
    alive.node = "node3";
    alive.metadata = {{"zone", "eu-1"}, {"", ""}};
    MemberUpdate suspect;
    suspect.state = MemberState::kSuspect;
    suspect.incarnation = 0xFFFFFFFFU;
    suspect.address = 3;
    suspect.node = std::string(255, 'n');
    suspect.from = "node1";
    MemberUpdate left;
    left.state = MemberState::kLeft;
    left.node = "node4";
    left.from = "node4";
    m.updates = {alive, suspect, left};
    if (t == 6) m.updates.resize(40, alive);
    out.push_back(m);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  int n = 0;
  for (const SwimMessage& m : seeds()) {
    if (!validate(m).is_ok()) {
      std::fprintf(stderr, "seed %d is invalid: %s\n", n, validate(m).message().c_str());
      return 1;
    }
    const std::string frame = encode(m);
    std::ofstream file(dir / ("seed-" + std::to_string(n++) + ".bin"), std::ios::binary | std::ios::trunc);
    file.write(frame.data(), static_cast<std::streamsize>(frame.size()));
    if (!file) {
      std::fprintf(stderr, "cannot write seed %d\n", n - 1);
      return 1;
    }
  }
  std::printf("wrote %d seed frames to %s\n", n, dir.c_str());
  return 0;
}
