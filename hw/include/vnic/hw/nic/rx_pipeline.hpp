// RxPipeline: the receive queues. Doorbell -> descriptor fetch into the on-chip FIFO; a frame
// from the wire -> the MAC's checks -> a free descriptor (or rx_missed_errors) -> data write and
// descriptor write-back, posted in order -> counted when the write-back lands -> the queue's RX
// interrupt source. One queue pair receives everything (no RSS yet). docs/hw.md, "RX path".
#pragma once

#include <cstdint>
#include <vector>

#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/interrupts.hpp"
#include "vnic/hw/nic/mac.hpp"
#include "vnic/hw/nic/queue.hpp"
#include "vnic/hw/nic/register_file.hpp"

namespace vnic::hw {

class RxPipeline {
 public:
  RxPipeline(NicCore& core, RegisterFile& rf, Interrupts& irq, Mac& mac);

  void kick(unsigned qp);
  void kick_all() {
    for (unsigned qp = 0; qp < rxq_.size(); ++qp) kick(qp);
  }
  // The last bit of a frame has arrived.
  void receive(model::Frame&& frame);
  // An RX data write or descriptor write-back ended.
  void write_done(const WriteTag& tag, const WriteDone& w);
  // Device reset: callbacks cancelled, every queue back to power-on.
  void reset();

 private:
  struct State : Queue {
    uint32_t buf_size = model::regs::kDefaultRxBufSize;
  };
  static const QueueRegs kRegs;

  void start_fetch(unsigned qp);
  void fetch_done(uint64_t a);
  void enable(unsigned qp);
  void stop(unsigned qp, model::regs::QueueErr err);
  void quiesce(unsigned qp);
  void dma_refused(unsigned qp, uint32_t len, uint64_t id, uint64_t fault_addr);
  void emit_level(unsigned qp) const;
  static uint64_t arg(unsigned qp) { return pack_arg(QueueArg{static_cast<uint8_t>(qp), Dir::Rx}); }

  // Register handlers.
  uint32_t read_head(unsigned qp) { return rxq_[qp].head; }
  uint32_t read_status(unsigned qp) { return rxq_[qp].status_word(); }
  void write_tail(unsigned qp, uint32_t v, uint32_t raw);
  void write_ctrl(unsigned qp, uint32_t v, uint32_t raw);

  NicCore& core_;
  Interrupts& irq_;
  Mac& mac_;
  std::vector<State> rxq_;
};

}  // namespace vnic::hw
