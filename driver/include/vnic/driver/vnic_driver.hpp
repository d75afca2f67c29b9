// VnicDriver: the Linux-style driver of the vnic device (probe/remove, open/stop, hard IRQ ->
// NAPI poll, xmit and TX clean, ethtool), written against HostBus and the CPU interface only.
// docs/driver.md walks through it step by step.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <vector>

#include "vnic/driver/host_bus.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/dim.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/trace.hpp"
#include "vnic/stack/watchdog.hpp"

namespace vnic::driver {

using stack::Co;
using stack::Duration;

// How received packets reach the stack: netif_receive_skb from NAPI (what NAPI drivers do), or
// netif_rx into the per-CPU backlog (what RPS and non-NAPI paths do; bounded by netdev_max_backlog).
enum class RxHandoff : uint8_t { ReceiveSkb, NetifRx };

struct DriverConfig {
  std::string ifname = "eth0";
  uint32_t rx_ring = 1024;     // ethtool -G rx
  uint32_t tx_ring = 1024;     // ethtool -G tx
  // Interrupt moderation at open (ethtool -C), mlx5's defaults: rx 8 us / 32 frames, tx 16 us / 32.
  stack::EthtoolCoalesce coalesce{8, 32, 16, 32};
  int napi_weight = 64;        // NAPI_POLL_WEIGHT
  uint32_t rx_refill_batch = 16;  // RX descriptors returned per tail write
  uint32_t tx_stop_threshold = 1;   // stop the queue when fewer descriptors than this are free (one a packet)
  uint32_t tx_wake_threshold = 64;  // wake it when TX clean has freed this many
  Duration reset_timeout = Duration::ms(100);
  Duration tx_drain_timeout = Duration::ms(10);  // stop(): how long the TX ring may take to empty
  Duration reset_poll = Duration::us(10);  // usleep_range between STATUS reads
  RxHandoff rx_handoff = RxHandoff::ReceiveSkb;
  bool bql = true;                         // byte queue limits on the TX queue (CONFIG_BQL)
  Duration watchdog_timeo = Duration::s(5);  // TX watchdog (dev->watchdog_timeo)
};

// Driver-side counters (ethtool -S names; the device's own counters follow them in ethtool -S).
// The last eight are the stack's, read through when shown: NAPI's GRO counters and the core's
// software GSO counters for this device (bql_stops likewise).
#define VNIC_DRIVER_STATS(X)                                                                     \
  X(rx_queue_0_packets, "Packets handed to the stack.")                                          \
  X(rx_queue_0_bytes, "Bytes handed to the stack (without FCS).")                                \
  X(rx_queue_0_alloc_failed, "Packets dropped: no skb could be allocated (buffer reused).")       \
  X(rx_queue_0_errors, "Packets dropped: the device flagged them bad (rx-all) or they were runts.") \
  X(rx_queue_0_flushed, "Received packets still in the ring at close, dropped.")                 \
  X(rx_queue_0_polls, "NAPI polls.")                                                             \
  X(rx_queue_0_full_polls, "NAPI polls that used the whole budget.")                             \
  X(rx_queue_0_dim_changes, "adaptive-rx: moderation profiles net_dim chose (dim work runs).")   \
  X(tx_queue_0_packets, "Packets whose transmission the device completed.")                      \
  X(tx_queue_0_bytes, "Bytes of those packets.")                                                 \
  X(tx_queue_0_desc_errors, "Completions with an error bit: the device dropped the packet.")     \
  X(tx_queue_0_map_errors, "Packets dropped: DMA mapping failed.")                               \
  X(tx_queue_0_flushed, "Packets still in the ring at close, never sent, freed.")               \
  X(tx_queue_0_stops, "Times the queue was stopped (ring nearly full).")                         \
  X(tx_queue_0_restarts, "Times TX clean woke the queue.")                                       \
  X(tx_queue_0_busy, "start_xmit returned NETDEV_TX_BUSY (queue was full).")                     \
  X(tx_queue_0_doorbells, "TX tail writes.")                                                     \
  X(tx_queue_0_dim_changes, "adaptive-tx: moderation profiles net_dim chose (dim work runs).")   \
  X(irq_queue_0, "Hard interrupts on the queue vector.")                                         \
  X(irq_misc, "Hard interrupts on the link/error vector.")                                       \
  X(link_changes, "Link state changes seen.")                                                    \
  X(device_errors, "Error causes the device reported (ERR_CAUSE).")                              \
  X(rx_queue_0_flagged, "Packets the device flagged bad, delivered because rx-all is on.")       \
  X(tx_queue_0_bql_stops, "Times byte queue limits stopped the queue.")                          \
  X(tx_timeout, "TX watchdog timeouts (queue stopped longer than watchdog_timeo).")              \
  X(resets, "Device resets to recover (after a TX timeout or a device error).")                   \
  X(rx_queue_0_gro_packets, "GRO: packets merged into GRO skbs of two or more (napi->gro_packets).") \
  X(rx_queue_0_gro_payload_bytes, "GRO: the TCP payload bytes of those packets.")                  \
  X(rx_queue_0_gro_skbs, "GRO: skbs of two or more packets sent up the stack.")                    \
  X(rx_queue_0_gro_held, "GRO: packets held as the first of a flow's GRO skb.")                     \
  X(rx_queue_0_gro_normal, "GRO: packets sent up as they came (GRO_NORMAL; all of them with gro off).") \
  X(tx_queue_0_gso_skbs, "GSO: skbs the core cut into segments in software (validate_xmit_skb).")   \
  X(tx_queue_0_gso_segments, "GSO: the segments made of them (what the driver was handed).")       \
  X(tx_queue_0_gso_failed, "GSO: skbs dropped because they could not be cut (no memory).")

enum class DrvStat : uint8_t {
#define X(name, doc) name,
  VNIC_DRIVER_STATS(X)
#undef X
      kCount
};
inline constexpr unsigned kNumDrvStats = static_cast<unsigned>(DrvStat::kCount);

// Adaptive moderation (ethtool -C adaptive-rx/-tx): the CQ period mode of both directions. The
// device's timer starts at the first completion after an interrupt (docs/hw.md), which is what
// DIM_CQ_PERIOD_MODE_START_FROM_CQE stands for, so net_dim's CQE tables apply to RX and TX.
inline constexpr stack::DimCqPeriodMode kDimCqPeriodMode = stack::DimCqPeriodMode::StartFromCqe;

// One step of adaptive moderation as the test-only recorder sees it (VnicDriver::set_dim_trace).
struct DimTraceEntry {
  enum class Kind : uint8_t {
    Reset,   // the queue's dim was (re)initialised: zeroed, mode kDimCqPeriodMode (open, set_coalesce)
    Sample,  // the end of a completed NAPI poll fed `sample` to net_dim
    Work,    // the dim work programmed `moder` (profile `profile_ix`) and set StartMeasure
  };
  Kind kind = Kind::Sample;
  bool tx = false;             // the TX queue's dim (else RX)
  stack::DimSample sample{};   // Sample: what net_dim got
  uint8_t profile_ix = 0;      // Sample: dim.profile_ix after net_dim; Work: the one programmed
  bool scheduled = false;      // Sample: net_dim returned true (the dim work was scheduled)
  stack::DimCqModer moder{};   // Work: what went into *_USECS / *_FRAMES
};

class VnicDriver : public stack::NetDevice {
 public:
  VnicDriver(HostBus& bus, stack::Cpu& cpu, stack::Softnet& softnet, stack::SkbPool& skbs, DriverConfig cfg);
  ~VnicDriver() override;

