// TxPipeline: the transmit queues. Doorbell -> descriptor fetch into the on-chip FIFO -> chain
// assembly (a frame is the descriptors up to EOP; malformed chains are dropped whole) -> data
// fetch into the TX packet buffer -> the MAC (pad, FCS) -> the wire, one frame at a time ->
// write-back of the EOP descriptor with DD when RS asks for it -> the queue's TX interrupt
// source. docs/hw.md, "TX path".
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/interrupts.hpp"
#include "vnic/hw/nic/mac.hpp"
#include "vnic/hw/nic/queue.hpp"
#include "vnic/hw/nic/register_file.hpp"
#include "vnic/model/descriptor.hpp"

namespace vnic::hw {

class TxPipeline {
 public:
  TxPipeline(NicCore& core, RegisterFile& rf, Interrupts& irq, Mac& mac);

  void kick(unsigned qp);
  void kick_all() {
    for (unsigned qp = 0; qp < txq_.size(); ++qp) kick(qp);
  }
  // A TX descriptor write-back ended.
  void write_done(const WriteTag& tag, const WriteDone& w);
  // Device reset: frames in the buffer dropped (tx_dropped_disabled), callbacks cancelled, every
  // queue back to power-on.
  void reset();
  void power_on() { seq_ = 0; }

 private:
  struct ChainDesc {
    uint32_t index;
    model::TxDesc d;
  };
  struct Inflight {
    model::Frame frame;       // padded, with FCS; empty for a dropped (malformed) frame
    uint32_t first_desc = 0;
    uint32_t ndesc = 0;
    model::TxDesc last{};     // the EOP descriptor, written back with DD
    uint32_t last_index = 0;
    uint32_t buffer_bytes = 0;  // TX buffer space held
    uint8_t wb_errors = 0;      // non-zero: a dropped frame, written back with these error bits
    bool scheduled = false;     // wire times are set and its wire-end callback is pending
    bool revoked = false;       // its queue was disabled while it was on the wire: no completion
    uint64_t ready_ps = 0;      // data fetched and through the MAC pipeline
    Mac::WireSlot wire{};       // its time on the wire (start_ps only for a dropped frame)
    uint64_t frame_id = 0;      // kept for the trace after the frame has gone to the medium
  };
  // A malformed chain being dropped: its descriptors are consumed up to and including its EOP.
  struct Discard {
    bool active = false;
    uint32_t first = 0;
    uint32_t ndesc = 0;
    ChainDesc last{};
  };
  struct State : Queue {
    std::vector<ChainDesc> chain;  // descriptors of the frame being assembled
    Discard discard;
    std::deque<Inflight> to_wire;  // data fetched; the head is on (or next onto) the wire
    uint64_t wire_ev = NicCore::kNoEvent;  // the wire-end callback of to_wire.front()
    uint32_t buffer_used = 0;
    uint64_t last_end_ps = 0;  // completions stay in ring order
  };
  static const QueueRegs kRegs;

  void start_fetch(unsigned qp);
  void fetch_done(uint64_t a);
  void assemble(unsigned qp);
  bool launch(unsigned qp);
  void launch_malformed(unsigned qp, uint32_t first, uint32_t ndesc, const ChainDesc& last);
  void push(unsigned qp, Inflight&& e);
  void schedule_wire(unsigned qp);
  void wire_end(uint64_t a);
  void complete(unsigned qp, Inflight& e);
  void enable(unsigned qp);
  void stop(unsigned qp, model::regs::QueueErr err);
  void quiesce(unsigned qp);
  void dma_error(unsigned qp, model::regs::Stat s, uint64_t fault_addr);
  void emit_level(unsigned qp) const;
  static uint64_t arg(unsigned qp) { return pack_arg(QueueArg{static_cast<uint8_t>(qp), Dir::Tx}); }

  // Register handlers.
  uint32_t read_head(unsigned qp) { return txq_[qp].head; }
  uint32_t read_status(unsigned qp) { return txq_[qp].status_word(); }
  void write_tail(unsigned qp, uint32_t v, uint32_t raw);
  void write_ctrl(unsigned qp, uint32_t v, uint32_t raw);

  NicCore& core_;
  Interrupts& irq_;
  Mac& mac_;
  std::vector<State> txq_;
  std::vector<Inflight> done_scratch_;  // frames completing together in one wire_end
  uint64_t seq_ = 0;                    // frames launched (their ids, with the trace's id base)
};

}  // namespace vnic::hw
