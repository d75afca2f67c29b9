// pfifo_fast and noqueue (net/sched/sch_generic.c of Linux 6.1), and `tc -s qdisc` output.
#include <fmt/format.h>

#include "vnic/stack/netdev.hpp"
#include "vnic/stack/sch_fq_codel.hpp"
#include "vnic/stack/sched.hpp"

namespace vnic::stack {

PfifoFast::PfifoFast(NetDevice& dev) : Qdisc(dev), limit_(dev.tx_queue_len) {}

QdiscRc PfifoFast::enqueue(SkBuff* skb, Instant now) {
  // pfifo_fast_enqueue: band = prio2band[skb->priority & TC_PRIO_MAX]; the band's skb_array was
  // sized to tx_queue_len at creation, and a full one refuses the packet (qdisc_drop_cpu).
  SkbQueue& band = bands_[kPrio2Band[skb->priority & 15u]];
  if (band.size() >= limit_) return QdiscRc::Drop;
  skb->tstamp = now;  // for the sojourn the transmit core reports (not used by pfifo_fast itself)
  band.push_back(skb);
  stats.backlog_bytes += qdisc_pkt_len(*skb);
  return QdiscRc::Queued;
}

SkBuff* PfifoFast::dequeue(Instant) {
  for (SkbQueue& band : bands_) {  // band 0 first
    if (SkBuff* skb = band.pop_front()) {
      stats.backlog_bytes -= qdisc_pkt_len(*skb);
      return skb;
    }
  }
  return nullptr;
}

std::string PfifoFast::params() const {
  std::string s = "bands 3 priomap";
  for (uint8_t b : kPrio2Band) s += fmt::format(" {}", b);
  return s;
}

std::unique_ptr<Qdisc> make_qdisc(std::string_view kind, NetDevice& dev) {
  if (kind == "pfifo_fast") return std::make_unique<PfifoFast>(dev);
  if (kind == "noqueue") return std::make_unique<NoQueue>(dev);
  if (kind == "fq_codel") return std::make_unique<FqCodel>(dev);
  return nullptr;
}

std::string tc_s_qdisc(const Qdisc& q, std::string_view devname) {
  (void)devname;
  // iproute2's tc/q_*.c and tc_qdisc.c: "qdisc KIND HANDLE: root refcnt N PARAMS", then the
  // statistics ("Sent ... (dropped ..., overlimits ... requeues ...)", "backlog ...b ...p
  // requeues ...").
  uint32_t qlen = q.qlen();
  for (const SkBuff* s = q.requeued; s != nullptr; s = s->next) ++qlen;
  std::string s = fmt::format("qdisc {} 0: root refcnt 2", q.kind());
  const std::string p = q.params();
  if (!p.empty()) s += " " + p;
  s += fmt::format("\n Sent {} bytes {} pkt (dropped {}, overlimits {} requeues {}) \n backlog {}b {}p requeues {}\n",
                   q.stats.bytes, q.stats.packets, q.stats.drops, q.stats.overlimits, q.stats.requeues,
                   q.stats.backlog_bytes, qlen, q.stats.requeues);
  s += q.xstats();
  return s;
}

}  // namespace vnic::stack