  // pci_driver.probe / .remove (sleepable; probe returns 0 or -errno, with a log line saying why).
  Co<int> probe();
  Co<void> remove();
  bool probed() const { return probed_; }

  // net_device_ops / ethtool_ops.
  Co<int> open() override;
  Co<int> stop() override;
  stack::NetdevTx start_xmit(stack::SkBuff* skb, bool xmit_more) override;
  stack::LinkStats64 get_stats64() const override;
  stack::EthtoolDrvinfo get_drvinfo() const override;
  stack::EthtoolCoalesce get_coalesce() const override { return cfg_.coalesce; }
  Co<int> set_coalesce(stack::EthtoolCoalesce c) override;
  stack::EthtoolRingparam get_ringparam() const override;
  stack::EthtoolLinkSettings get_link_ksettings() const override;
  std::vector<stack::EthtoolStat> get_ethtool_stats() const override;
  void set_rx_mode() override;
  void tx_timeout(Duration stalled) override;
  bool tx_pending() const override { return up && (tx_ntu_ != tx_ntc_ || netif_xmit_stopped()); }
  // ethtool -G (while up: quiesce, reallocate, restart), ndo_set_mac_address, ndo_change_mtu,
  // ethtool -K rx-fcs / rx-all. 0 or -errno.
  Co<int> set_ringparam(uint32_t rx, uint32_t tx);
  Co<int> set_mac_address(model::MacAddr a);
  Co<int> change_mtu(uint32_t new_mtu);
  Co<int> set_features(bool rx_fcs, bool rx_all);
  // BQL state (/sys/class/net/<if>/queues/tx-0/byte_queue_limits/).
  unsigned bql_limit() const { return dql.limit; }
  unsigned bql_inflight() const { return dql.inflight(); }
  uint64_t watchdog_timeouts() const { return watchdog_.timeouts(); }
  // Adaptive moderation: each queue's net_dim state (profile_ix, tune state, ...).
  const stack::Dim& rx_dim() const { return rx_dim_; }
  const stack::Dim& tx_dim() const { return tx_dim_; }
  // Test-only: appends every dim reset, every sample the NAPI poll feeds net_dim and every run of
  // the dim work to `*t`, in order (nullptr: off; only the adaptive path looks at it).
  void set_dim_trace(std::vector<DimTraceEntry>* t) { dim_trace_ = t; }
  // The driver's steps (xmit, DMA map, TX clean, NAPI, RX poll, skb, eth_type_trans), timeouts
  // and resets go to `sink` (nullptr: off). With `tags`, TX buffers are tagged with their
  // packet's id for the NIC and RX buffers' tags are taken (model::PacketTags).
  void set_trace(stack::TraceSink* sink, const char* source, model::PacketTags* tags = nullptr) {
    trace_ = sink;
    trace_source_ = source;
    tags_ = tags;
  }
  // Reads the device's counters (two MMIO reads each; they survive the device's soft resets)
  // into the copy ethtool -S shows.
  Co<void> update_hw_stats();

