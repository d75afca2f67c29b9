// TestHost: a test-only host that programs a Nic's registers directly (no driver, no CPU cost),
// keeps its rings, sends pattern traffic and checks what arrives. The real driver model is
// in driver/; this host exists to test the device on its own.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <vector>

#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/pci_enum.hpp"
#include "vnic/tb/peer_bus.hpp"
#include "vnic/tb/root_complex.hpp"
#include "vnic/tb/traffic.hpp"

namespace vnic::tb {

struct Coalesce {
  uint32_t rx_usecs = 0, rx_frames = 1, tx_usecs = 0, tx_frames = 1;
  bool adaptive_rx = false, adaptive_tx = false;  // ethtool -C adaptive-rx/-tx (driver hosts only)
  // The device's moderation rule per direction (RX_USECS.MODE / TX_USECS.MODE: 0 first-completion
  // timer, 1 minimum interval, 2 packet timer) and the packet timer's bound (*_ABS_USECS).
  uint32_t rx_mode = 0, rx_abs_usecs = 0, tx_mode = 0, tx_abs_usecs = 0;
};

struct TestHostConfig {
  uint32_t tx_ring = 1024;
  uint32_t rx_ring = 1024;
  uint32_t rx_buf = 2048;
  Coalesce coalesce{};
  bool refill_rx = true;          // false: never give RX buffers back (tests rx_missed_errors)
  uint32_t rx_ctrl = model::regs::rx_ctrl::kBcast.mask();  // RX_CTRL (BCAST)
  // Transmit: `count` frames of `pattern`; interval 0 keeps the TX ring full, otherwise one
  // frame every `interval` starting at `start`.
  TrafficPattern pattern{};
  uint64_t count = 0;
  model::Duration interval{};
  model::Duration start = model::Duration::us(1);
};

// Bytes of each TX buffer: room for the largest frame of the pattern.
inline uint32_t tx_buf_size(const TestHostConfig& c) { return c.pattern.max_len > 2048 ? c.pattern.max_len : 2048; }

struct TestHostStats {
  uint64_t tx_posted = 0, tx_completed = 0, tx_ring_full = 0, tx_desc_errors = 0;
  uint64_t rx_frames = 0, rx_ok = 0, rx_bad_bytes = 0, rx_out_of_order = 0, rx_gap_frames = 0, rx_err_flagged = 0;
  uint64_t irqs = 0, mmio_writes = 0, mmio_reads = 0, mmio_errors = 0;
  uint64_t next_rx_seq = 0;
  std::vector<uint64_t> irqs_per_vector;
};

class TestHost : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<TestHost> mmio;

  TestHost(sc_core::sc_module_name name, hw::EventQueue& q, HostMemory& mem, const TestHostConfig& cfg);

  // Where the platform places BAR0 in the host's MMIO space.
  static constexpr uint64_t kBar0Base = 0xF000'0000;
  // Enumerates the function (BAR0, memory decoding, bus mastering), binds its MMIO and its DMA
  // (through this host's root complex to its memory), and sets up MSI-X: vector v sends data v
  // to the MSI window, every vector unmasked, MSI-X enabled.
  // With `via`, both the CPU's MMIO and the device's DMA go through that interconnect (which
  // may forward DMA peer-to-peer to the BAR).
  void connect(hw::Nic& nic, PeerBus* via = nullptr);
  RootComplex& root_complex() { return rc_; }
  const PciFunction& pci() const { return pci_; }
  void bring_up();
  // The peer's receive pattern (what this host expects to receive).
  void expect(const TrafficPattern& p) { rx_expect_.set(p); }
  // One more sender whose frames to `me` this host takes (a station on a switch).
  void expect_also(const TrafficPattern& p, const model::MacAddr& me) { rx_expect_.add(p, me); }

  uint32_t read32(uint32_t off);
  void write32(uint32_t off, uint32_t v);
  // Raw MMIO with a chosen length (bad-input tests); returns the TLM response.
  tlm::tlm_response_status raw_access(bool write, uint64_t off, uint8_t* data, unsigned len);

  const TestHostStats& stats() const { return stats_; }
  const TestHostConfig& config() const { return cfg_; }
  bool done_sending() const { return sent_ >= cfg_.count; }
  uint64_t tx_ring_addr() const { return tx_ring_; }
  uint64_t rx_ring_addr() const { return rx_ring_; }
  HostMemory& memory() { return mem_; }
  // Service rings now (as an interrupt would).
  void service();

  // An interrupt message for `vector` has landed (called by the root complex).
  void nic_irq(unsigned vector);

 private:
  void service_event(uint64_t);
  void pace_event(uint64_t);
  void post_tx(uint32_t max_frames);
  void clean_tx();
  void poll_rx();

  hw::EventQueue& q_;
  HostMemory& mem_;
  TestHostConfig cfg_;
  static void on_msi(void* ctx, uint64_t addr, uint32_t data);

  RootComplex rc_{"rc"};
  hw::Nic* nic_ = nullptr;
  PciFunction pci_{};
  RxExpect rx_expect_{};
  uint64_t tx_ring_ = 0, rx_ring_ = 0;
  std::vector<uint64_t> tx_bufs_, rx_bufs_;
  uint32_t tx_tail_ = 0, tx_clean_ = 0;
  uint32_t rx_next_ = 0, rx_tail_ = 0;
  uint64_t sent_ = 0;
  bool service_scheduled_ = false;
  TestHostStats stats_;
};

}  // namespace vnic::tb
