// Mac: the Ethernet MAC. TX: padding to the minimum frame, FCS generation, and the transmitter
// (one frame at a time on the wire, with preamble, SFD and inter-frame gap). RX: FCS and length
// checks and the destination address filter (unicast, broadcast, the multicast hash,
// promiscuous and all-multicast), as RX_CTRL, MAX_FRAME, MAC_LO/HI and MC_HASH_LO/HI program them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/interrupts.hpp"
#include "vnic/hw/nic/register_file.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/model/frame.hpp"

namespace vnic::hw {

class Mac {
 public:
  Mac(NicCore& core, RegisterFile& rf, Interrupts& irq);

  // ---- link
  void attach(EthEndpoint* self, EthMedium* medium, unsigned side);
  void link_changed(bool up, model::BitRate rate);
  bool link_up() const { return link_up_; }
  model::BitRate link_rate() const { return link_rate_; }

  // ---- TX
  static constexpr uint32_t kMinPadded = 60;  // frames shorter than this are padded (without FCS)
  // Bytes a frame of `total` data bytes takes on the wire: padded, with its FCS.
  static uint32_t wire_len(uint32_t total) {
    return (total < kMinPadded ? kMinPadded : total) + static_cast<uint32_t>(model::kFcsLen);
  }
  // Pads the frame's data [0, total) and appends its FCS (the frame is wire_len(total) bytes).
  static void finish(model::Frame& f, uint32_t total);
  // The transmitter: a frame ready at `ready_ps` takes the wire at the first free moment.
  struct WireSlot {
    uint64_t start_ps = 0;     // first preamble bit
    uint64_t end_ps = 0;       // last bit
    uint64_t free_before = 0;  // the transmitter's free time before this frame took it, and after
    uint64_t free_set = 0;
  };
  WireSlot reserve(uint64_t ready_ps, std::size_t frame_bytes);
  // A reserved frame that will not go after all gives the wire back, if nothing took it since.
  void unreserve(const WireSlot& s) {
    if (free_ps_ == s.free_set) free_ps_ = s.free_before;
  }
  // Hands a frame whose last bit has left to the medium; false if the link is down.
  bool transmit(model::Frame&& f, uint64_t start_ps) {
    return medium_ != nullptr && link_up_ && medium_->transmit(side_, std::move(f), start_ps);
  }
  void power_on() { free_ps_ = 0; }

  // ---- RX
  struct RxVerdict {
    model::regs::Stat drop{};  // valid when !accept
    bool accept = false;
    uint16_t errors = 0;       // RxDesc error bits (rx-all delivers bad frames flagged)
    bool keep_fcs = false;
    std::size_t data_len = 0;  // bytes written to the buffer
  };
  // FCS, length, filter and buffer-size checks of an arrived frame, in that order.
  RxVerdict check(const model::Frame& f, uint32_t buf_size) const;

 private:
  bool filter(const model::Frame& f) const;
  void write_max_frame(unsigned, uint32_t v, uint32_t raw);
  // The rate frames are timed at: the link's, or 10 Gb/s before any link was seen.
  model::BitRate tx_rate() const { return link_rate_.bps() ? link_rate_ : model::BitRate::gbps(10); }

  NicCore& core_;
  Interrupts& irq_;
  EthMedium* medium_ = nullptr;
  unsigned side_ = 0;
  bool link_up_ = false;
  model::BitRate link_rate_{};
  uint64_t free_ps_ = 0;  // the TX wire is busy until (incl. IFG)
};

}  // namespace vnic::hw
