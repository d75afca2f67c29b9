// ECN in TCP (RFC 3168, stack/src/ipv4/tcp_ecn.cpp) between two NetStacks back to back: the
// negotiation with each tcp_ecn setting, which segments are ECT(0) on the wire, the receiver's
// ECE echo of a CE mark until the sender's CWR, and the sender's one window reduction per window
// of marks. A CE mark is made by rewriting the copy of a frame the receiver gets (the IP ECN bits
// to 11 and the header checksum fixed), as a router's AQM would.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/pair_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using wire::kTcpAck;
using wire::kTcpCwr;
using wire::kTcpEce;
using wire::kTcpSyn;
using wire::seq_after;

// A TCP segment on the wire with the ECN field of its IP header.
struct Seg {
  wire::TcpRepr th;
  uint8_t ecn = 0;
};

std::optional<Seg> parse(std::span<const uint8_t> f) {
  if (f.size() < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6) return std::nullopt;
  const std::size_t ihl = static_cast<std::size_t>(f[14] & 0x0F) * 4;
  const std::size_t tot = wire::load_be16(f, 14 + 2);
  auto r = wire::TcpRepr::parse(f.subspan(14 + ihl, tot - ihl), wire::load_ipv4(f, 14 + 12), wire::load_ipv4(f, 14 + 16));
  if (!r) return std::nullopt;
  return Seg{*r, static_cast<uint8_t>(f[15] & 3u)};
}

// The IP header's ECN field set to `ecn`, and its checksum made good again.
void set_ecn(std::span<uint8_t> f, uint8_t ecn) {
  const std::size_t ihl = static_cast<std::size_t>(f[14] & 0x0F) * 4;
  f[15] = static_cast<uint8_t>((f[15] & ~3u) | ecn);
  f[14 + 10] = 0;
  f[14 + 11] = 0;
  const uint16_t c = wire::internet_checksum(f.subspan(14, ihl));
  f[14 + 10] = static_cast<uint8_t>(c >> 8);
  f[14 + 11] = static_cast<uint8_t>(c);
}
// What a router's AQM does to an ECT packet.
void set_ce(std::span<uint8_t> f) { set_ecn(f, kInetEcnCe); }

std::vector<uint8_t> pattern(std::size_t n) {
  std::vector<uint8_t> v(n);
  uint32_t x = 0x9E3779B9u;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x);
  }
  return v;
}

struct EcnPair : testing::PairRig {
  Icmp icmp_a{*a.net};
  Icmp icmp_b{*b.net};
  Tcp tcp_a{*a.net, icmp_a};
  Tcp tcp_b{*b.net, icmp_b};
  TaskScope tasks;
  TcpSock* c = nullptr;  // a's connection
  TcpSock* s = nullptr;  // b's
  Instant clock{};

  EcnPair() { static_arp(); }
  std::vector<Seg> sent_by(const testing::WireHost& h) const {
    std::vector<Seg> v;
    for (const auto& f : h.dev.sent) {
      if (auto r = parse(f)) v.push_back(*r);
    }
    return v;
  }
  void run_for(Duration d) {
    clock = std::max({clock, a.cpu.now(), b.cpu.now()}) + d;
    run_until(clock);
  }
  // a connects to b:5001; both ends once established.
  void connect() {
    TcpSock* l = tcp_b.socket();
    ASSERT_EQ(tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    ASSERT_EQ(tcp_b.listen(*l, 16), 0);
    c = tcp_a.socket();
    ASSERT_EQ(tcp_a.connect(a.cpu, *c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    run_for(Duration::ms(5));
    s = tcp_b.accept(*l);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(c->tstate, TcpState::Established);
  }
  // `n` bytes from a to b, read as they come; returns what b read.
  std::vector<uint8_t> send_a_to_b(std::size_t n, Duration d = Duration::ms(1000)) {
    const std::vector<uint8_t> data = pattern(n);
    std::vector<uint8_t> got;
    tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& v) -> Co<void> {
      (void)co_await t.send(cpu, *sk, v);
    }(tcp_a, a.cpu, c, data));
    tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
      std::vector<uint8_t> buf(65536);
      while (into.size() < want) {
        const int r = co_await t.recv(cpu, *sk, buf);
        if (r <= 0) co_return;
        into.insert(into.end(), buf.begin(), buf.begin() + r);
      }
    }(tcp_b, b.cpu, s, got, n));
    run_for(d);
    EXPECT_TRUE(got == data);
    return got;
  }
};

