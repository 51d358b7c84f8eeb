// The messaging half of the runtime seam: core code (the coordinator and its
// protocols) sends and receives encoded messages only through an injected
// Transport. Delivery is best effort: a message may be lost, delayed,
// duplicated or reordered, and the sender is not told. The simulator
// implements it over its simulated network; a socket implementation comes
// with the network server. Receivers run on the owner's single thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace hcsim::core {

using TransportAddress = std::uint32_t;

class Transport {
 public:
  using Receiver = std::function<void(TransportAddress from, std::string_view payload)>;
  virtual ~Transport() = default;
  virtual TransportAddress self() const = 0;
  // Queues `payload` for `to`; false if it was refused at once (the sender
  // is down or cut off, or the message was lost). true promises nothing.
  virtual bool send(TransportAddress to, std::string payload) = 0;
  // The function that receives every message for this address.
  virtual void set_receiver(Receiver receiver) = 0;
};

}  // namespace hcsim::core
