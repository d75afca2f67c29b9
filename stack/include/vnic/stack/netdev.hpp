// net_device and napi_struct as the stack sees a driver: transmit entry, TX queue state,
// statistics, and the ethtool operations; NAPI contexts the softnet loop polls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vnic/model/mac_addr.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/dql.hpp"
#include "vnic/stack/sched.hpp"
#include "vnic/stack/skb.hpp"

namespace vnic::stack {

class Softnet;

// napi_struct. The owner's poll(napi, budget) returns the work done (<= budget); when it did less
// than the budget it calls Softnet::napi_complete_done() and may re-enable its interrupt.
struct Napi {
  using PollFn = int (*)(Napi* n, int budget);
  PollFn poll = nullptr;
  void* owner = nullptr;
  int weight = 64;          // NAPI_POLL_WEIGHT, the driver's own
  // State bits (NAPI_STATE_*).
  bool sched = false;       // on a poll list or being polled
  bool missed = false;      // scheduled again while being polled
  bool disable = false;     // napi_disable() pending
  bool on_list = false;
  Napi* next = nullptr;     // poll list link
  Softnet* softnet = nullptr;
  // Statistics.
  uint64_t polls = 0, work = 0, full_polls = 0;
  // GRO (stack/src/core/gro.cpp): the skbs held for their flows (gro_list, MAX_GRO_SKBS), oldest
  // first, and the skbs on their way up (napi->rx_list, gro_normal_batch segments at a time).
  static constexpr unsigned kMaxGroSkbs = 8;
  struct GroHeld {
    SkBuff* skb = nullptr;
    uint32_t saddr = 0, daddr = 0, ports = 0;  // the flow (sport << 16 | dport)
    uint32_t next_seq = 0;                     // the sequence number a segment must bring to join
    bool is_atomic = false;                    // DF and, so far, a fixed IP id (NAPI_GRO_CB is_atomic)
  };
  GroHeld gro[kMaxGroSkbs]{};
  unsigned gro_count = 0;
  SkBuff* rx_list_head = nullptr;
  SkBuff* rx_list_tail = nullptr;
  uint32_t rx_count = 0;
  // What GRO did (the model's own counters; the driver shows them in ethtool -S as
  // rx_queue_0_gro_*, docs/driver.md).
  uint64_t gro_packets = 0;  // segments that went into a GRO skb of two or more
  uint64_t gro_bytes = 0;    // their payload bytes
  uint64_t gro_skbs = 0;     // GRO skbs of two or more segments sent up
  uint64_t gro_held = 0;     // segments held as the first of a flow's GRO skb
  uint64_t gro_normal = 0;   // skbs that went up as they came (not TCP/IPv4, flags, a flush)
};

// NETDEV_TX_OK / NETDEV_TX_BUSY.
enum class NetdevTx : uint8_t { Ok, Busy };

// rtnl_link_stats64 (the fields this model fills).
struct LinkStats64 {
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0, multicast = 0;
  uint64_t rx_length_errors = 0, rx_crc_errors = 0, rx_missed_errors = 0, rx_fifo_errors = 0;
  uint64_t tx_aborted_errors = 0, tx_carrier_errors = 0;
};

// struct ethtool_coalesce (the fields a moderation-capable NIC supports). The adaptive flags are
// `ethtool -C adaptive-rx/adaptive-tx`: net_dim picks the moderation (docs/driver.md).
struct EthtoolCoalesce {
  uint32_t rx_coalesce_usecs = 0, rx_max_coalesced_frames = 1;
  uint32_t tx_coalesce_usecs = 0, tx_max_coalesced_frames = 1;
  bool use_adaptive_rx_coalesce = false, use_adaptive_tx_coalesce = false;
};
struct EthtoolRingparam {
  uint32_t rx_max_pending = 0, tx_max_pending = 0, rx_pending = 0, tx_pending = 0;
};
struct EthtoolLinkSettings {
  uint32_t speed_mbps = 0;  // SPEED_UNKNOWN is reported as 0 here
  bool full_duplex = true;
  bool autoneg = false;
  bool link = false;
  std::string port = "FIBRE";
};
struct EthtoolDrvinfo {
  std::string driver, version, bus_info;
  uint32_t n_stats = 0;
};
using EthtoolStat = std::pair<std::string, uint64_t>;

// Errors returned as negative errno values, as the kernel does.
inline constexpr int kEINVAL = 22, kENOMEM = 12, kEBUSY = 16, kENODEV = 19, kETIMEDOUT = 110, kEIO = 5,
                     kEOPNOTSUPP = 95, kEADDRNOTAVAIL = 99;

class NetDevice {
 public:
  virtual ~NetDevice() = default;

