#include "sim/network/sim_transport.h"

#include <limits>

namespace hcsim::sim {

bool SimTransport::send(core::TransportAddress to, std::string payload) {
  if (to >= network_.endpoint_count()) return false;
  if (payload.size() > std::numeric_limits<std::uint32_t>::max() - kHeaderBytes) return false;
  Message m;
  m.from = self_;
  m.to = to;
  m.type = kMessageType;
  m.bytes = kHeaderBytes + static_cast<std::uint32_t>(payload.size());
  ++sent_;
  bytes_sent_ += m.bytes;
  return network_.send(m, std::move(payload));
}

bool SimTransport::deliver(const Message& m) {
  if (m.type != kMessageType) return false;
  ++received_;
  if (receiver_) receiver_(m.from, network_.payload());
  return true;
}

void SimTransport::deliver_payload(core::TransportAddress from, std::string_view payload) {
  ++received_;
  if (receiver_) receiver_(from, payload);
}

}  // namespace hcsim::sim