// ------------------------------------------------------------------------------ negotiation

// Two hosts with 6.1's default (tcp_ecn 2: accept, never ask): no ECE/CWR on the SYN or the
// SYN-ACK, no ECT on any packet, no "ecn" in ss.
TEST(TcpEcn, DefaultHostsNeverUseIt) {
  EcnPair p;
  EXPECT_EQ(p.tcp_a.sysctls().tcp_ecn, 2);
  EXPECT_EQ(p.tcp_a.sysctls().tcp_ecn_fallback, 1);
  p.connect();
  p.send_a_to_b(30 * 1448);
  for (const auto* h : {&p.a, &p.b}) {
    for (const Seg& g : p.sent_by(*h)) {
      EXPECT_EQ(g.th.flags & (kTcpEce | kTcpCwr), 0) << "seq " << g.th.seq;
      EXPECT_EQ(g.ecn, kInetEcnNotEct) << "seq " << g.th.seq;
    }
  }
  EXPECT_EQ(p.c->ecn_flags, 0);
  EXPECT_EQ(p.s->ecn_flags, 0);
  EXPECT_EQ(p.tcp_a.ss_tin().find(" ecn"), std::string::npos);
  EXPECT_EQ(p.b.net->ip_mib().InECT0Pkts, 0u);
}

// tcp_ecn 1 on the client, the default on the server: the SYN asks (ECE|CWR), the SYN-ACK
// accepts (ECE alone), neither is ECT; new data goes ECT(0), pure ACKs (the handshake's third and
// the receiver's) and a retransmission go Not-ECT, as tcp_ecn_send does it.
TEST(TcpEcn, ClientAsksDefaultServerAcceptsDataIsEct0) {
  EcnPair p;
  p.tcp_a.sysctls().tcp_ecn = 1;
  std::set<uint32_t> dropped;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto g = parse(f);
    // the 8th data segment, its first transmission only
    if (!g || g->th.payload_len == 0 || g->th.seq != p.c->isn + 1 + 7 * 1448) return false;
    return dropped.insert(g->th.seq).second;
  };
  p.connect();
  const auto sa = p.sent_by(p.a), sb = p.sent_by(p.b);
  ASSERT_GE(sa.size(), 2u);
  ASSERT_GE(sb.size(), 1u);
  EXPECT_EQ(sa[0].th.flags, kTcpSyn | kTcpEce | kTcpCwr);
  EXPECT_EQ(sa[0].ecn, kInetEcnNotEct);
  EXPECT_EQ(sb[0].th.flags, kTcpSyn | kTcpAck | kTcpEce);
  EXPECT_EQ(sb[0].ecn, kInetEcnNotEct);
  EXPECT_EQ(sa[1].th.flags, kTcpAck);  // the third ACK: no ECN flags, Not-ECT
  EXPECT_EQ(sa[1].ecn, kInetEcnNotEct);
  EXPECT_EQ(p.c->ecn_flags, kTcpEcnOk);
  EXPECT_EQ(p.s->ecn_flags, kTcpEcnOk);

  p.send_a_to_b(30 * 1448);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 1u);
  uint64_t ect_data = 0, retrans_seen = 0, cwr_data = 0;
  std::set<uint32_t> seqs;
  for (const Seg& g : p.sent_by(p.a)) {
    if (g.th.payload_len == 0) {
      EXPECT_EQ(g.ecn, kInetEcnNotEct) << "a's pure ACK " << g.th.seq;
      continue;
    }
    EXPECT_EQ(g.th.flags & kTcpEce, 0);
    if ((g.th.flags & kTcpCwr) != 0) {
      // the loss recovery reduced the window (tcp_init_cwnd_reduction queues a CWR): the first
      // new data segment after the retransmission says so
      EXPECT_EQ(retrans_seen, 1u);
      EXPECT_FALSE(seqs.contains(g.th.seq));
      ++cwr_data;
    }
    if (seqs.insert(g.th.seq).second) {
      EXPECT_EQ(g.ecn, kInetEcnEct0) << "new data " << g.th.seq;
      ++ect_data;
    } else {
      EXPECT_EQ(g.ecn, kInetEcnNotEct) << "retransmission " << g.th.seq;
      ++retrans_seen;
    }
  }
  EXPECT_EQ(retrans_seen, 1u);
  EXPECT_EQ(ect_data, 30u);
  EXPECT_EQ(cwr_data, 1u);
  for (const Seg& g : p.sent_by(p.b)) {
    EXPECT_EQ(g.ecn, kInetEcnNotEct);
    EXPECT_EQ(g.th.flags & (kTcpEce | kTcpCwr), g.th.flags & kTcpSyn ? kTcpEce : 0);
  }
  // the receiver saw ECT (TCP_ECN_SEEN); IpExt counts each data packet by its field (one lost)
  EXPECT_EQ(p.s->ecn_flags, kTcpEcnOk | kTcpEcnSeen);
  EXPECT_EQ(p.c->ecn_flags, kTcpEcnOk);  // it got no data
  EXPECT_EQ(p.b.net->ip_mib().InECT0Pkts, 29u);
  EXPECT_EQ(p.b.net->ip_mib().InCEPkts, 0u);
  EXPECT_EQ(p.a.net->ip_mib().InECT0Pkts, 0u);
  // ss -tin: "ts sack ecn ecnseen cubic" on the receiver, "ts sack ecn cubic" on the sender
  EXPECT_NE(p.tcp_b.ss_tin().find(" ts sack ecn ecnseen cubic "), std::string::npos) << p.tcp_b.ss_tin();
  EXPECT_NE(p.tcp_a.ss_tin().find(" ts sack ecn cubic "), std::string::npos) << p.tcp_a.ss_tin();
}

