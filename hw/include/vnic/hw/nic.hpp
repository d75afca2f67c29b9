// Nic: the cycle-approximate SystemC/TLM-2.0 network interface card (BAR0 MMIO target, DMA
// initiator, MSI-X-style interrupt vectors, one Ethernet port). docs/hw.md describes it.
//
// Nic itself is thin: the PCI function (configuration space, BAR0's TLM socket, reset) composed
// of units with one reason to change each, in hw/include/vnic/hw/nic/: the register file
// (dispatching from model/'s register table), the MAC, the MSI-X table, the interrupt sources
// (with model::IrqModerator), and the TX and RX pipelines over their queues.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "vnic/hw/dma_engine.hpp"
#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic/config.hpp"
#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/interrupts.hpp"
#include "vnic/hw/nic/mac.hpp"
#include "vnic/hw/nic/msix_table.hpp"
#include "vnic/hw/nic/register_file.hpp"
#include "vnic/hw/nic/rx_pipeline.hpp"
#include "vnic/hw/nic/tx_pipeline.hpp"
#include "vnic/hw/trace.hpp"
#include "vnic/model/frame.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::hw {

class Nic : public sc_core::sc_module, public EthEndpoint {
 public:
  tlm_utils::simple_target_socket<Nic> mmio;  // BAR0 (offsets within the BAR)

  Nic(sc_core::sc_module_name name, EventQueue& q, const NicConfig& cfg);
  ~Nic() override;

  DmaEngine& dma() { return dma_; }
  void attach(EthMedium* medium, unsigned side);
  // Trace events go to `sink` (nullptr: off). A frame's id is its packet's id, taken from the
  // side band `tags` (model::PacketTags) by its first buffer's address, or (tx_id_base + a
  // sequence number) when it has none (test hosts tag nothing). RX buffers are tagged with the
  // id of the frame written into them, for the driver to take.
  void set_trace(TraceSink* sink, uint64_t tx_id_base = 0, model::PacketTags* tags = nullptr) {
    core_.trace = sink;
    core_.tx_id_base = tx_id_base;
    core_.tags = tags;
  }
  model::FramePool& frame_pool() { return pool_; }

  const NicConfig& config() const { return cfg_; }
  uint64_t stat(model::regs::Stat s) const;
  std::string name_str() const { return name(); }
  unsigned misc_vector() const { return cfg_.num_qp; }
  // PCI configuration space (model/include/vnic/model/pci.hpp), reached by the platform's
  // configuration cycles; aligned 32-bit accesses. It survives CTRL.RST.
  uint32_t cfg_read32(uint32_t offset) const;
  void cfg_write32(uint32_t offset, uint32_t value);
  uint64_t bar0() const { return bar0_; }
  // Power-on state again, as if the function had just been powered up: registers (the MSI-X
  // table included), counters, PCI command register, MSI-X control, pending work and frame ids.
  // The event queue's callbacks must be dropped by the caller (EventQueue::clear) as well; the
  // BAR assignment and the attached medium are kept. For fuzzers, which reuse one elaboration.
  void power_on_reset();
  // The most callbacks this NIC (with its DMA engine) can have scheduled on the event queue at
  // once, whatever the guest does: per TX queue a descriptor fetch, a wire end, an interrupt
  // fire and a moderation timer; per RX queue the same without the wire end; one DMA write
  // commit. docs/hw.md states it; the fuzzer asserts it after every step.
  std::size_t max_pending_events() const { return std::size_t{7} * cfg_.num_qp + 1; }
  // The most callbacks this NIC runs in a simulated microsecond in which the guest neither
  // accesses a register nor a frame arrives (docs/hw.md derives it from the slots above).
  std::size_t max_callbacks_per_us() const { return std::size_t{300} * cfg_.num_qp; }

  // EthEndpoint
  void eth_receive(model::Frame&& frame) override;
  void eth_link_changed(bool up, model::BitRate rate) override;

 private:
  static NicConfig checked(const NicConfig& cfg);
  // MMIO
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);
  // Register handlers of the function itself.
  uint32_t read_status(unsigned);
  uint32_t read_stat_lo(unsigned i);
  uint32_t read_stat_hi(unsigned i) { return stat_hi_latch_[i]; }
  void write_ctrl(unsigned, uint32_t v, uint32_t raw);

  void soft_reset(bool power_on = false);
  void on_write_done(const WriteDone& done);
  static void write_done_thunk(void* ctx, const WriteDone& done);

  NicConfig cfg_;
  model::FramePool pool_;  // before dma_: frames held by pending DMA writes return to it
  DmaEngine dma_;
  NicCore core_;
  RegisterFile regfile_;
  MsixTable msix_;
  Interrupts irq_;
  Mac mac_;
  TxPipeline tx_;
  RxPipeline rx_;

  std::array<uint32_t, model::regs::kNumStats> stat_hi_latch_{};
  uint16_t pci_command_ = 0;    // PCI command register (MSE, BME, INTx disable)
  bool powered_on_ = false;     // registers that CTRL.RST keeps are set once, at power-on
  uint64_t bar0_ = 0;           // BAR0 base as assigned by enumeration
};

}  // namespace vnic::hw