  // A driver counter as ethtool -S shows it (the stack's GRO / GSO / BQL counts read through).
  uint64_t stat(DrvStat s) const;
  uint64_t hw_stat(unsigned i) const { return hw_stats_[i]; }
  const std::vector<std::string>& log() const { return log_; }
  const DriverConfig& config() const { return cfg_; }
  stack::Napi& napi() { return napi_; }
  // Descriptors the TX ring holds that the device has not completed (or that are not cleaned).
  uint32_t tx_in_flight() const { return tx_ntu_ - tx_ntc_; }
  unsigned irq_vectors() const { return nvec_; }
  // Bus address of RX buffer i (as debugfs would show it; tests use it to break a mapping).
  uint64_t rx_buffer_dma(uint32_t i) const { return i < rx_slots_.size() ? rx_slots_[i].dma : 0; }

  // co_await mmio_read(off): a non-posted read; the CPU stalls for the round trip.
  struct MmioRead {
    VnicDriver& d;
    uint32_t off;
    uint32_t value = 0;
    std::coroutine_handle<> h{};
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> hh);
    uint32_t await_resume() const noexcept { return value; }
    static void sample(void* ctx, uint64_t);
  };
  MmioRead mmio_read(uint32_t off) { return MmioRead{*this, off}; }

 private:
  struct TxSlot {
    stack::SkBuff* skb = nullptr;
    uint64_t dma = 0;
    uint32_t len = 0;
  };
  struct RxSlot {
    uint64_t addr = 0;  // buffer (host address)
    uint64_t dma = 0;   // its mapping
  };

  void bump(DrvStat s, uint64_t n = 1) { stats_[static_cast<unsigned>(s)] += n; }
  void logf(std::string line);
  void wr(uint32_t off, uint32_t v) { bus_.mmio_write32(off, v); }
  Co<int> reset_and_wait();
  // The bodies of open() and stop(), called with rtnl_ held.
  Co<int> do_open();
  Co<int> do_stop();
  int alloc_rings();
  void free_rings();
  void write_coalesce();
  void write_rx_moder(uint32_t usecs, uint32_t frames);
  void write_tx_moder(uint32_t usecs, uint32_t frames);
  // Adaptive moderation (mlx5e_handle_rx_dim / _tx_dim and the dim work, en_dim.c).
  void reset_dims();            // cancel the dim work; both dims zeroed, mode kDimCqPeriodMode
  void cancel_dim_work();       // cancel_work_sync
  void net_dim_samples();       // the end of a completed poll: one sample per adaptive queue
  void feed_dim(bool tx, const stack::DimSample& s);
  static void rx_dim_work(void* ctx, uint64_t);
  static void tx_dim_work(void* ctx, uint64_t);
  void dim_work(bool tx);
  void program_device();
  uint32_t rx_buf_size() const;

