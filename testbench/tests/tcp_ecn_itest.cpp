// ECN end to end (RFC 3168; docs/tcp.md "ECN"), on the whole platform (NICs, drivers, links,
// stacks): a TCP bulk flow a -> c (iperf3, CUBIC) through a router b whose egress to c runs at
// 1 Gb/s with fq_codel (Debian's default qdisc, ecn on). With net.ipv4.tcp_ecn = 1 on a, the flow
// negotiates ECN with c (whose tcp_ecn is the default 2) and CoDel marks CE instead of dropping:
// fq_codel's ecn_mark > 0, no drop by CoDel's law, c counts each mark (IpExt InCEPkts), a reduces
// its window on the echoes (TcpExt TCPDeliveredCE) and retransmits nothing. With the default
// (tcp_ecn 2 on both: nobody asks) CoDel drops instead and a retransmits.
#include <gtest/gtest.h>

#include <systemc>

#include <cstdio>
#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/stack/apps/tcp_apps.hpp"
#include "vnic/stack/sch_fq_codel.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
namespace model = vnic::model;
namespace stack = vnic::stack;

// a 10.0.1.2 --10G-- 10.0.1.1 [b] 10.0.2.1 --1G-- 10.0.2.2 c; iperf3 a -> c for 1 s.
constexpr const char* kEcnRouter = R"([scenario]
name = "tcp-ecn-router"
[host.a]
address = "10.0.1.2/24"
routes = ["default via 10.0.1.1"]
frames = 0
[host.a.ping]
enabled = false
[host.a.tcp_iperf3_client]
dst = "10.0.2.2"
duration_ms = 1000
interval_ms = 100
[host.b]
frames = 0
address = "10.0.1.1/24"
[host.b.sysctl]
ip_forward = 1
[host.b.eth1]
mac = "02:00:00:00:01:0b"
address = "10.0.2.1/24"
frames = 0
[host.c]
mac = "02:00:00:00:00:0c"
address = "10.0.2.2/24"
routes = ["default via 10.0.2.1"]
frames = 0
[host.c.tcp_iperf3_server]
[link.bc]
ends = ["b.eth1", "c.eth0"]
speed = "1G"
)";

// b's EcnMark events and their sojourn times.
class MarkSink final : public model::TraceSink {
 public:
  void trace(const char*, const model::TraceEvent& e) override {
    if (e.kind != model::TraceKind::EcnMark) return;
    ++marks;
    if (e.a > max_sojourn_ns) max_sojourn_ns = e.a;
  }
  uint64_t marks = 0;
  uint32_t max_sojourn_ns = 0;
};

struct EcnRun {
  uint32_t ecn_mark = 0, drop_overlimit = 0;
  uint64_t drops = 0, codel_drops = 0, trace_marks = 0;
  uint32_t max_mark_sojourn_ns = 0;
  uint64_t in_ce_c = 0, in_ect0_c = 0, delivered_ce_a = 0, retrans_a = 0;
  uint64_t sent = 0, received = 0;
  bool done = false;
  std::string tc;
};

