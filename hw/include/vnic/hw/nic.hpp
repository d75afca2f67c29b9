// Nic: the cycle-approximate SystemC/TLM-2.0 network interface card (BAR0 MMIO target, DMA
// initiator, MSI-X-style interrupt vectors, one Ethernet port). docs/hw.md describes it.
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
#include "vnic/hw/trace.hpp"
#include "vnic/model/desc_cache.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/frame.hpp"
#include "vnic/model/host_ring.hpp"
#include "vnic/model/mac_addr.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::hw {

// Cost of each pipeline stage in core-clock cycles (docs/hw.md has the table).
struct StageCycles {
  uint32_t mmio = 4;          // register decode and access
  uint32_t doorbell = 2;      // tail write to descriptor-fetch request
  uint32_t desc_fetch = 4;    // per fetch: request build
  uint32_t desc_decode = 1;   // per descriptor: decode and push to the FIFO
  uint32_t tx_frame = 8;      // per TX frame: FIFO pop, chain check, data-fetch requests
  uint32_t tx_mac = 6;        // data ready -> first preamble bit (pad, FCS pipeline fill)
  uint32_t rx_mac = 6;        // last bit in -> FCS/length/filter verdict
  uint32_t rx_dma = 4;        // verdict -> data write request
  uint32_t writeback = 2;     // completion -> write-back request
  uint32_t irq = 2;           // moderation verdict -> MSI-X message
};