// tcp_ecn 0 on the server: it answers the ECN-setup SYN without ECE, the client turns ECN off
// (tcp_ecn_rcv_synack), nothing is ECT.
TEST(TcpEcn, ServerWithEcnOffDeclines) {
  EcnPair p;
  p.tcp_a.sysctls().tcp_ecn = 1;
  p.tcp_b.sysctls().tcp_ecn = 0;
  p.connect();
  p.send_a_to_b(10 * 1448);
  const auto sa = p.sent_by(p.a), sb = p.sent_by(p.b);
  EXPECT_EQ(sa[0].th.flags, kTcpSyn | kTcpEce | kTcpCwr);
  EXPECT_EQ(sb[0].th.flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(p.c->ecn_flags, 0);
  EXPECT_EQ(p.s->ecn_flags, 0);
  for (const Seg& g : sa) EXPECT_EQ(g.ecn, kInetEcnNotEct);
}

// A client with tcp_ecn 0 never asks, so a tcp_ecn 1 server has nothing to accept.
TEST(TcpEcn, ClientWithEcnOffNeverAsks) {
  EcnPair p;
  p.tcp_a.sysctls().tcp_ecn = 0;
  p.tcp_b.sysctls().tcp_ecn = 1;
  p.connect();
  EXPECT_EQ(p.sent_by(p.a)[0].th.flags, kTcpSyn);
  EXPECT_EQ(p.sent_by(p.b)[0].th.flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(p.c->ecn_flags, 0);
  EXPECT_EQ(p.s->ecn_flags, 0);
}

// RFC 3168 6.1.1: an ECN-setup SYN that is itself ECT is not accepted (tcp_ecn_create_request).
TEST(TcpEcn, EctMarkedSynIsNotAccepted) {
  EcnPair p;
  p.tcp_a.sysctls().tcp_ecn = 1;
  p.a.dev.mangle = [](std::span<uint8_t> f) {
    auto g = parse(f);
    if (g && (g->th.flags & kTcpSyn) != 0) set_ecn(f, kInetEcnEct0);
  };
  p.connect();
  EXPECT_EQ(p.sent_by(p.b)[0].th.flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(p.c->ecn_flags, 0);
  EXPECT_EQ(p.s->ecn_flags, 0);
}

// RFC 3168 6.1.1.1 (tcp_ecn_fallback 1): the SYN's retransmission goes without ECE|CWR, the
// server answers a plain SYN, the connection has no ECN. With tcp_ecn_fallback 0 the
// retransmission asks again and ECN is negotiated.
TEST(TcpEcn, LostSynFallsBackUnlessFallbackIsOff) {
  for (const int fallback : {1, 0}) {
    EcnPair p;
    p.tcp_a.sysctls().tcp_ecn = 1;
    p.tcp_a.sysctls().tcp_ecn_fallback = fallback;
    int syns = 0;
    p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
      auto g = parse(f);
      return g && (g->th.flags & kTcpSyn) != 0 && syns++ == 0;
    };
    TcpSock* l = p.tcp_b.socket();
    ASSERT_EQ(p.tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    ASSERT_EQ(p.tcp_b.listen(*l, 16), 0);
    p.c = p.tcp_a.socket();
    ASSERT_EQ(p.tcp_a.connect(p.a.cpu, *p.c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    p.run_for(Duration::ms(1100));
    p.s = p.tcp_b.accept(*l);
    ASSERT_NE(p.s, nullptr);
    const auto sa = p.sent_by(p.a);
    ASSERT_GE(sa.size(), 2u);
    EXPECT_EQ(sa[0].th.flags, kTcpSyn | kTcpEce | kTcpCwr);
    if (fallback == 1) {
      EXPECT_EQ(sa[1].th.flags, kTcpSyn);
      EXPECT_EQ(p.sent_by(p.b)[0].th.flags, kTcpSyn | kTcpAck);
      EXPECT_EQ(p.c->ecn_flags & kTcpEcnOk, 0);
      EXPECT_EQ(p.s->ecn_flags, 0);
    } else {
      EXPECT_EQ(sa[1].th.flags, kTcpSyn | kTcpEce | kTcpCwr);
      EXPECT_EQ(p.sent_by(p.b)[0].th.flags, kTcpSyn | kTcpAck | kTcpEce);
      // the SYN's timeout went through tcp_enter_loss, which queued a CWR for the first data
      // segment, as in 6.1
      EXPECT_EQ(p.c->ecn_flags, kTcpEcnOk | kTcpEcnQueueCwr);
      EXPECT_EQ(p.s->ecn_flags, kTcpEcnOk);
    }
  }
}

// ------------------------------------------------------------------------------ congestion experienced

// What the sender's state looked like each time it put a segment on the wire.
struct SenderLog {
  std::vector<TcpCaState> states;  // ca_state at each frame a sent
  struct AtCwr {
    TcpCaState state;
    uint32_t cwnd, ssthresh, prior_cwnd;
  };
  std::vector<AtCwr> at_cwr;  // at each frame with CWR
  int entries_to_cwr() const {
    int n = 0;
    for (std::size_t i = 1; i < states.size(); ++i) n += states[i] == TcpCaState::Cwr && states[i - 1] != TcpCaState::Cwr;
    return n;
  }
};

// Marks CE on a's data frames whose index (0-based, first transmissions) is in `marks`, and logs
// the sender's state frame by frame.
void mark_and_log(EcnPair& p, std::set<uint32_t> marks, SenderLog& log, std::vector<uint32_t>& marked_seqs) {
  auto data_index = std::make_shared<uint32_t>(0);
  auto seen = std::make_shared<std::set<uint32_t>>();
  p.a.dev.mangle = [&p, marks, data_index, seen, &marked_seqs](std::span<uint8_t> f) {
    auto g = parse(f);
    if (!g || g->th.payload_len == 0 || !seen->insert(g->th.seq).second) return;
    if (marks.contains((*data_index)++)) {
      set_ce(f);
      marked_seqs.push_back(g->th.seq);
    }
  };
  p.a.dev.drop_if = [&p, &log](std::span<const uint8_t> f) {
    auto g = parse(f);
    log.states.push_back(p.c->ca_state);
    if (g && (g->th.flags & kTcpCwr) != 0) {
      log.at_cwr.push_back({p.c->ca_state, p.c->snd_cwnd, p.c->snd_ssthresh, p.c->prior_cwnd});
    }
    return false;
  };
}

// One CE mark on the 30th data segment: the receiver sets ECE on every ACK from the one for that
// segment until the sender's CWR arrives (and on none after), the sender reduces its window once
// (CWR with ssthresh from CUBIC's ssthresh: cwnd * 717 / 1024), puts CWR on exactly one new data
// segment, ends CWR (Open, cwnd = ssthresh) once that window is acked, and retransmits nothing.
TEST(TcpEcn, CeMarkEchoedUntilCwrAndTheWindowReducedOnce) {
  EcnPair p;
  p.tcp_a.sysctls().tcp_ecn = 1;
  p.connect();
  SenderLog log;
  std::vector<uint32_t> marked;
  mark_and_log(p, {29}, log, marked);
  p.send_a_to_b(200 * 1448);
  ASSERT_EQ(marked.size(), 1u);
  const uint32_t ce_seq = marked[0];

  // exactly one CWR, on new data, ECT(0), sent in CWR state with CUBIC's ssthresh
  std::vector<Seg> cwr;
  for (const Seg& g : p.sent_by(p.a)) {
    if ((g.th.flags & kTcpCwr) != 0 && (g.th.flags & kTcpSyn) == 0) cwr.push_back(g);
  }
  if (std::getenv("VNIC_PRINT") != nullptr) {
    for (const Seg& g : p.sent_by(p.a)) std::printf("a seq %u len %u flags %x ecn %u\n", g.th.seq - p.c->isn, g.th.payload_len, g.th.flags, g.ecn);
    for (const Seg& g : p.sent_by(p.b)) std::printf("b ack %u flags %x\n", g.th.ack - p.c->isn, g.th.flags);
    for (auto& x : log.at_cwr) std::printf("cwr state %d cwnd %u ssthresh %u prior %u\n", static_cast<int>(x.state), x.cwnd, x.ssthresh, x.prior_cwnd);
  }
  ASSERT_EQ(cwr.size(), 1u);
  EXPECT_GT(cwr[0].th.payload_len, 0);
  EXPECT_EQ(cwr[0].ecn, kInetEcnEct0);
  EXPECT_TRUE(seq_after(cwr[0].th.seq, ce_seq));
  ASSERT_EQ(log.at_cwr.size(), 1u);
  EXPECT_EQ(log.at_cwr[0].state, TcpCaState::Cwr);
  EXPECT_EQ(log.at_cwr[0].ssthresh, std::max(log.at_cwr[0].prior_cwnd * 717 / 1024, 2u));
  EXPECT_GT(log.at_cwr[0].prior_cwnd, log.at_cwr[0].ssthresh);
  EXPECT_EQ(log.entries_to_cwr(), 1);
  EXPECT_EQ(p.c->ca_state, TcpCaState::Open);
  EXPECT_EQ(p.c->snd_ssthresh, log.at_cwr[0].ssthresh);  // no second reduction
  EXPECT_GE(p.c->snd_cwnd, p.c->snd_ssthresh);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 0u);

  // the echo: ECE exactly on the ACKs that cover the CE segment and not the CWR segment
  int ece_acks = 0;
  for (const Seg& g : p.sent_by(p.b)) {
    if ((g.th.flags & kTcpSyn) != 0) continue;
    const bool want = seq_after(g.th.ack, ce_seq) && !seq_after(g.th.ack, cwr[0].th.seq);
    EXPECT_EQ((g.th.flags & kTcpEce) != 0, want) << "ack " << g.th.ack - p.c->isn;
    EXPECT_EQ(g.ecn, kInetEcnNotEct);
    ece_acks += want;
  }
  EXPECT_GE(ece_acks, 1);
  EXPECT_EQ(p.s->ecn_flags & kTcpEcnDemandCwr, 0);
  EXPECT_EQ(p.b.net->ip_mib().InCEPkts, 1u);

  // the counters and ss: delivered_ce is what the ECE ACKs acked
  EXPECT_GT(p.c->delivered_ce, 0u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPDeliveredCE], p.c->delivered_ce);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPDelivered], p.c->delivered);  // the SYN too, acked in tcp_ack
  const std::string ss = p.tcp_a.ss_tin();
  EXPECT_NE(ss.find(" ts sack ecn cubic "), std::string::npos) << ss;
  EXPECT_NE(ss.find(" delivered_ce:" + std::to_string(p.c->delivered_ce) + " "), std::string::npos) << ss;
  EXPECT_NE(p.tcp_b.ss_tin().find(" ts sack ecn ecnseen cubic "), std::string::npos);
}

// Several CE marks within one window (three segments in a row) still reduce the window
// once: the sender is in CWR when the later echoes come (tcp_enter_cwr does nothing then). A mark
// a window later reduces it again.
TEST(TcpEcn, SeveralMarksInOneWindowOneReductionAMarkLaterAnother) {
  {
    EcnPair p;
    p.tcp_a.sysctls().tcp_ecn = 1;
    p.connect();
    SenderLog log;
    std::vector<uint32_t> marked;
    mark_and_log(p, {29, 30, 31}, log, marked);
    p.send_a_to_b(200 * 1448);
    ASSERT_EQ(marked.size(), 3u);
    ASSERT_EQ(log.at_cwr.size(), 1u);
    // all three were sent before the sender reacted (a mark on the CWR segment or later would be
    // news of the next window)
    uint32_t cwr_seq = 0;
    for (const Seg& g : p.sent_by(p.a)) {
      if ((g.th.flags & (kTcpCwr | kTcpSyn)) == kTcpCwr) cwr_seq = g.th.seq;
    }
    for (const uint32_t m : marked) EXPECT_TRUE(seq_after(cwr_seq, m));
    EXPECT_EQ(log.entries_to_cwr(), 1);
    EXPECT_EQ(p.b.net->ip_mib().InCEPkts, 3u);
    EXPECT_EQ(p.tcp_a.mib().RetransSegs, 0u);
  }
  {
    EcnPair p;
    p.tcp_a.sysctls().tcp_ecn = 1;
    p.connect();
    SenderLog log;
    std::vector<uint32_t> marked;
    mark_and_log(p, {29, 150}, log, marked);
    p.send_a_to_b(300 * 1448);
    EXPECT_EQ(marked.size(), 2u);
    ASSERT_EQ(log.at_cwr.size(), 2u);
    EXPECT_EQ(log.entries_to_cwr(), 2);
    EXPECT_LT(log.at_cwr[1].ssthresh, log.at_cwr[1].prior_cwnd);
    EXPECT_EQ(log.at_cwr[1].ssthresh, std::max(log.at_cwr[1].prior_cwnd * 717 / 1024, 2u));
  }
}

// A CE mark on a connection without ECN changes nothing: no ECE, no reduction (the mark is only
// counted by IpExt InCEPkts).
TEST(TcpEcn, CeWithoutNegotiatedEcnIsIgnored) {
  EcnPair p;
  p.connect();
  SenderLog log;
  std::vector<uint32_t> marked;
  mark_and_log(p, {29}, log, marked);
  p.send_a_to_b(100 * 1448);
  EXPECT_EQ(marked.size(), 1u);
  for (const Seg& g : p.sent_by(p.b)) EXPECT_EQ(g.th.flags & kTcpEce, 0);
  EXPECT_EQ(log.entries_to_cwr(), 0);
  EXPECT_EQ(p.b.net->ip_mib().InCEPkts, 1u);
  EXPECT_EQ(p.s->ecn_flags, 0);
}

}  // namespace
}  // namespace vnic::stack
