// fq_codel: Fair Queuing with CoDel (RFC 8290), Debian 12's default_qdisc, as Linux 6.1 runs it
// (net/sched/sch_fq_codel.c over include/net/codel.h and codel_impl.h).
//
// Packets are hashed into `flows` buckets; each bucket is a FIFO with its own CoDel state
// (RFC 8289). Buckets that just became active wait on new_flows, the others on old_flows, and
// dequeue serves new_flows first, each flow a deficit round robin turn of `quantum` bytes. When
// the qdisc holds more than `limit` packets or `memory_limit` bytes of skb->truesize, packets are
// dropped in a batch from the head of the bucket with the largest backlog.
//
// Time is CoDel's: nanoseconds >> 10 ("units of 1024 ns") in a wrapping u32, compared as Linux
// compares it (codel_time_after: the signed difference), so the model takes the same decisions
// at the same instants, rounding included.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/model/units.hpp"
#include "vnic/stack/sched.hpp"
#include "vnic/stack/skb.hpp"

namespace vnic::stack {

// codel_time_t: a clock of 1024 ns ticks (ktime_get_ns() >> CODEL_SHIFT), wrapping at 2^32.
using CodelTime = uint32_t;
inline constexpr unsigned kCodelShift = 10;  // CODEL_SHIFT

// codel_get_time for an instant of the model's clock.
constexpr CodelTime codel_time(model::Instant t) {
  const int64_t ns = t.ps() / 1000;
  return static_cast<CodelTime>(static_cast<uint64_t>(ns) >> kCodelShift);
}
// A duration in CoDel units, as fq_codel_change converts tc's microseconds ((us * 1000) >> 10).
constexpr CodelTime codel_duration(model::Duration d) {
  const int64_t ns = d.ps() / 1000;
  return static_cast<CodelTime>(static_cast<uint64_t>(ns < 0 ? 0 : ns) >> kCodelShift);
}
// codel_time_to_us: what fq_codel_dump hands iproute2.
constexpr uint32_t codel_time_to_us(CodelTime v) { return static_cast<uint32_t>((uint64_t{v} << kCodelShift) / 1000); }
// codel_time_after / _after_eq / _before: serial-number comparisons (RFC 1982), wrap-safe.
constexpr bool codel_time_after(CodelTime a, CodelTime b) { return static_cast<int32_t>(a - b) > 0; }
constexpr bool codel_time_after_eq(CodelTime a, CodelTime b) { return static_cast<int32_t>(a - b) >= 0; }
constexpr bool codel_time_before(CodelTime a, CodelTime b) { return codel_time_after(b, a); }

// reciprocal_scale: maps a 32-bit value onto [0, ep_ro) with a multiply and a shift.
constexpr uint32_t reciprocal_scale(uint32_t val, uint32_t ep_ro) {
  return static_cast<uint32_t>((uint64_t{val} * ep_ro) >> 32);
}

// struct codel_vars: one flow's CoDel state.
struct CodelVars {
  uint32_t count = 0;              // drops (and marks) since entering the dropping state
  uint32_t lastcount = 0;          // count when the dropping state was last entered
  bool dropping = false;
  uint16_t rec_inv_sqrt = 0;       // 1/sqrt(count) in Q0.16 (the top half of a Q0.32)
  CodelTime first_above_time = 0;  // when the sojourn time will have been above target for an
                                   // interval (0: it is not above target)
  CodelTime drop_next = 0;         // the next drop (or the last one, once out of dropping state)
  CodelTime ldelay = 0;            // sojourn time of the last packet looked at
};

// codel_Newton_step: one Newton-Raphson step towards 1/sqrt(count), in Linux's fixed point.
void codel_newton_step(CodelVars& v);
// codel_control_law: t + interval / sqrt(count), with rec_inv_sqrt standing for 1/sqrt(count).
constexpr CodelTime codel_control_law(CodelTime t, CodelTime interval, uint16_t rec_inv_sqrt) {
  return t + reciprocal_scale(interval, uint32_t{rec_inv_sqrt} << 16);
}

// INET_ECN_set_ce for an IPv4 packet (IP_ECN_set_ce): an ECN-capable packet (ECT(0), ECT(1)) is
// marked CE with the header checksum updated incrementally; a packet already CE counts as marked.
// False for Not-ECT and for anything that is not IPv4 with a network header.
bool inet_ecn_set_ce(SkBuff& skb);

// fq_codel's parameters, with Linux 6.1's defaults (fq_codel_init, codel_params_init, x86-64).
struct FqCodelParams {
  uint32_t limit = 10240;                              // packets in the qdisc (sch->limit)
  uint32_t flows = 1024;                               // buckets, 1..65536
  uint32_t quantum = 0;                                // DRR bytes; 0: psched_mtu(dev)
  model::Duration target = model::Duration::ms(5);     // acceptable standing sojourn time
  model::Duration interval = model::Duration::ms(100); // sliding window, about a worst-case RTT
  uint32_t memory_limit = 32u << 20;                   // bytes of truesize (4 MiB on 32-bit)
  bool ecn = true;                                     // mark ECT packets instead of dropping
  bool ce_threshold_enabled = false;                   // ce_threshold off (CODEL_DISABLED_THRESHOLD)
  model::Duration ce_threshold{};                      // CE-mark above this sojourn (DCTCP style)
  uint8_t ce_threshold_selector = 0;                   // ... only packets whose dsfield & mask
  uint8_t ce_threshold_mask = 0;                       //     equals the selector (mask 0: all)
  uint32_t drop_batch_size = 64;                       // most packets one overflow drops
  // Seed of the flow hash. Linux keys skb_get_hash with a random hashrnd set once per boot; a
  // fixed seed keeps runs reproducible.
  uint32_t hash_seed = 0x5eed'f10du;
};

// FQ_CODEL_QUANTUM_MAX: the largest quantum fq_codel_change accepts.
inline constexpr uint32_t kFqCodelQuantumMax = 1u << 20;

// What fq_codel_change would answer for these parameters: 0, or -EINVAL (flows outside
// 1..65536, quantum above FQ_CODEL_QUANTUM_MAX). The constructor clamps what this refuses.
int fq_codel_validate(const FqCodelParams& p);

class FqCodel final : public Qdisc {
 public:
  // fq_codel_init (+ fq_codel_change with `p`): quantum and CoDel's mtu from psched_mtu(dev)
  // (the device's MTU plus its 14-byte Ethernet header); values as fq_codel_change clamps them
  // (quantum at least 256, drop_batch_size at least 1, memory_limit at most 2 GiB).
  explicit FqCodel(NetDevice& dev, const FqCodelParams& p = {});

