// Mac: padding, FCS, the transmitter's timing, and the receive checks and filter.
#include "vnic/hw/nic/mac.hpp"

#include <algorithm>
#include <cstring>

#include "vnic/model/crc32.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/mac_addr.hpp"

namespace vnic::hw {

namespace regs = model::regs;
using regs::Stat;

Mac::Mac(NicCore& core, RegisterFile& rf, Interrupts& irq) : core_(core), irq_(irq) {
  rf.on_write<&Mac::write_max_frame>(regs::kMaxFrame, this);
}

void Mac::attach(EthEndpoint* self, EthMedium* medium, unsigned side) {
  medium_ = medium;
  side_ = side;
  medium_->attach(side, self);
  link_up_ = medium_->up();
  link_rate_ = medium_->rate();
}

void Mac::link_changed(bool up, model::BitRate rate) {
  link_up_ = up;
  if (up) link_rate_ = rate;
  irq_.raise_misc(regs::kIcrLink);
}

void Mac::write_max_frame(unsigned, uint32_t v, uint32_t raw) {
  if (raw < regs::kMinFrame || raw > regs::kMaxFrameLimit) {  // judged before reserved bits are dropped
    core_.bump(Stat::mmio_errors);
    irq_.latch_error(regs::err_cause::kMmio.mask(), 0, false);
    return;
  }
  core_.word(regs::kMaxFrame, 0) = v;
}

// ---------------------------------------------------------------------------------- TX

void Mac::finish(model::Frame& f, uint32_t total) {
  const uint32_t padded = std::max(total, kMinPadded);
  std::memset(f.data() + total, 0, padded - total);  // pad short frames to 60 B
  model::write_fcs(f.bytes());
}

Mac::WireSlot Mac::reserve(uint64_t ready_ps, std::size_t frame_bytes) {
  WireSlot s;
  s.free_before = free_ps_;
  s.start_ps = std::max(ready_ps, free_ps_);
  const model::BitRate rate = tx_rate();
  free_ps_ = s.start_ps + static_cast<uint64_t>(wire_time(rate, frame_bytes).ps());
  s.end_ps = s.start_ps + static_cast<uint64_t>(rate.time_for_bytes(kPreambleBytes + kSfdBytes + frame_bytes).ps());
  s.free_set = free_ps_;
  return s;
}

// ---------------------------------------------------------------------------------- RX

bool Mac::filter(const model::Frame& f) const {
  const uint32_t ctrl = core_.word(regs::kRxCtrl, 0);
  if (regs::rx_ctrl::kPromisc.get(ctrl) != 0) return true;  // promiscuous
  model::MacAddr dst;
  std::memcpy(dst.b.data(), f.data(), 6);
  if (dst.is_broadcast()) return regs::rx_ctrl::kBcast.get(ctrl) != 0;
  if (dst.is_multicast()) {
    if (regs::rx_ctrl::kAllmulti.get(ctrl) != 0) return true;  // all-multicast
    const unsigned idx = model::mc_hash_index(dst);
    const uint32_t w = idx < 32 ? core_.word(regs::kMcHashLo, 0) : core_.word(regs::kMcHashHi, 0);
    return ((w >> (idx & 31)) & 1u) != 0;
  }
  return dst == model::MacAddr::from_words(core_.word(regs::kMacLo, 0), core_.word(regs::kMacHi, 0));
}

Mac::RxVerdict Mac::check(const model::Frame& f, uint32_t buf_size) const {
  RxVerdict v;
  const uint32_t ctrl = core_.word(regs::kRxCtrl, 0);
  const bool rx_all = regs::rx_ctrl::kRxAll.get(ctrl) != 0;
  v.keep_fcs = regs::rx_ctrl::kRxFcs.get(ctrl) != 0;
  const std::size_t len = f.size();
  auto drop = [&v](Stat s) {
    v.drop = s;
    return v;
  };
  if (!model::fcs_ok(f.bytes())) {
    if (!rx_all) return drop(Stat::rx_crc_errors);
    v.errors |= model::RxDesc::kErrFcs;
  }
  if (len < regs::kMinFrame || len > core_.word(regs::kMaxFrame, 0)) {
    if (!rx_all || len < 14 + model::kFcsLen) return drop(Stat::rx_length_errors);  // no whole header
    v.errors |= model::RxDesc::kErrLength;
  }
  if (!filter(f)) return drop(Stat::rx_filtered);
  v.data_len = v.keep_fcs ? len : len - model::kFcsLen;
  if (v.data_len > buf_size) return drop(Stat::rx_length_errors);
  v.accept = true;
  return v;
}

}  // namespace vnic::hw