struct NicConfig {
  model::MacAddr perm_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  unsigned num_qp = 1;
  uint32_t core_mhz = 250;
  StageCycles cycles{};
  PcieConfig pcie{};
  uint32_t desc_cache_depth = 64;  // on-chip descriptor FIFO per queue (power of two)
  uint32_t fetch_batch = 16;       // descriptors per fetch at most (256 B, half an MRRS)
  uint32_t tx_buffer_bytes = 32768;  // on-chip TX packet buffer (frames fetched, not yet sent)
  uint32_t max_tx_desc_per_frame = 16;
  model::DescCacheFactory desc_cache_factory = &model::make_model_desc_cache;
  // A soft reset (CTRL.RST) takes this long: STATUS.RESET_DONE reads 0 and register writes are
  // ignored (counted in mmio_in_reset) until it is over. Power-on reset is instant.
  uint32_t reset_ns = 10'000;
  bool reset_hangs = false;  // fault injection: a soft reset never completes
};

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
    trace_ = sink;
    tx_id_base_ = tx_id_base;
    tags_ = tags;
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
  static constexpr uint64_t kNoEvent = EventQueue::kNone;
  static constexpr uint64_t kNever = UINT64_MAX;

  // One interrupt moderator (a queue's RX or TX side). At most one fire and one timer callback
  // are ever scheduled: the timer is lazy (a deadline; the callback moves itself on to a later
  // deadline and is only cancelled when the deadline must come earlier).
  struct Moderator {
    uint32_t usecs = 0;
    uint32_t frames = 0;
    uint32_t pending = 0;          // completions since the last interrupt
    uint64_t deadline = kNever;    // the armed timer's expiry (kNever: not armed)
    uint64_t timer_ev = kNoEvent;  // the scheduled timer callback, and its time
    uint64_t timer_ev_ps = kNever;
    uint64_t fire_ev = kNoEvent;   // the scheduled fire callback
    bool fire_pending = false;     // fired while the vector was masked
  };
  struct TxChainDesc {
    uint32_t index;
    model::TxDesc d;
  };
  struct TxInflight {
    model::Frame frame;       // padded, with FCS; empty for a dropped (malformed) frame
    uint32_t first_desc = 0;
    uint32_t ndesc = 0;
    model::TxDesc last{};     // the EOP descriptor, written back with DD
    uint32_t last_index = 0;
    uint32_t buffer_bytes = 0;  // TX buffer space held
    uint8_t wb_errors = 0;      // non-zero: a dropped frame, written back with these error bits
    bool scheduled = false;     // start_ps/end_ps are set and its wire-end callback is pending
    bool revoked = false;       // its queue was disabled while it was on the wire: no completion
    uint64_t ready_ps = 0;      // data fetched and through the MAC pipeline
    uint64_t start_ps = 0;      // first preamble bit on the wire
    uint64_t mac_free_before = 0;  // the MAC's free time before this frame took it, and after
    uint64_t mac_free_set = 0;
    uint64_t frame_id = 0;      // kept for the trace after the frame has gone to the medium
  };
  struct Queue {
    uint64_t base = 0;
    model::RingIndex ring;
    uint32_t head = 0;     // next descriptor to complete (visible in *_HEAD)
    uint32_t tail = 0;     // doorbell
    uint32_t fetch = 0;    // next descriptor to fetch
    bool running = false;
    uint64_t fetch_ev = kNoEvent;  // the descriptor fetch in flight (its completion callback)
    model::regs::QueueErr err = model::regs::QueueErr::None;
    std::unique_ptr<model::DescCache> cache;
    std::vector<uint8_t> fetch_buf;  // bytes of the fetch in flight
    uint32_t fetch_count = 0;
    uint32_t fetch_first = 0;
    Moderator mod;
  };
  // A malformed chain being dropped: its descriptors are consumed up to and including its EOP.
  struct TxDiscard {
    bool active = false;
    uint32_t first = 0;
    uint32_t ndesc = 0;
    TxChainDesc last{};
  };
  struct TxState : Queue {
    std::vector<TxChainDesc> chain;  // descriptors of the frame being assembled
    TxDiscard discard;
    std::deque<TxInflight> to_wire;  // data fetched; the head is on (or next onto) the wire
    uint64_t wire_ev = kNoEvent;     // the wire-end callback of to_wire.front()
    uint32_t buffer_used = 0;
    uint64_t last_end_ps = 0;  // completions stay in ring order
  };
  struct RxState : Queue {
    uint32_t buf_size = model::regs::kDefaultRxBufSize;
  };

  // What a posted write is for: packed into the DMA engine's 64-bit tag, and back.
  enum class WriteKind : uint8_t { RxData = 1, RxDesc = 2, TxDesc = 3, Msi = 4 };
  struct WriteTag {
    WriteKind kind{};
    uint8_t qp = 0;       // queue pair, or vector for Msi
    uint16_t len = 0;     // RxDesc: bytes delivered
    uint8_t flags = 0;    // RxDesc: kFlagBcast / kFlagMcast
    static constexpr uint8_t kFlagBcast = 1, kFlagMcast = 2;
    uint64_t pack() const {
      return uint64_t{static_cast<uint8_t>(kind)} | uint64_t{qp} << 8 | uint64_t{len} << 16 | uint64_t{flags} << 32;
    }
    static WriteTag unpack(uint64_t t) {
      return WriteTag{static_cast<WriteKind>(t & 0xFF), static_cast<uint8_t>(t >> 8), static_cast<uint16_t>(t >> 16),
                      static_cast<uint8_t>(t >> 32)};
    }
    bool is_tx() const { return kind == WriteKind::TxDesc; }
  };
  // Event argument of a per-queue callback: queue pair and direction.
  static uint64_t qarg(unsigned qp, bool tx) { return uint64_t{qp} | (tx ? 0x100u : 0u); }
  static unsigned arg_qp(uint64_t a) { return static_cast<unsigned>(a & 0xFF); }
  static bool arg_tx(uint64_t a) { return (a & 0x100u) != 0; }

  // MMIO
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);
  uint32_t read_reg(const model::regs::Hit& h);
  void write_reg(const model::regs::Hit& h, uint32_t v);
  uint32_t& word(const model::regs::Reg& r, unsigned i) { return regs_[r.offset_of(i) / 4]; }
  uint32_t word(const model::regs::Reg& r, unsigned i) const { return regs_[r.offset_of(i) / 4]; }

  // Lifecycle
  void soft_reset(bool power_on = false);
  bool in_reset() const { return now_ps() < reset_done_ps_; }
  void enable_queue(bool tx, unsigned qp);
  void stop_queue(bool tx, unsigned qp, model::regs::QueueErr err);
  // Revokes every piece of a queue's work in flight: its descriptor fetch, fetched descriptors,
  // frames not yet on the wire, and posted writes not yet landed (queue disable or reset).
  void quiesce_queue(bool tx, unsigned qp);
  void cancel(uint64_t& ev) {
    if (ev != kNoEvent) q_.cancel(ev);
    ev = kNoEvent;
  }
  void latch_error(uint32_t cause_bit, uint64_t addr, bool has_addr);
  bool device_enabled() const;

  // TX pipeline
  void tx_kick(unsigned qp);
  void tx_fetch_done(uint64_t arg);
  void tx_assemble(unsigned qp);
  bool tx_launch(unsigned qp);
  void tx_launch_malformed(unsigned qp, uint32_t first, uint32_t ndesc, const TxChainDesc& last);
  void tx_push(unsigned qp, TxInflight&& e);
  void tx_complete(unsigned qp, TxInflight& e);
  void schedule_wire(unsigned qp);
  void tx_wire_end(uint64_t arg);

  // RX pipeline
  void rx_kick(unsigned qp);
  void rx_fetch_done(uint64_t arg);
  bool rx_filter(const model::Frame& f) const;

  // Shared
  void start_fetch(bool tx, unsigned qp);
  void on_write_done(const WriteDone& done);
  static void write_done_thunk(void* ctx, const WriteDone& done);

  // Interrupts
  void mod_complete(unsigned qp, bool tx, uint32_t n, uint64_t at_ps);
  void mod_arm_timer(unsigned qp, bool tx, uint64_t deadline);
  void mod_fire_event(uint64_t arg);
  void mod_timer_event(uint64_t arg);
  void mod_fire(unsigned qp, bool tx);
  void raise_vector(unsigned vec, uint32_t icr_bits);
  void raise_misc(uint32_t icr_bits);
  void send_msi(unsigned vec);
  void msix_release_pending();
  void unmask(uint32_t vec_bits);

  uint64_t now_ps() const { return q_.now_ps(); }
  void emit(TraceKind k, unsigned lane, uint64_t t, uint64_t t_end, uint32_t a, uint64_t b, uint64_t packet,
            model::Step step) {
    if (trace_ == nullptr) [[likely]] return;
    trace_->trace(name(), TraceEvent{t, t_end, k, step, static_cast<uint16_t>(lane), a, b, packet});
  }
  void emit(TraceKind k, unsigned lane, uint64_t t, uint64_t t_end, uint32_t a, uint64_t b, uint64_t packet) {
    emit(k, lane, t, t_end, a, b, packet, model::default_step(k));
  }
  // Descriptors the device owns (ring level counter track), when tracing.
  void emit_level(bool tx, unsigned qp);
  // The rate frames are timed at: the link's, or 10 Gb/s before any link was seen.
  model::BitRate tx_rate() const { return link_rate_.bps() ? link_rate_ : model::BitRate::gbps(10); }
  uint64_t cycles_ps(uint32_t n) const { return uint64_t{n} * cycle_ps_; }
  void bump(model::regs::Stat s, uint64_t n = 1) { stats_[static_cast<unsigned>(s)] += n; }

  EventQueue& q_;
  NicConfig cfg_;
  uint64_t cycle_ps_;
  model::FramePool pool_;  // before dma_: frames held by pending DMA writes return to it
  DmaEngine dma_;
  EthMedium* medium_ = nullptr;
  unsigned side_ = 0;
  bool link_up_ = false;
  model::BitRate link_rate_{};

  std::vector<uint32_t> regs_;  // raw register words, indexed by offset / 4
  std::array<uint64_t, model::regs::kNumStats> stats_{};
  std::array<uint32_t, model::regs::kNumStats> stat_hi_latch_{};
  std::vector<TxState> txq_;
  std::vector<RxState> rxq_;
  uint64_t mac_free_ps_ = 0;    // the TX wire is busy until (incl. IFG)
  bool err_addr_latched_ = false;
  bool misc_pending_ = false;   // a link/error interrupt held back by the mask
  uint16_t pci_command_ = 0;    // PCI command register (MSE, BME, INTx disable)
  uint32_t msix_control_ = 0;   // MSI-X capability: Enable and Function Mask bits
  TraceSink* trace_ = nullptr;
  uint64_t tx_id_base_ = 0;
  model::PacketTags* tags_ = nullptr;
  std::vector<TxInflight> done_scratch_;  // frames completing together in one tx_wire_end
  uint64_t tx_seq_ = 0;         // frames launched (their ids, with tx_id_base_)
  bool powered_on_ = false;     // registers that CTRL.RST keeps are set once, at power-on
  uint64_t bar0_ = 0;           // BAR0 base as assigned by enumeration
  uint64_t reset_done_ps_ = 0;  // a soft reset is in progress until then
};

}  // namespace vnic::hw
