// For the tests' own stations on an EthMedium (a link's side, a switch port): bytes_ps, and
// WireTx, a transmitter that hands each frame over as a NIC does, when its last bit has left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/model/frame.hpp"

namespace vnic::tb::test {

// The picoseconds `bytes` take on the wire at `r`.
inline uint64_t bytes_ps(model::BitRate r, uint64_t bytes) {
  return static_cast<uint64_t>(r.time_for_bytes(bytes).ps());
}

// Frames in the order sent, each handed to the medium (EthMedium::transmit) when its last bit has
// left: preamble and SFD (8 bytes) and the frame after `start_ps`, at the medium's rate when sent.
// `refused` counts the frames the medium refused (its link down).
struct WireTx {
  int refused = 0;

  void send(hw::EventQueue& q, hw::EthMedium& medium, unsigned side, model::Frame&& f, uint64_t start_ps) {
    medium_ = &medium;
    side_ = side;
    const std::size_t len = f.size();
    pending_.emplace_back(std::move(f), start_ps);
    q.at_ps<&WireTx::hand_over>(start_ps + bytes_ps(medium.rate(), 8 + len), this);
  }

 private:
  void hand_over(uint64_t) {
    auto [f, start_ps] = std::move(pending_.front());
    pending_.pop_front();
    if (!medium_->transmit(side_, std::move(f), start_ps)) ++refused;
  }

  hw::EthMedium* medium_ = nullptr;
  unsigned side_ = 0;
  std::deque<std::pair<model::Frame, uint64_t>> pending_;
};

}  // namespace vnic::tb::test
