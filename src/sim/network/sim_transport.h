// core::Transport over the simulated network: one per endpoint. Messages of
// its type carry the payload opaquely, sized on the wire as a fixed header
// plus the payload. The endpoint's handler passes messages of that type to
// deliver(); everything else (clients' requests) it handles itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/runtime/transport.h"
#include "sim/network/network.h"

namespace hcsim::sim {

class SimTransport final : public core::Transport {
 public:
  static constexpr std::uint16_t kMessageType = 100;
  static constexpr std::uint32_t kHeaderBytes = 16;

  SimTransport(Network& network, EndpointId self) : network_(network), self_(self) {}

  core::TransportAddress self() const override { return self_; }
  bool send(core::TransportAddress to, std::string payload) override;
  void set_receiver(Receiver receiver) override { receiver_ = std::move(receiver); }

  // For the endpoint's handler: true if `m` was a transport message (and
  // was handed to the receiver).
  bool deliver(const Message& m);
  // Hands a payload received earlier (held by a paused node) to the receiver.
  void deliver_payload(core::TransportAddress from, std::string_view payload);

  std::uint64_t sent() const { return sent_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }  // on the wire, headers included
  std::uint64_t received() const { return received_; }

 private:
  Network& network_;
  EndpointId self_;
  Receiver receiver_;
  std::uint64_t sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace hcsim::sim
