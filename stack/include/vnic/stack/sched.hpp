// Queueing disciplines (net/sched): the device's egress queue between dev_queue_xmit and the
// driver: pfifo_fast (Linux 6.1's lockless three-band FIFO), noqueue, and fq_codel
// (sch_fq_codel.hpp, Debian 12's default_qdisc).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vnic/model/units.hpp"
#include "vnic/stack/skb.hpp"

namespace vnic::stack {

class NetDevice;

// `tc -s qdisc` statistics (gnet_stats_basic + gnet_stats_queue).
struct QdiscStats {
  uint64_t bytes = 0, packets = 0;  // "Sent": what left the qdisc for the driver
  uint64_t drops = 0;
  uint64_t overlimits = 0;
  uint64_t requeues = 0;
  uint64_t backlog_bytes = 0;  // bytes queued now
};

// What ->enqueue() answers (NET_XMIT_*).
enum class QdiscRc : uint8_t {
  Queued,  // NET_XMIT_SUCCESS: the qdisc has it
  Drop,    // NET_XMIT_DROP: refused; the caller frees it (QDISC_DROP) and counts the drop
  Cn,      // NET_XMIT_CN: taken, but the qdisc dropped packets of the same flow to make room (it
           // may have been one of them: the caller must not touch it again)
};

class Qdisc {
 public:
  using Instant = model::Instant;
  // A packet the qdisc drops itself (fq_codel: CoDel's drops in dequeue, a batch from the
  // fattest flow when full): counted in stats.drops by qdisc_drop(), then handed here to be
  // freed with its reason (TxCore emits the Drop event). Unset: kfree_skb.
  using DropFn = void (*)(void* ctx, SkBuff* skb, SkbDropReason why);
  void set_drop_fn(DropFn fn, void* ctx) {
    drop_fn_ = fn;
    drop_ctx_ = ctx;
  }
  // A packet the qdisc marked CE instead of dropping it (fq_codel), with its sojourn in the qdisc
  // in ns: handed here for the trace (TxCore: EcnMark). Unset: nothing.
  using MarkFn = void (*)(void* ctx, const SkBuff& skb, uint64_t sojourn_ns);
  void set_mark_fn(MarkFn fn, void* ctx) {
    mark_fn_ = fn;
    mark_ctx_ = ctx;
  }

  explicit Qdisc(NetDevice& dev) : dev_(dev) {}
  virtual ~Qdisc() = default;
  Qdisc(const Qdisc&) = delete;
  Qdisc& operator=(const Qdisc&) = delete;

  virtual std::string_view kind() const = 0;
  // `now`: the sending CPU's clock (CoDel's timestamps and sojourn times).
  virtual QdiscRc enqueue(SkBuff* skb, Instant now) = 0;
  virtual SkBuff* dequeue(Instant now) = 0;
  virtual uint32_t qlen() const = 0;
  // TCQ_F_CAN_BYPASS: an empty qdisc may hand a packet straight to the driver.
  virtual bool can_bypass() const { return false; }
  // noqueue: no queue at all, the packet goes to the driver or is dropped.
  virtual bool is_noqueue() const { return false; }
  // What `tc qdisc show` prints after "qdisc KIND 0: root refcnt 2 ".
  virtual std::string params() const { return {}; }
  // The qdisc's own statistics lines after the common ones in `tc -s qdisc` (fq_codel's
  // "maxpacket ... drop_overlimit ..." lines), each ending in a newline; empty for none.
  virtual std::string xstats() const { return {}; }

  NetDevice& dev() { return dev_; }
  QdiscStats stats;
  // dev_requeue_skb's slot (q->gso_skb): a packet the driver refused, sent first next time.
  SkBuff* requeued = nullptr;
  bool empty() const { return requeued == nullptr && qlen() == 0; }
  // __QDISC_STATE_SCHED: on a CPU's output queue for NET_TX_SOFTIRQ.
  bool scheduled = false;
  Qdisc* next_sched = nullptr;
  bool running = false;   // qdisc_run_begin .. qdisc_run_end
  void* owner = nullptr;  // the transmit core that runs it (TxCore)

 protected:
  // qdisc_drop / __qdisc_drop: count it, hand it to the drop callback.
  void qdisc_drop(SkBuff* skb, SkbDropReason why) {
    ++stats.drops;
    if (drop_fn_ != nullptr) {
      drop_fn_(drop_ctx_, skb, why);
    } else {
      kfree_skb(skb, why);
    }
  }
  // INET_ECN_set_ce succeeded on a packet (fq_codel's ecn_mark): tell the trace.
  void qdisc_ecn_marked(const SkBuff& skb, uint64_t sojourn_ns) {
    if (mark_fn_ != nullptr) mark_fn_(mark_ctx_, skb, sojourn_ns);
  }
  NetDevice& dev_;

 private:
  DropFn drop_fn_ = nullptr;
  void* drop_ctx_ = nullptr;
  MarkFn mark_fn_ = nullptr;
  void* mark_ctx_ = nullptr;
};

// pfifo_fast, as Linux 6.1 implements it (net/sched/sch_generic.c): three bands, band 0 first;
// a packet's band from its priority through the priomap; each band a ring of txqueuelen
// packets (skb_array), so a full band drops while the others still take packets.
class PfifoFast final : public Qdisc {
 public:
  static constexpr unsigned kBands = 3;
  // prio2band: TC_PRIO_* (skb->priority & 15) to band.
  static constexpr std::array<uint8_t, 16> kPrio2Band = {1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};

  explicit PfifoFast(NetDevice& dev);
  std::string_view kind() const override { return "pfifo_fast"; }
  QdiscRc enqueue(SkBuff* skb, Instant now) override;
  SkBuff* dequeue(Instant now) override;
  uint32_t qlen() const override { return bands_[0].size() + bands_[1].size() + bands_[2].size(); }
  bool can_bypass() const override { return true; }
  std::string params() const override;
  uint32_t band_len(unsigned b) const { return bands_[b].size(); }
  uint32_t limit() const { return limit_; }

 private:
  std::array<SkbQueue, kBands> bands_;
  uint32_t limit_;  // per band: dev->tx_queue_len when the qdisc was created
};

// noqueue: virtual devices' default; nothing is queued.
class NoQueue final : public Qdisc {
 public:
  using Qdisc::Qdisc;
  std::string_view kind() const override { return "noqueue"; }
  QdiscRc enqueue(SkBuff*, Instant) override { return QdiscRc::Drop; }
  SkBuff* dequeue(Instant) override { return nullptr; }
  uint32_t qlen() const override { return 0; }
  bool is_noqueue() const override { return true; }
};

// The qdisc named (sysctl default_qdisc, `tc qdisc replace ... root KIND`): "pfifo_fast",
// "noqueue" or "fq_codel" (with its defaults); nullptr for a name this model does not have.
std::unique_ptr<Qdisc> make_qdisc(std::string_view kind, NetDevice& dev);

// `tc -s qdisc show dev DEV` for one root qdisc, as iproute2 prints it.
std::string tc_s_qdisc(const Qdisc& q, std::string_view devname);

}  // namespace vnic::stack