  std::string_view kind() const override { return "fq_codel"; }
  QdiscRc enqueue(SkBuff* skb, Instant now) override;
  SkBuff* dequeue(Instant now) override;
  uint32_t qlen() const override { return qlen_; }
  // fq_codel_init sets TCQ_F_CAN_BYPASS when limit >= 1.
  bool can_bypass() const override { return limit_ >= 1; }
  std::string params() const override;
  std::string xstats() const override;

  // The bucket a packet goes to (fq_codel_classify without filters): 0..flows-1.
  uint32_t classify(const SkBuff& skb) const;

  // For tests and reports (the fields of tc_fq_codel_xstats and per-flow class stats).
  uint32_t flows() const { return flows_cnt_; }
  uint32_t limit() const { return limit_; }
  uint32_t quantum() const { return quantum_; }
  CodelTime target() const { return target_; }      // CoDel units
  CodelTime interval() const { return interval_; }  // CoDel units
  uint32_t memory_limit() const { return memory_limit_; }
  uint32_t drop_batch_size() const { return drop_batch_size_; }
  bool ecn() const { return ecn_; }
  uint32_t new_flows_len() const { return new_flows_.len; }
  uint32_t old_flows_len() const { return old_flows_.len; }
  uint32_t backlog(uint32_t idx) const { return backlogs_[idx]; }  // bytes queued in a bucket
  uint32_t flow_qlen(uint32_t idx) const { return flows_[idx].q.size(); }
  int32_t flow_deficit(uint32_t idx) const { return flows_[idx].deficit; }
  const CodelVars& codel_vars(uint32_t idx) const { return flows_[idx].cvars; }
  uint32_t new_flow_count() const { return new_flow_count_; }
  uint32_t drop_overlimit() const { return drop_overlimit_; }
  uint32_t drop_overmemory() const { return drop_overmemory_; }
  uint32_t ecn_mark() const { return ecn_mark_; }
  uint32_t ce_mark() const { return ce_mark_; }
  uint32_t maxpacket() const { return maxpacket_; }
  uint32_t memory_usage() const { return memory_usage_; }

 private:
  enum class List : uint8_t { None, New, Old };
  struct Flow {
    SkbQueue q;
    Flow* next = nullptr;  // flowchain: the next flow on the same list
    List on = List::None;  // list_empty(&flow->flowchain) when None
    int32_t deficit = 0;
    CodelVars cvars;
  };
  // A list of flows (new_flows, old_flows). fq_codel only ever adds at the tail and takes the
  // first entry off, so a singly linked FIFO is Linux's list_head here.
  struct FlowList {
    Flow* head = nullptr;
    Flow* tail = nullptr;
    uint32_t len = 0;
    List which;
    explicit FlowList(List w) : which(w) {}
    bool empty() const { return head == nullptr; }
    void push_back(Flow* f);
    Flow* pop_front();
  };

  uint32_t drop_batch(uint32_t max_packets);  // fq_codel_drop: returns the bucket it dropped from
  SkBuff* codel_dequeue(Flow& f, CodelTime now);
  SkBuff* dequeue_head(Flow& f);  // dequeue_func
  bool should_drop(const SkBuff* skb, CodelVars& v, CodelTime now);
  uint32_t queue_len_with_requeued() const;

  uint32_t limit_;
  uint32_t flows_cnt_;
  uint32_t quantum_;
  uint32_t drop_batch_size_;
  uint32_t memory_limit_;
  uint32_t hash_seed_;
  // struct codel_params
  CodelTime target_;
  CodelTime interval_;
  CodelTime ce_threshold_;
  uint32_t mtu_;  // psched_mtu(dev) at creation: a backlog up to this never counts as standing
  bool ecn_;
  uint8_t ce_threshold_selector_;
  uint8_t ce_threshold_mask_;

  std::vector<Flow> flows_;
  std::vector<uint32_t> backlogs_;
  FlowList new_flows_{List::New};
  FlowList old_flows_{List::Old};
  uint32_t qlen_ = 0;

  // struct codel_stats and fq_codel's own counters
  uint32_t maxpacket_ = 0;
  uint32_t ecn_mark_ = 0;
  uint32_t ce_mark_ = 0;
  uint32_t memory_usage_ = 0;
  uint32_t drop_overmemory_ = 0;
  uint32_t drop_overlimit_ = 0;
  uint32_t new_flow_count_ = 0;
};

}  // namespace vnic::stack