EcnRun run_flow(const std::vector<std::string>& sets) {
  Scenario s = vnic::tb::testing::resolve(kEcnRouter, sets);
  Platform pf(s);
  MarkSink sink;
  auto& b = pf.driver_host("b");
  b.net().set_trace(&sink, "host_b");
  pf.run();
  EcnRun r;
  const stack::Qdisc* q = b.driver(1).qdisc.get();
  const auto* fq = dynamic_cast<const stack::FqCodel*>(q);
  EXPECT_NE(fq, nullptr) << (q != nullptr ? std::string(q->kind()) : "no qdisc");
  if (fq != nullptr) {
    r.ecn_mark = fq->ecn_mark();
    r.drop_overlimit = fq->drop_overlimit();
    r.drops = fq->stats.drops;
    r.codel_drops = r.drops - r.drop_overlimit;  // CoDel's law; the rest were over the limit
  }
  r.trace_marks = sink.marks;
  r.max_mark_sojourn_ns = sink.max_sojourn_ns;
  r.tc = b.net().tc_s_qdisc();
  auto& a = pf.driver_host("a");
  auto& c = pf.driver_host("c");
  r.in_ce_c = c.net().ip_mib().InCEPkts;
  r.in_ect0_c = c.net().ip_mib().InECT0Pkts;
  r.delivered_ce_a = a.tcp().ext()[stack::LinuxMib::TCPDeliveredCE];
  r.retrans_a = a.tcp().mib().RetransSegs;
  if (const auto* cli = a.iperf3_client(0)) {
    r.done = cli->done();
    r.sent = cli->result().bytes_sent;
    EXPECT_EQ(cli->result().errors(), 0u) << cli->output();
  }
  if (const auto* srv = c.iperf3_server()) r.received = srv->result().bytes_received;
  std::printf("tcp_ecn %s: b eth1 fq_codel ecn_mark %u (trace %llu, max sojourn %.2f ms), drops %llu (CoDel %llu, "
              "overlimit %u); c InCEPkts %llu InECT0Pkts %llu; a TCPDeliveredCE %llu RetransSegs %llu; "
              "%llu bytes sent, %llu received\n",
              sets.empty() ? "default" : sets[0].c_str(), r.ecn_mark, static_cast<unsigned long long>(r.trace_marks),
              r.max_mark_sojourn_ns * 1e-6, static_cast<unsigned long long>(r.drops),
              static_cast<unsigned long long>(r.codel_drops), r.drop_overlimit,
              static_cast<unsigned long long>(r.in_ce_c), static_cast<unsigned long long>(r.in_ect0_c),
              static_cast<unsigned long long>(r.delivered_ce_a), static_cast<unsigned long long>(r.retrans_a),
              static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.received));
  std::printf("%s", r.tc.c_str());
  EXPECT_TRUE(pf.all_ok());
  return r;
}

TEST(TcpEcnRouter, WithEcnCoDelMarksInsteadOfDropping) {
  const EcnRun r = run_flow({"host.a.sysctl.tcp_ecn=1"});
  EXPECT_TRUE(r.done);
  EXPECT_GT(r.sent, 0u);
  EXPECT_EQ(r.received, r.sent);
  EXPECT_GT(r.ecn_mark, 0u);
  EXPECT_EQ(r.codel_drops, 0u);                 // CoDel marked every packet it would have dropped
  EXPECT_EQ(r.drops, 0u);                        // nor over the limit
  // b forwards GRO skbs (up to 11 segments each, maxpacket 16654): fq_codel counts one ecn_mark
  // per skb, its segments all leave CE, and the trace has an EcnMark for each segment's packet
  EXPECT_GE(r.trace_marks, r.ecn_mark);
  EXPECT_GT(r.max_mark_sojourn_ns, 5'000'000u);  // marked only above CoDel's 5 ms target
  EXPECT_EQ(r.in_ce_c, r.trace_marks);           // every CE segment reached c
  EXPECT_GT(r.in_ect0_c, 0u);
  EXPECT_GT(r.delivered_ce_a, 0u);               // a heard the echoes
  EXPECT_EQ(r.retrans_a, 0u);                    // and lost nothing
  EXPECT_NE(r.tc.find(" ecn_mark " + std::to_string(r.ecn_mark) + "\n"), std::string::npos) << r.tc;
}

TEST(TcpEcnRouter, WithoutEcnCoDelDrops) {
  const EcnRun r = run_flow({});
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.received, r.sent);
  EXPECT_EQ(r.ecn_mark, 0u);
  EXPECT_EQ(r.trace_marks, 0u);
  EXPECT_GT(r.codel_drops, 0u);
  EXPECT_EQ(r.in_ce_c, 0u);
  EXPECT_EQ(r.in_ect0_c, 0u);
  EXPECT_GT(r.retrans_a, 0u);
  EXPECT_EQ(r.delivered_ce_a, 0u);
}

}  // namespace