  std::string name = "eth0";
  model::MacAddr dev_addr{};
  uint32_t mtu = 1500;
  static constexpr uint32_t kMinMtu = 68, kMaxMtu = 9000;
  bool up = false;          // IFF_UP: open succeeded
  // IFF_LOOPBACK (only lo, stack/include/vnic/stack/loopback.hpp): ARP's constructor gives its
  // neighbours NUD_NOARP, an address on it makes a local prefix route, iproute2 prints it as such.
  bool loopback = false;
  bool carrier = false;     // netif_carrier_on/off
  // NETIF_F_GSO and NETIF_F_GRO (napi_gro_receive merges), `ethtool -K ethN gso|gro on|off`.
  // TCP builds GSO skbs whatever gso says (6.1's sk_setup_caps gives every TCP socket GSO), up to
  // gso_max_size and gso_max_segs; the device, which has no TSO, cuts them in software.
  bool gso = true;
  bool gro = true;
  uint32_t gso_max_size = 65536;  // GSO_LEGACY_MAX_SIZE
  uint16_t gso_max_segs = 65535;  // GSO_MAX_SEGS
  // rx-mode (IFF_PROMISC, IFF_ALLMULTI, the multicast list) and features (NETIF_F_RXFCS,
  // NETIF_F_RXALL); set them, then call set_rx_mode() / set_features().
  bool promisc = false;
  bool allmulti = false;
  std::vector<model::MacAddr> mc_list;
  bool feat_rx_fcs = false;
  bool feat_rx_all = false;
  // Drops the core counted against this device (dev->core_stats rx_dropped), in ip -s link.
  uint64_t rx_dropped_core = 0;
  uint64_t rx_nohandler_core = 0;         // dev->core_stats rx_nohandler (exact delivery only; 0 here)
  uint64_t rx_otherhost_dropped_core = 0; // dev->core_stats rx_otherhost_dropped: ip_rcv's PACKET_OTHERHOST
  uint64_t tx_dropped_core = 0;  // dev->core_stats tx_dropped (a packet dev_queue_xmit could not send)
  // The model's own: what validate_xmit_skb's software GSO did with this device's packets (GSO
  // skbs cut, the segments made, skbs dropped for want of memory); the driver's ethtool -S shows them.
  uint64_t gso_skbs_core = 0, gso_segments_core = 0, gso_failed_core = 0;
  // The model's own: packets the transmit core handed to ndo_start_xmit that it took
  // (NETDEV_TX_OK), beside what other senders (pktgen) hand it directly.
  uint64_t tx_from_core = 0;
  // The model's own: this device's packets the input backlog dropped (netif_rx: softnet_stat's
  // `dropped`, per device; rx_dropped_core counts them too, beside other core drops).
  uint64_t rx_backlog_dropped = 0;
  // The egress queue (dev->qdisc) and txqueuelen (dev->tx_queue_len, 1000: DEFAULT_TX_QUEUE_LEN).
  std::unique_ptr<Qdisc> qdisc;
  uint32_t tx_queue_len = 1000;
  // When the last packet was handed to the driver (txq->trans_start), for the TX watchdog.
  Instant trans_start{};
  Duration watchdog_timeo = Duration::s(5);  // dev->watchdog_timeo (5 s: the core's default)

  // ndo_open / ndo_stop: sleepable, return 0 or -errno.
  virtual Co<int> open() = 0;
  virtual Co<int> stop() = 0;
  // ndo_start_xmit. xmit_more: more packets follow at once, the doorbell may wait (netdev_xmit_more).
  virtual NetdevTx start_xmit(SkBuff* skb, bool xmit_more) = 0;
  virtual LinkStats64 get_stats64() const = 0;
  // ethtool_ops.
  virtual EthtoolDrvinfo get_drvinfo() const = 0;
  virtual EthtoolCoalesce get_coalesce() const = 0;
  virtual Co<int> set_coalesce(EthtoolCoalesce c) = 0;  // by value: a coroutine must not keep references
  virtual EthtoolRingparam get_ringparam() const = 0;
  virtual EthtoolLinkSettings get_link_ksettings() const = 0;
  // ethtool -S: names and values (get_strings + get_ethtool_stats).
  virtual std::vector<EthtoolStat> get_ethtool_stats() const = 0;
  // ndo_set_rx_mode: program promisc/allmulti/mc_list into the device (atomic context).
  virtual void set_rx_mode() {}
  // Packets handed to the device and not completed yet, or the queue stopped (the watchdog runs).
  virtual bool tx_pending() const { return netif_xmit_stopped(); }
  // ndo_tx_timeout: the watchdog saw the queue stopped for longer than watchdog_timeo.
  virtual void tx_timeout(Duration stalled) { (void)stalled; }