  // Hot path.
  static void queue_irq(void* ctx, unsigned vector);
  static void misc_irq(void* ctx, unsigned vector);
  static int napi_poll(stack::Napi* n, int budget);
  void clean_tx();
  int clean_rx(int budget);
  void refill_rx(uint32_t n, bool doorbell);
  void write_rx_desc(uint32_t i);
  uint32_t tx_free() const { return cfg_.tx_ring - 1 - (tx_ntu_ - tx_ntc_); }

  // The link/error vector's deferred work (reads the device, so it runs as a sleepable task).
  static void misc_work_thunk(void* ctx, uint64_t);
  Co<void> misc_work();
  Co<void> misc_work_once();
  // Recovery: down/up of a running interface, from a work item (one at a time).
  void schedule_reset(const char* why);
  static void reset_work_thunk(void* ctx, uint64_t);
  Co<void> reset_work();
  uint64_t jiffies_now() const { return stack::jiffies(cpu_.now()); }

  HostBus& bus_;
  stack::Cpu& cpu_;
  stack::Softnet& sd_;
  stack::SkbPool& skbs_;
  DriverConfig cfg_;
  // Serialises configuration paths (probe/remove, open/stop, ethtool, MTU, recovery), as the
  // kernel's rtnl_lock does: a reset from the watchdog never interleaves with an ethtool -G.
  stack::AsyncMutex rtnl_;

  bool probed_ = false;
  unsigned nvec_ = 0;
  unsigned num_qp_ = 0;
  model::MacAddr perm_addr_{};
  uint32_t status_ = 0;  // last STATUS read (link, speed)

  uint64_t tx_ring_ = 0, rx_ring_ = 0;  // coherent rings
  std::vector<TxSlot> tx_slots_;
  std::vector<RxSlot> rx_slots_;
  uint32_t tx_ntu_ = 0, tx_ntc_ = 0;  // free-running: next to use / next to clean
  uint32_t rx_ntc_ = 0;               // next to clean (free-running)
  uint32_t rx_tail_ = 0;              // descriptors handed to the device (free-running)
  uint32_t rx_to_refill_ = 0;
  bool misc_work_pending_ = false;
  bool misc_work_again_ = false;
  uint32_t tail_written_ = 0;  // tx_ntu_ at the last doorbell
  bool stopping_ = false;      // stop() has begun: a finishing poll must not unmask
  bool reset_pending_ = false;
  stack::TxWatchdog watchdog_;
  stack::Dim rx_dim_, tx_dim_;
  uint64_t rx_dim_work_ = 0, tx_dim_work_ = 0;  // the scheduled dim work (call_at handle; 0: none)
  bool dim_on_ = false;  // adaptive-rx or adaptive-tx: the one test the poll pays when both are off
  std::vector<DimTraceEntry>* dim_trace_ = nullptr;
  stack::TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
  model::PacketTags* tags_ = nullptr;
  void emit(stack::TraceKind k, uint32_t a, uint64_t b, uint64_t packet = 0, model::Step step = model::kNoStep) {
    if (trace_ == nullptr) [[likely]] return;
    const uint64_t t = static_cast<uint64_t>(cpu_.now().ps());
    trace_->trace(trace_source_, stack::TraceEvent{t, t, k, step.none() ? model::default_step(k) : step,
                                                   static_cast<uint16_t>(cpu_.id()), a, b, packet});
  }

  stack::Napi napi_;
  std::vector<uint64_t> stats_ = std::vector<uint64_t>(kNumDrvStats, 0);
  std::vector<uint64_t> hw_stats_;
  std::vector<std::string> log_;
  // Last: its suspended tasks (reset, link/error work) are destroyed first, while the lock and
  // the rest of the driver they use still exist.
  stack::TaskScope tasks_;
};

}  // namespace vnic::driver
