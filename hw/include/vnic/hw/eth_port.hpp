// The Ethernet attachment between a NIC's MAC and a medium (tb::EthLink implements EthMedium).
#pragma once

#include <systemc>

#include "vnic/model/frame.hpp"
#include "vnic/model/units.hpp"

namespace vnic::hw {

// On-the-wire overheads around a frame (IEEE 802.3).
inline constexpr unsigned kPreambleBytes = 7;
inline constexpr unsigned kSfdBytes = 1;
inline constexpr unsigned kIfgBytes = 12;
inline constexpr unsigned kWireOverheadBytes = kPreambleBytes + kSfdBytes + kIfgBytes;  // 20

// What a medium calls on an attached station.
class EthEndpoint {
 public:
  virtual ~EthEndpoint() = default;
  // The last bit of `frame` (bytes from destination MAC through FCS) has arrived now.
  virtual void eth_receive(model::Frame&& frame) = 0;
  // The link went up or down (and its rate, when up).
  virtual void eth_link_changed(bool up, model::BitRate rate) = 0;
};

// What a station calls on its medium. `side` is 0 or 1: which end of a point-to-point link.
class EthMedium {
 public:
  virtual ~EthMedium() = default;
  virtual void attach(unsigned side, EthEndpoint* ep) = 0;
  // The station sent `frame` (with its FCS): its preamble began at start_ps (<= now) and its
  // last bit leaves now; it occupies the wire for (preamble + SFD + frame + IFG) bytes at
  // rate(). A station hands a frame over when it is all on the wire, so one event per frame
  // does; the medium times the arrival from start_ps. Returns false if the link is down (the
  // frame is gone; the caller counts it).
  virtual bool transmit(unsigned side, model::Frame&& frame, uint64_t start_ps) = 0;
  virtual bool up() const = 0;
  virtual model::BitRate rate() const = 0;
};

// Time a frame of `frame_bytes` (incl. FCS) occupies the wire, with preamble, SFD and IFG.
inline model::Duration wire_time(model::BitRate rate, std::size_t frame_bytes) {
  return rate.time_for_bytes(frame_bytes + kWireOverheadBytes);
}

}  // namespace vnic::hw