  // TX queue state (netdev_queue), one queue here: stopped by the driver (DRV_XOFF: ring full)
  // or by byte queue limits (STACK_XOFF). The waker (the qdisc or pktgen feeding the queue) is
  // called when either stop is lifted, as __netif_schedule would run the qdisc.
  using Waker = void (*)(void* ctx);
  bool tx_queue_stopped() const { return drv_xoff_; }                   // netif_tx_queue_stopped
  bool netif_xmit_stopped() const { return drv_xoff_ || stack_xoff_; }  // what senders check
  void netif_tx_stop_queue() { drv_xoff_ = true; }
  void netif_tx_wake_queue() {
    const bool was = drv_xoff_;
    drv_xoff_ = false;
    if (was) {
      ++tx_wakes_;
      wake_senders();
    }
  }
  void netif_tx_start_queue() { drv_xoff_ = false; }
  void set_tx_waker(Waker w, void* ctx) {
    waker_ = w;
    waker_ctx_ = ctx;
  }
  // The qdisc's waker (the transmit core's __netif_schedule), beside a direct sender's (pktgen).
  void set_qdisc_waker(Waker w, void* ctx) {
    qdisc_waker_ = w;
    qdisc_waker_ctx_ = ctx;
  }
  uint64_t tx_wakes() const { return tx_wakes_; }

  // The TX queue's lock (txq->_xmit_lock: HARD_TX_LOCK in dev_hard_start_xmit's callers,
  // __netif_tx_lock_bh in pktgen). Senders on different CPUs hold it in turn; the model runs each
  // holder at its own CPU's time, so a CPU that takes it before the previous holder's release (in
  // simulated time) spins until then, charged to it. This keeps the driver's doorbells in ring
  // order whichever CPU rings them.
  void tx_lock(Cpu& cpu) {
    if (cpu.now() < txq_released_) {
      ++tx_lock_contended;
      cpu.charge(txq_released_ - cpu.now());
    }
  }
  void tx_unlock(Cpu& cpu) {
    if (txq_released_ < cpu.now()) txq_released_ = cpu.now();
  }
  uint64_t tx_lock_contended = 0;  // the model's own: times a sender spun on the lock

  // Byte queue limits. bql_enabled false is a kernel without CONFIG_BQL: the ring alone limits.
  bool bql_enabled = true;
  Dql dql{};
  uint64_t bql_stops = 0;  // times BQL stopped the queue (STACK_XOFF set)
  // __netdev_tx_sent_queue: account `bytes` handed to the ring; true if the driver must ring the
  // doorbell now (no more packets follow, or the queue just stopped).
  bool netdev_tx_sent_queue(unsigned bytes, bool xmit_more, uint64_t now_jiffies) {
    (void)now_jiffies;
    if (!bql_enabled) return !xmit_more || drv_xoff_;
    if (xmit_more) {
      dql.queued(bytes);
      return netif_xmit_stopped();
    }
    dql.queued(bytes);
    if (dql.avail() < 0) {
      if (!stack_xoff_) ++bql_stops;
      stack_xoff_ = true;
    }
    return true;
  }
  // netdev_tx_completed_queue: from TX clean, with what completed since the last call.
  void netdev_tx_completed_queue(unsigned pkts, unsigned bytes, uint64_t now_jiffies) {
    (void)pkts;
    if (!bql_enabled || bytes == 0) return;
    dql.completed(bytes, now_jiffies);
    if (dql.avail() < 0) return;
    if (stack_xoff_) {
      stack_xoff_ = false;
      if (!drv_xoff_) wake_senders();  // netif_schedule_queue
    }
  }
  // netdev_tx_reset_queue: the ring was emptied (open, stop).
  void netdev_tx_reset_queue(uint64_t now_jiffies) {
    stack_xoff_ = false;
    dql.reset(now_jiffies);
  }

 private:
  bool drv_xoff_ = true;  // until open starts it
  Instant txq_released_{};  // when the TX queue's lock was last released
  bool stack_xoff_ = false;
  uint64_t tx_wakes_ = 0;
  Waker waker_ = nullptr;
  void* waker_ctx_ = nullptr;
  Waker qdisc_waker_ = nullptr;
  void* qdisc_waker_ctx_ = nullptr;
  void wake_senders() {
    if (qdisc_waker_) qdisc_waker_(qdisc_waker_ctx_);
    if (waker_) waker_(waker_ctx_);
  }
};

// eth_type_trans: pulls the Ethernet header, sets protocol and pkt_type. false (nothing changed)
// for a frame shorter than an Ethernet header.
bool eth_type_trans(SkBuff& skb, NetDevice& dev);

}  // namespace vnic::stack
