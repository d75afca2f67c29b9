// TCP between two NetStacks joined back to back (stack/src/ipv4/tcp*.cpp), grouped by state and
// by RFC section: the handshake and its options, data both ways with the stream's bytes checked,
// the close sequences and TIME-WAIT, resets in each state (RFC 9293 3.10.7, RFC 5961), windows,
// sequence numbers that wrap, and loss: a lost SYN, SYN-ACK and FIN, the RTO's exponential
// backoff, SACK recovery of several holes, a tail loss repaired by a probe, the persist timer.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "support/account.hpp"
#include "support/net_rig.hpp"
#include "support/pair_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;

// A TCP segment seen on the wire (parsed from an Ethernet frame).
struct Seen {
  wire::TcpRepr th;
  bool from_a = false;
};

struct TcpPair : testing::PairRig {
  Icmp icmp_a{*a.net};
  Icmp icmp_b{*b.net};
  Tcp tcp_a{*a.net, icmp_a};
  Tcp tcp_b{*b.net, icmp_b};
  TaskScope tasks;

  TcpPair() {
    a.dev.drop_if = nullptr;
    static_arp();
  }
  static std::optional<wire::TcpRepr> parse(std::span<const uint8_t> f) {
    if (f.size() < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6) return std::nullopt;
    const std::size_t ihl = static_cast<std::size_t>(f[14] & 0x0F) * 4;
    const std::size_t tot = wire::load_be16(f, 14 + 2);
    const auto seg = f.subspan(14 + ihl, tot - ihl);
    auto r = wire::TcpRepr::parse(seg, wire::load_ipv4(f, 14 + 12), wire::load_ipv4(f, 14 + 16));
    if (!r) return std::nullopt;
    return *r;
  }
  // Every TCP segment each side sent, in order.
  std::vector<Seen> segments() const {
    std::vector<Seen> v;
    for (const auto& f : a.dev.sent) {
      if (auto r = parse(f)) v.push_back({*r, true});
    }
    for (const auto& f : b.dev.sent) {
      if (auto r = parse(f)) v.push_back({*r, false});
    }
    return v;
  }
  std::vector<wire::TcpRepr> sent_by(const testing::WireHost& h) const {
    std::vector<wire::TcpRepr> v;
    for (const auto& f : h.dev.sent) {
      if (auto r = parse(f)) v.push_back(*r);
    }
    return v;
  }
  Instant now() const { return std::max(a.cpu.now(), b.cpu.now()); }
  // Runs the pair for `d` of simulated time past the end of the last run (run_until stops at the
  // last event before its bound, so the clocks alone do not say how far the test has gone).
  Instant clock{};
  void run_for(Duration d) {
    clock = std::max(clock, now()) + d;
    run_until(clock);
  }

  // A listener on b:5001 and a connection from a; returns {client, server} once established.
  std::pair<TcpSock*, TcpSock*> connect_pair(bool expect_established = true) {
    TcpSock* l = tcp_b.socket();
    EXPECT_EQ(tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    EXPECT_EQ(tcp_b.listen(*l, 16), 0);
    listener = l;
    TcpSock* c = tcp_a.socket();
    EXPECT_EQ(tcp_a.connect(a.cpu, *c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    run_for(Duration::ms(5));
    TcpSock* s = tcp_b.accept(*l);
    if (expect_established) {
      EXPECT_NE(s, nullptr);
    }
    return {c, s};
  }
  TcpSock* listener = nullptr;

  // A segment made by hand and sent from `from` (a or b) to the other host, as a third party on
  // the path could.
  // Traces both hosts into one sink (sources host_a and host_b).
  void trace_to(testing::RecordingSink& sink) {
    a.net->set_trace(&sink, "host_a");
    b.net->set_trace(&sink, "host_b");
  }
  // Closes both ends and runs past TIME-WAIT (60 s, with the timer wheel's slack).
  void close_both(TcpSock* c, TcpSock* s) {
    tcp_a.close(c);
    tcp_b.close(s);
    run_for(Duration::ms(70000));
  }
  void forge(testing::WireHost& from, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
             std::size_t payload = 0) {
    const bool fa = &from == &a;
    const wire::Ipv4Addr src = ip4(fa ? "10.0.0.1" : "10.0.0.2"), dst = ip4(fa ? "10.0.0.2" : "10.0.0.1");
    wire::TcpRepr r;
    r.src_port = sport;
    r.dst_port = dport;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = 1000;
    r.payload_len = static_cast<uint16_t>(payload);
    SkBuff* skb = from.net->alloc_skb(from.cpu, static_cast<uint32_t>(r.total_len()));
    ASSERT_NE(skb, nullptr);
    r.emit(skb->bytes(), src, dst);
    NetStack::IpSend ip;
    ip.daddr = dst;
    ip.protocol = 6;
    (void)from.net->ip_send(from.cpu, skb, ip);
  }
};

std::vector<uint8_t> pattern(std::size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x);
  }
  return v;
}

// ------------------------------------------------------------------------------ handshake

// RFC 9293 3.5 with Linux's options: the SYN carries mss 1460, sackOK, TS, wscale 7 and the
// window 64240 (44 * 1460: tcp_select_initial_window over half of tcp_rmem[1]); the SYN-ACK
// answers 65160 (45 * 1448, the MSS less the timestamps); both sides end ESTABLISHED with the
// scales, SACK and timestamps agreed, the MSS 1448, ActiveOpens and PassiveOpens counted.
TEST(TcpHandshake, ThreeWayWithLinuxOptions) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(c->tstate, TcpState::Established);
  EXPECT_EQ(s->tstate, TcpState::Established);
  const auto sa = p.sent_by(p.a);
  const auto sb = p.sent_by(p.b);
  ASSERT_GE(sa.size(), 2u);
  ASSERT_GE(sb.size(), 1u);
  const wire::TcpRepr& syn = sa[0];
  EXPECT_EQ(syn.flags, wire::kTcpSyn);
  EXPECT_EQ(syn.window, 64240);
  EXPECT_EQ(syn.options.mss, 1460);
  EXPECT_TRUE(syn.options.sack_permitted);
  EXPECT_TRUE(syn.options.has_timestamp);
  EXPECT_EQ(syn.options.tsecr, 0u);
  EXPECT_TRUE(syn.options.has_wscale);
  EXPECT_EQ(syn.options.wscale, 7);
  const wire::TcpRepr& synack = sb[0];
  EXPECT_EQ(synack.flags, wire::kTcpSyn | wire::kTcpAck);
  EXPECT_EQ(synack.ack, syn.seq + 1);
  EXPECT_EQ(synack.window, 65160);
  EXPECT_EQ(synack.options.mss, 1460);
  EXPECT_EQ(synack.options.wscale, 7);
  EXPECT_EQ(synack.options.tsecr, syn.options.tsval);
  const wire::TcpRepr& ack = sa[1];
  EXPECT_EQ(ack.flags, wire::kTcpAck);
  EXPECT_EQ(ack.seq, syn.seq + 1);
  EXPECT_EQ(ack.ack, synack.seq + 1);
  EXPECT_EQ(c->mss_cache, 1448u);
  EXPECT_EQ(s->mss_cache, 1448u);
  EXPECT_TRUE(c->sack_ok && s->sack_ok && c->tstamp_ok && s->tstamp_ok);
  EXPECT_EQ(c->snd_wscale, 7);
  EXPECT_EQ(s->snd_wscale, 7);
  EXPECT_EQ(p.tcp_a.mib().ActiveOpens, 1u);
  EXPECT_EQ(p.tcp_b.mib().PassiveOpens, 1u);
  EXPECT_EQ(c->snd_cwnd, 10u);
}

// RFC 7323 off on the listener's side: no timestamps, so the MSS stays 1460 and the header 20.
TEST(TcpHandshake, TimestampsOffOnOneSide) {
  TcpPair p;
  p.tcp_b.sysctls().tcp_timestamps = false;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(c->tstamp_ok);
  EXPECT_FALSE(s->tstamp_ok);
  EXPECT_EQ(c->mss_cache, 1460u);
  EXPECT_EQ(s->mss_cache, 1460u);
}

// No listener: the SYN is answered with RST|ACK, connect ends ECONNREFUSED.
TEST(TcpHandshake, RefusedWithReset) {
  TcpPair p;
  TcpSock* c = p.tcp_a.socket();
  int result = 1;
  p.tasks.spawn([](TcpPair& pr, TcpSock* sk, int& out) -> Co<void> {
    out = co_await pr.tcp_a.connect_wait(pr.a.cpu, *sk, {ip4("10.0.0.2"), 7});
  }(p, c, result));
  p.run_for(Duration::ms(10));
  EXPECT_EQ(result, -kECONNREFUSED);
  const auto sb = p.sent_by(p.b);
  ASSERT_EQ(sb.size(), 1u);
  EXPECT_EQ(sb[0].flags, wire::kTcpRst | wire::kTcpAck);
  EXPECT_EQ(p.tcp_b.mib().OutRsts, 1u);
  EXPECT_EQ(p.tcp_b.stats().no_socket, 1u);
  EXPECT_EQ(p.tcp_a.mib().AttemptFails, 1u);
}

// ------------------------------------------------------------------------------ data

// 1 MiB each way at once through blocking send/recv: every byte arrives in order (compared with
// what was sent), the counters agree (bytes_acked = bytes_received on the other side).
TEST(TcpData, OneMegabyteEachWayBytesExact) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  const std::vector<uint8_t> out_a = pattern(1 << 20, 1), out_b = pattern(1 << 20, 2);
  std::vector<uint8_t> in_a, in_b;
  auto sender = [](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& d) -> Co<void> {
    std::size_t off = 0;
    while (off < d.size()) {
      const std::size_t n = std::min<std::size_t>(65536, d.size() - off);
      const int r = co_await t.send(cpu, *sk, std::span<const uint8_t>(d).subspan(off, n));
      if (r <= 0) co_return;
      off += static_cast<std::size_t>(r);
    }
  };
  auto reader = [](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
    std::vector<uint8_t> buf(16384);
    while (into.size() < want) {
      const int r = co_await t.recv(cpu, *sk, buf);
      if (r <= 0) co_return;
      into.insert(into.end(), buf.begin(), buf.begin() + r);
    }
  };
  p.tasks.spawn(sender(p.tcp_a, p.a.cpu, c, out_a));
  p.tasks.spawn(sender(p.tcp_b, p.b.cpu, s, out_b));
  p.tasks.spawn(reader(p.tcp_b, p.b.cpu, s, in_b, out_a.size()));
  p.tasks.spawn(reader(p.tcp_a, p.a.cpu, c, in_a, out_b.size()));
  p.run_for(Duration::ms(2000));
  EXPECT_EQ(in_b.size(), out_a.size());
  EXPECT_EQ(in_a.size(), out_b.size());
  EXPECT_TRUE(in_b == out_a);
  EXPECT_TRUE(in_a == out_b);
  EXPECT_EQ(c->bytes_acked, (uint64_t{1} << 20) + 1);  // + the SYN, as tcpi_bytes_acked counts it
  EXPECT_EQ(s->bytes_received, uint64_t{1} << 20);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 0u);
}


// ------------------------------------------------------------------------------ helpers for loss

// The frame's TCP header if it is one, for drop rules.
std::optional<wire::TcpRepr> tcp_of(std::span<const uint8_t> f) { return TcpPair::parse(f); }

// Sends `d` on sk and reads everything on rk (into `got`), as two tasks.
void transfer(TcpPair& p, Tcp& ts, Cpu& tc, TcpSock* sk, Tcp& tr, Cpu& rc, TcpSock* rk, const std::vector<uint8_t>& d,
              std::vector<uint8_t>& got) {
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* s, const std::vector<uint8_t>& data) -> Co<void> {
    (void)co_await t.send(cpu, *s, data);
  }(ts, tc, sk, d));
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* s, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
    std::vector<uint8_t> buf(65536);
    while (into.size() < want) {
      const int r = co_await t.recv(cpu, *s, buf);
      if (r <= 0) co_return;
      into.insert(into.end(), buf.begin(), buf.begin() + r);
    }
  }(tr, rc, rk, got, d.size()));
}

// Two streams at once, 200 KiB each way between c (on a) and s (on b), given 5 s; both must
// arrive whole. The bytes live in `x`, which the caller keeps as long as the pair.
struct TwoStreams {
  std::vector<uint8_t> from_a, from_b, got_b, got_a;
};
void exchange_both_ways(TcpPair& p, TcpSock* c, TcpSock* s, uint32_t seed, TwoStreams& x) {
  x.from_a = pattern(200 * 1024, seed);
  x.from_b = pattern(200 * 1024, seed + 1);
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, x.from_a, x.got_b);
  transfer(p, p.tcp_b, p.b.cpu, s, p.tcp_a, p.a.cpu, c, x.from_b, x.got_a);
  p.run_for(Duration::ms(5000));
  EXPECT_TRUE(x.got_b == x.from_a);
  EXPECT_TRUE(x.got_a == x.from_b);
}

// The times (from a's frames) at which segments matching `pred` left host a.
template <typename Pred>
std::vector<Instant> times_of(const TcpPair& p, Pred pred) {
  std::vector<Instant> v;
  for (std::size_t i = 0; i < p.a.dev.sent.size(); ++i) {
    if (auto r = TcpPair::parse(p.a.dev.sent[i]); r && pred(*r)) v.push_back(p.a.dev.sent_at[i]);
  }
  return v;
}

// ------------------------------------------------------------------------------ lost handshake segments

// RFC 6298 5.7 / Linux: a lost SYN is sent again after TCP_TIMEOUT_INIT (1 s), on the timer
// wheel's tick (250 jiffies: level 1, 8-jiffy buckets, rounded up past the expiry: 1.000-1.036 s);
// TCPSynRetrans and RetransSegs count it, the connection opens.
TEST(TcpLoss, LostSynSentAgainAfterOneSecond) {
  TcpPair p;
  int syns = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    return r && r->flags == wire::kTcpSyn && ++syns == 1;
  };
  auto [c, s] = p.connect_pair(false);
  EXPECT_EQ(s, nullptr);  // not yet: the SYN was lost
  p.run_for(Duration::ms(1100));
  TcpSock* s2 = p.tcp_b.accept(*p.listener);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(c->tstate, TcpState::Established);
  const auto t = times_of(p, [](const wire::TcpRepr& r) { return r.flags == wire::kTcpSyn; });
  ASSERT_EQ(t.size(), 2u);
  const int64_t gap_us = (t[1] - t[0]).ps() / 1000000;
  EXPECT_GE(gap_us, 1000000);
  EXPECT_LE(gap_us, 1036000);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPSynRetrans], 1u);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 1u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPTimeouts], 1u);
  // no RTT sample from a retransmitted SYN (Karn): rto stays 1 s; cwnd 10 (one retransmission only)
  EXPECT_EQ(c->snd_cwnd, 10u);
}

// A lost SYN-ACK: the listener's request sock sends it again from its own timer (1 s), or when the
// client's SYN comes again; either way the connection opens and the child is accepted once.
TEST(TcpLoss, LostSynAckRecovered) {
  TcpPair p;
  int synacks = 0;
  p.b.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    return r && r->flags == (wire::kTcpSyn | wire::kTcpAck) && ++synacks == 1;
  };
  auto [c, s] = p.connect_pair(false);
  EXPECT_EQ(s, nullptr);
  p.run_for(Duration::ms(1100));
  TcpSock* s2 = p.tcp_b.accept(*p.listener);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->tstate, TcpState::Established);
  EXPECT_EQ(c->tstate, TcpState::Established);
  EXPECT_EQ(p.tcp_b.accept(*p.listener), nullptr);
  EXPECT_EQ(p.tcp_b.mib().PassiveOpens, 1u);
  EXPECT_GE(synacks, 2);
}

// A lost FIN is sent again (by the loss probe, about 204 ms: one segment out, so 2 * srtt +
// TCP_RTO_MIN capped at the RTO); both sides finish: the active closer in TIME-WAIT for 60 s on
// the timer wheel (15000 jiffies: level 3, 512-jiffy buckets, so 60-62 s; then gone, TW
// counted), the passive one closed.
TEST(TcpLoss, LostFinThenTimeWaitSixtySeconds) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  int fins = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    return r && (r->flags & wire::kTcpFin) != 0 && ++fins == 1;
  };
  p.tcp_a.close(c);
  p.run_for(Duration::ms(100));
  EXPECT_EQ(s->tstate, TcpState::Established);  // the FIN was lost
  p.run_for(Duration::ms(400));                  // the RTO (about 204 ms) sent it again
  EXPECT_EQ(s->tstate, TcpState::CloseWait);
  EXPECT_EQ(fins, 2);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 1u);
  p.tcp_b.close(s);
  p.run_for(Duration::ms(10));
  EXPECT_EQ(p.tcp_a.time_wait_count(), 1u);
  EXPECT_EQ(p.tcp_b.size(), 1u);  // only the listener left on b
  p.run_for(Duration::ms(59900));
  EXPECT_EQ(p.tcp_a.time_wait_count(), 1u);
  p.run_for(Duration::ms(2200));
  EXPECT_EQ(p.tcp_a.time_wait_count(), 0u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TW], 1u);
}

// ------------------------------------------------------------------------------ RTO (RFC 6298 5.5)

// The cable cut after the handshake: the one segment sent goes again first as a loss probe (at
// the RTO's time: PTO = 2 srtt + 200 ms is capped by it), then at the RTO re-armed from the probe
// (204 ms later), then with exponential backoff (408, 816 ms ...); with tcp_retries2 = 3 the
// connection gives up with ETIMEDOUT once tcp_model_timeout's 15 * 200 ms have passed since the
// first retransmission.
TEST(TcpLoss, RtoExponentialBackoffThenTimeout) {
  TcpPair p;
  p.tcp_a.sysctls().tcp_retries2 = 3;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.a.dev.cut = true;
  const std::vector<uint8_t> d = pattern(100, 3);
  EXPECT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, d, 0), 100);
  p.run_for(Duration::ms(20000));
  const auto t = times_of(p, [](const wire::TcpRepr& r) { return r.payload_len == 100; });
  ASSERT_GE(t.size(), 4u);
  std::vector<double> gaps;
  for (std::size_t i = 1; i < t.size(); ++i) gaps.push_back(static_cast<double>((t[i] - t[i - 1]).ps()) / 1e9);
  // 204 ms (rto 51 jiffies, fired on the wheel) then doubling: 408, 816 ... within the ticks' rounding
  ASSERT_GE(gaps.size(), 4u);
  EXPECT_NEAR(gaps[0], 206, 6);   // the probe
  EXPECT_NEAR(gaps[1], 206, 6);   // the first RTO (51 jiffies, fired a tick late: 204-208 ms)
  EXPECT_NEAR(gaps[2], 412, 36);  // 102 jiffies: level 1, 8-jiffy buckets
  EXPECT_NEAR(gaps[3], 824, 36);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPLossProbes], 1u);
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_EQ(c->err, kETIMEDOUT);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPAbortOnTimeout], 1u);
  EXPECT_GE(p.tcp_a.ext()[LinuxMib::TCPTimeouts], 3u);
}

// A write blocked on a full send buffer when the connection times out (tcp_write_err): the call
// returns the bytes it copied before, and sk_err stays for the next one (sk_stream_wait_memory
// gives up with -EPIPE, which tcp_sendmsg_locked drops behind its count); the next write reads
// and clears it (-ETIMEDOUT), the one after finds the socket shut (-EPIPE). tcp_write_queue_purge
// left nothing queued or charged.
TEST(TcpLoss, AbortUnderABlockedWriteLeavesETimedOutForTheNextWrite) {
  TcpPair p;
  p.tcp_a.sysctls().tcp_retries2 = 3;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.a.dev.cut = true;
  const std::vector<uint8_t> d = pattern(1024 * 1024, 21);  // far more than the send buffer holds
  struct Calls {
    int first = 0, err_after_first = -1, second = 0, third = 0;
    bool done = false;
  } r;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data, Calls& out) -> Co<void> {
    out.first = co_await t.send(cpu, *sk, data);
    out.err_after_first = sk->err;
    out.second = co_await t.send(cpu, *sk, data);
    out.third = co_await t.send(cpu, *sk, data);
    out.done = true;
  }(p.tcp_a, p.a.cpu, c, d, r));
  p.run_for(Duration::ms(20000));
  ASSERT_TRUE(r.done);
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPAbortOnTimeout], 1u);
  EXPECT_GT(r.first, 0);
  EXPECT_LT(r.first, static_cast<int>(d.size()));
  EXPECT_EQ(r.err_after_first, kETIMEDOUT);
  EXPECT_EQ(r.second, -kETIMEDOUT);
  EXPECT_EQ(r.third, -kEPIPE);
  EXPECT_EQ(c->err, 0);
  EXPECT_TRUE(c->wqueue.empty());
  EXPECT_TRUE(c->rtx.empty());
  EXPECT_EQ(c->wmem_queued, 0u);
  EXPECT_EQ(c->packets_out, 0u);
}

// b's stack sends a an ICMP host unreachable (type 3 code 1) quoting a's IP header and the first 8
// bytes of c's TCP header at sequence number `seq`, as a router on the way would.
void send_host_unreachable(TcpPair& p, const TcpSock& c, uint32_t seq) {
  std::vector<uint8_t> m(8 + 20 + 8, 0);
  const std::span<uint8_t> b(m);
  m[0] = 3;  // destination unreachable
  m[1] = 1;  // host unreachable
  const std::span<uint8_t> ip = b.subspan(8, 20);
  ip[0] = 0x45;
  wire::store_be16(ip, 2, 20 + 20 + 1448);  // the quoted datagram's length (a full segment)
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 6;
  wire::store_ipv4(ip, 12, ip4("10.0.0.1"));
  wire::store_ipv4(ip, 16, ip4("10.0.0.2"));
  wire::store_be16(ip, 10, wire::internet_checksum(ip));
  const std::span<uint8_t> th = b.subspan(28, 8);
  wire::store_be16(th, 0, c.num);
  wire::store_be16(th, 2, c.dport);
  wire::store_be32(th, 4, seq);
  wire::store_be16(b, 2, wire::internet_checksum(b));
  SkBuff* skb = p.b.net->alloc_skb(p.b.cpu, static_cast<uint32_t>(m.size()));
  ASSERT_NE(skb, nullptr);
  std::memcpy(skb->bytes().data(), m.data(), m.size());
  NetStack::IpSend out;
  out.daddr = ip4("10.0.0.1");
  out.protocol = 1;
  (void)p.b.net->ip_send(p.b.cpu, skb, out);
}

// An ICMP error for an established connection is soft (tcp_v4_err keeps it as sk_err_soft, no
// IP_RECVERR): the connection goes on, and when it then times out the errno is the ICMP's
// (EHOSTUNREACH) instead of ETIMEDOUT (tcp_write_err: sk_err_soft ?: ETIMEDOUT).
TEST(TcpLoss, TimeoutAfterAnIcmpHostUnreachableReportsEHostUnreach) {
  TcpPair p;
  p.tcp_a.sysctls().tcp_retries2 = 3;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.a.dev.cut = true;
  const std::vector<uint8_t> d = pattern(1024 * 1024, 24);
  int first = 0, err_after_first = -1, second = 0;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data, int& r1, int& e1, int& r2) -> Co<void> {
    r1 = co_await t.send(cpu, *sk, data);
    e1 = sk->err;
    r2 = co_await t.send(cpu, *sk, data);
  }(p.tcp_a, p.a.cpu, c, d, first, err_after_first, second));
  p.run_for(Duration::ms(50));
  ASSERT_EQ(c->tstate, TcpState::Established);
  send_host_unreachable(p, *c, c->snd_una);
  p.run_for(Duration::ms(1));
  EXPECT_EQ(c->err_soft, kEHOSTUNREACH);
  EXPECT_EQ(c->err, 0);  // soft: nothing reported yet
  EXPECT_EQ(c->tstate, TcpState::Established);
  p.run_for(Duration::ms(20000));
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPAbortOnTimeout], 1u);
  EXPECT_GT(first, 0);
  EXPECT_EQ(err_after_first, kEHOSTUNREACH);
  EXPECT_EQ(second, -kEHOSTUNREACH);
}

// RFC 6069 (tcp_ld_RTO_revert): with the RTO backed off twice (the probe at ~206 ms, RTOs at
// ~412 and ~824 ms), a host unreachable quoting snd_una undoes one step: the RTO is the one of a
// single backoff again, counted from the last transmission (~824 ms), so the next retransmission
// goes at ~1.23 s instead of ~1.64 s. One quoting another sequence number undoes nothing.
TEST(TcpLoss, AHostUnreachableForSndUnaRevertsOneStepOfTheRtoBackoff) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.a.dev.cut = true;
  const std::vector<uint8_t> d = pattern(1000, 36);
  ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, d, 0), 1000);
  p.run_for(Duration::ms(1000));
  ASSERT_EQ(c->backoff, 2u);
  const uint32_t rto_backed_off = c->rto_jiffies;
  send_host_unreachable(p, *c, c->snd_una + 100);  // in the window, not snd_una
  p.run_for(Duration::ms(1));
  EXPECT_EQ(c->backoff, 2u);
  EXPECT_EQ(c->rto_jiffies, rto_backed_off);
  send_host_unreachable(p, *c, c->snd_una);
  p.run_for(Duration::ms(1));
  EXPECT_EQ(c->backoff, 1u);
  EXPECT_EQ(c->rto_jiffies, rto_backed_off / 2);
  p.run_for(Duration::ms(600));
  const auto t = times_of(p, [](const wire::TcpRepr& r) { return r.payload_len == 1000; });
  std::vector<double> at_ms;  // from the first transmission
  for (const Instant x : t) at_ms.push_back(static_cast<double>((x - t.front()).ps()) / 1e9);
  ASSERT_GE(at_ms.size(), 5u);  // the first, the probe, two RTOs, the reverted one
  EXPECT_NEAR(at_ms[3] - at_ms[2], 412, 36);
  EXPECT_GT(at_ms[4], 1150);
  EXPECT_LT(at_ms[4], 1300);  // ~824 + 408; ~1640 without the revert
  EXPECT_EQ(c->err_soft, kEHOSTUNREACH);
}

// tcp_ack clears sk_err_soft: an ACK after the ICMP error means the path works again, and a
// later timeout would say ETIMEDOUT. An ICMP error quoting a sequence number outside the window
// is ignored (OutOfWindowIcmps).
TEST(TcpLoss, AnAckClearsTheSoftErrorAndAnOutOfWindowIcmpIsIgnored) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  send_host_unreachable(p, *c, c->snd_una + 100000);
  p.run_for(Duration::ms(1));
  EXPECT_EQ(c->err_soft, 0);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::OutOfWindowIcmps], 1u);
  send_host_unreachable(p, *c, c->snd_una);
  p.run_for(Duration::ms(1));
  EXPECT_EQ(c->err_soft, kEHOSTUNREACH);
  const std::vector<uint8_t> d = pattern(64 * 1024, 25);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(200));
  EXPECT_EQ(got.size(), d.size());
  EXPECT_EQ(c->err_soft, 0);
  EXPECT_EQ(c->err, 0);
}

// ------------------------------------------------------------------------------ SACK and RACK (RFC 8985)

// Three holes in one window (segments 3, 6 and 9 of a 40-segment write lost once): the receiver's
// SACK blocks let RACK mark exactly those lost; one SACK recovery, three fast retransmissions, no
// timeout, and every byte arrives.
TEST(TcpLoss, SackRecoveryOfSeveralHoles) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  std::map<uint32_t, int> seen;
  const uint32_t base = c->snd_nxt;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    if (!r || r->payload_len == 0) return false;
    const uint32_t k = (r->seq - base) / 1448;
    return (k == 3 || k == 6 || k == 9) && seen[r->seq]++ == 0;
  };
  const std::vector<uint8_t> d = pattern(40 * 1448, 4);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(1000));
  EXPECT_TRUE(got == d);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 3u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPSackRecovery], 1u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPFastRetrans], 3u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPTimeouts], 0u);
  EXPECT_GE(p.tcp_b.ext()[LinuxMib::TCPOFOQueue], 3u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPFullUndo], 0u);  // the losses were real
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPDSACKRecv], 0u);
  if (std::getenv("VNIC_PRINT") != nullptr) std::printf("%s", p.tcp_a.netstat_st().c_str());
}

// A tail loss (the last segment of a write lost once): the loss probe (TLP, after about two RTTs
// plus TCP_TIMEOUT_MIN, well before the RTO) sends it again; no timeout.
TEST(TcpLoss, TailLossRepairedByProbe) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  const uint32_t base = c->snd_nxt;
  int hits = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    return r && r->payload_len > 0 && r->seq == base + 4 * 1448 && hits++ == 0;
  };
  const std::vector<uint8_t> d = pattern(5 * 1448, 5);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(1000));
  EXPECT_TRUE(got == d);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPLossProbes], 1u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPTimeouts], 0u);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 1u);
}

// ------------------------------------------------------------------------------ windows

// A reader that does not read: the window closes (the receiver advertises 0), the sender's persist
// timer sends window probes with backoff; once the reader drains, the transfer completes.
TEST(TcpWindow, ZeroWindowProbesThenRecovery) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  const std::vector<uint8_t> d = pattern(400000, 6);
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data) -> Co<void> {
    (void)co_await t.send(cpu, *sk, data);
  }(p.tcp_a, p.a.cpu, c, d));
  p.run_for(Duration::ms(3000));
  EXPECT_GT(p.tcp_b.ext()[LinuxMib::TCPToZeroWindowAdv], 0u);
  EXPECT_GT(p.tcp_a.ext()[LinuxMib::TCPWinProbe], 1u);
  EXPECT_EQ(c->snd_wnd, 0u);
  std::vector<uint8_t> got;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, std::size_t want) -> Co<void> {
    std::vector<uint8_t> buf(65536);
    while (into.size() < want) {
      const int r = co_await t.recv(cpu, *sk, buf);
      if (r <= 0) co_return;
      into.insert(into.end(), buf.begin(), buf.begin() + r);
    }
  }(p.tcp_b, p.b.cpu, s, got, d.size()));
  p.run_for(Duration::ms(30000));
  EXPECT_TRUE(got == d);
}

// Sequence numbers that wrap (RFC 9293 3.4): a send starting 100000 bytes below 2^32 crosses it.
TEST(TcpData, SequenceNumbersWrap) {
  TcpPair p;
  TcpSock* l = p.tcp_b.socket();
  ASSERT_EQ(p.tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
  ASSERT_EQ(p.tcp_b.listen(*l, 4), 0);
  TcpSock* c = p.tcp_a.socket();
  c->isn_request = 0xFFFFFFFFu - 100000;
  ASSERT_EQ(p.tcp_a.connect(p.a.cpu, *c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
  p.run_for(Duration::ms(5));
  TcpSock* s = p.tcp_b.accept(*l);
  ASSERT_NE(s, nullptr);
  const std::vector<uint8_t> d = pattern(300000, 7);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(2000));
  EXPECT_TRUE(got == d);
  EXPECT_LT(c->snd_una, 300000u);  // wrapped past 0
}

// ------------------------------------------------------------------------------ resets (RFC 5961 3)

// A RST whose sequence number is in the window but not rcv_nxt gets a challenge ACK and changes
// nothing; one at rcv_nxt resets the connection (ECONNRESET, EstabResets).
TEST(TcpReset, InWindowRstChallengedExactRstResets) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  // forge RSTs from a to b through a's own device path: build them as the peer would
  auto forge = [&](uint32_t seq) {
    wire::TcpRepr r;
    r.src_port = c->num;
    r.dst_port = 5001;
    r.seq = seq;
    r.flags = wire::kTcpRst;
    SkBuff* skb = p.a.net->alloc_skb(p.a.cpu, 20);
    ASSERT_NE(skb, nullptr);
    r.emit(skb->bytes(), ip4("10.0.0.1"), ip4("10.0.0.2"));
    NetStack::IpSend ip;
    ip.daddr = ip4("10.0.0.2");
    ip.protocol = 6;
    (void)p.a.net->ip_send(p.a.cpu, skb, ip);
  };
  forge(s->rcv_nxt + 1000);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(s->tstate, TcpState::Established);
  EXPECT_EQ(p.tcp_b.ext()[LinuxMib::TCPChallengeACK], 1u);
  forge(s->rcv_nxt);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(s->tstate, TcpState::Close);
  EXPECT_EQ(s->err, kECONNRESET);
  EXPECT_EQ(p.tcp_b.mib().EstabResets, 1u);
  // the reader sees the reset once, then the end of the stream
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(p.tcp_b.recvmsg(p.b.cpu, *s, buf, 0), -kECONNRESET);
  EXPECT_EQ(p.tcp_b.recvmsg(p.b.cpu, *s, buf, 0), 0);
}

// A SYN on an established connection (RFC 5961 4): a challenge ACK, TCPSYNChallenge, no reset.
TEST(TcpReset, SynOnEstablishedGetsChallengeAck) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  wire::TcpRepr r;
  r.src_port = c->num;
  r.dst_port = 5001;
  r.seq = s->rcv_nxt + 10;
  r.flags = wire::kTcpSyn;
  SkBuff* skb = p.a.net->alloc_skb(p.a.cpu, 20);
  ASSERT_NE(skb, nullptr);
  r.emit(skb->bytes(), ip4("10.0.0.1"), ip4("10.0.0.2"));
  NetStack::IpSend ip;
  ip.daddr = ip4("10.0.0.2");
  ip.protocol = 6;
  (void)p.a.net->ip_send(p.a.cpu, skb, ip);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(s->tstate, TcpState::Established);
  EXPECT_EQ(p.tcp_b.ext()[LinuxMib::TCPSYNChallenge], 1u);
}

// Closing with unread data sends RST (RFC 2525 2.17, TCPAbortOnClose) and the peer sees ECONNRESET.
TEST(TcpReset, CloseWithUnreadDataAborts) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  const std::vector<uint8_t> d = pattern(1000, 8);
  EXPECT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, d, 0), 1000);
  p.run_for(Duration::ms(5));
  p.tcp_b.close(s);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(p.tcp_b.ext()[LinuxMib::TCPAbortOnClose], 1u);
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_EQ(c->err, kECONNRESET);
}

// Simultaneous close (RFC 9293 3.6 case 2): both FIN-WAIT-1 -> CLOSING -> TIME-WAIT.
TEST(TcpClose, SimultaneousCloseBothTimeWait) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.tcp_a.shutdown(p.a.cpu, *c, 1);
  p.tcp_b.shutdown(p.b.cpu, *s, 1);
  p.run_for(Duration::ms(50));
  EXPECT_EQ(p.tcp_a.time_wait_count(), 1u);
  EXPECT_EQ(p.tcp_b.time_wait_count(), 1u);
}


// ------------------------------------------------------------------------------ journeys

struct Step {
  std::string source, step, kind;
  bool operator==(const Step&) const = default;
};
using testing::expect_account;
using testing::journey;

// One segment from send() to the reader's recv(): egress 1-4 in tcp_sendmsg/tcp_transmit_skb, the
// IP layer, then on the reader ingress 19-24: tcp_v4_rcv, the lookup, the state machine, the
// receive queue, the wake-up, the read and the end.
TEST(TcpJourney, OneSegmentFromSendToRecv) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  testing::RecordingSink sink;
  p.trace_to(sink);
  const std::vector<uint8_t> d = pattern(1000, 9);
  std::vector<uint8_t> got;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into) -> Co<void> {
    std::vector<uint8_t> buf(4096);
    const int r = co_await t.recv(cpu, *sk, buf);
    if (r > 0) into.assign(buf.begin(), buf.begin() + r);
  }(p.tcp_b, p.b.cpu, s, got));
  p.run_for(Duration::ms(1));
  ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, d, 0), 1000);
  p.run_for(Duration::ms(300));
  ASSERT_TRUE(got == d);
  uint64_t id = 0;
  for (const auto& r : sink.events) {
    if (r.e.kind == TraceKind::AppRecv) id = r.e.packet;
  }
  ASSERT_NE(id, 0u);
  EXPECT_EQ(journey(sink, id),
            (std::vector<std::string>{
                "host_a egress:2 packet.made", "host_a egress:1 sock.sendmsg", "host_a egress:3 sock.wmem",
                "host_a egress:4 l4.header", "host_a egress:5 ip.send", "host_a egress:6 ip.header",
                "host_a egress:7 ip_route_output", "host_a egress:8 ip_output", "host_a - neigh_output",
                "host_a egress:10 dev_queue_xmit", "host_a egress:11 qdisc.enqueue",
                "host_b ingress:13 netif_receive_skb_core", "host_b ingress:15 ip_rcv",
                "host_b ingress:17 ip_route_input", "host_b ingress:18 ip_local_deliver",
                "host_b ingress:19 ip_protocol_deliver", "host_b ingress:20 sock.lookup", "host_b ingress:21 tcp.input",
                "host_b ingress:22 sock.queue", "host_b ingress:23 sock.wake", "host_b ingress:24 app.recvmsg",
                "host_b ingress:24 consumed"}));
  std::set<uint64_t> none;
  expect_account(sink, none);
}

// A retransmitted segment is a new packet: the original's id ends where it was lost, the
// retransmission's first event is tcp.retransmit (egress 2) naming the original, and it is the
// one the reader reads.
TEST(TcpJourney, RetransmittedSegmentIsANewPacket) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  testing::RecordingSink sink;
  p.trace_to(sink);
  std::set<uint64_t> lost;
  const uint32_t base = c->snd_nxt;
  int hits = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    if (r && r->payload_len > 0 && r->seq == base + 1448 && hits++ == 0) {
      lost.insert(p.a.dev.last_id);
      return true;
    }
    return false;
  };
  const std::vector<uint8_t> d = pattern(6 * 1448, 10);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(1000));
  ASSERT_TRUE(got == d);
  ASSERT_EQ(lost.size(), 1u);
  const uint64_t orig = *lost.begin();
  uint64_t re = 0;
  for (const auto& r : sink.events) {
    if (r.e.kind == TraceKind::TcpRetransmit && r.e.b == orig) re = r.e.packet;
  }
  ASSERT_NE(re, 0u);
  const auto j = journey(sink, re);
  ASSERT_FALSE(j.empty());
  EXPECT_EQ(j.front(), "host_a egress:2 tcp.retransmit");
  EXPECT_EQ(j.back(), "host_b ingress:24 consumed");
  EXPECT_NE(std::find(j.begin(), j.end(), "host_b ingress:24 app.recvmsg"), j.end());
  expect_account(sink, lost);
}

// The per-packet account of a whole connection with loss: handshake, 200 KiB each way with every
// 37th data frame lost once, close and TIME-WAIT; every packet ends once (or was lost on the wire).
TEST(TcpJourney, EveryPacketOfALossyConnectionEndsOnce) {
  TcpPair p;
  testing::RecordingSink sink;
  p.trace_to(sink);
  std::set<uint64_t> lost;
  std::map<uint32_t, int> seen_a, seen_b;
  int n = 0;
  auto rule = [&](testing::WireNetDevice& dev, std::map<uint32_t, int>& seen) {
    return [&dev, &seen, &lost, &n](std::span<const uint8_t> f) {
      auto r = tcp_of(f);
      if (!r || r->payload_len == 0) return false;
      if (++n % 37 == 0 && seen[r->seq]++ == 0) {
        lost.insert(dev.last_id);
        return true;
      }
      return false;
    };
  };
  p.a.dev.drop_if = rule(p.a.dev, seen_a);
  p.b.dev.drop_if = rule(p.b.dev, seen_b);
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  TwoStreams x;
  exchange_both_ways(p, c, s, 11, x);
  EXPECT_GT(lost.size(), 5u);
  p.close_both(c, s);
  EXPECT_EQ(p.tcp_a.time_wait_count() + p.tcp_b.time_wait_count(), 0u);
  expect_account(sink, lost);
}


// The Drop events tcp_write_queue_purge gave (egress 3, NOT_SPECIFIED, tcp.write_queue_purged).
std::vector<uint64_t> purged_ids(const testing::RecordingSink& sink) {
  std::vector<uint64_t> v;
  for (const auto& r : sink.events) {
    if (r.e.kind != TraceKind::Drop || r.e.b != model::host_drop(model::HostDrop::TcpWriteQueuePurged)) continue;
    EXPECT_EQ(r.e.step, model::egress(3));
    EXPECT_EQ(r.e.a, static_cast<uint32_t>(SkbDropReason::NotSpecified));
    v.push_back(r.e.packet);
  }
  return v;
}

// A retransmission cut smaller than its first transmission: a holds b's data out of order (b's
// 10th data segment lost three times), so every segment a sends carries SACK blocks and
// tcp_current_mss is below the MSS a's first transmissions used; a's own lost segment (its 20th)
// goes again in two parts (tcp_fragment on the retransmit queue). Both parts first went out in one
// packet, whose journey ended on the wire: the tail makes no new packet that would never be sent
// or end, and the whole connection's account holds.
TEST(TcpJourney, ARetransmissionCutByTheSackOptionsMakesNoPacketThatNeverEnds) {
  TcpPair p;
  testing::RecordingSink sink;
  p.trace_to(sink);
  std::set<uint64_t> lost;
  int a_data = 0, b_data = 0, b_losses = 0;
  uint32_t a_lost_seq = 0, b_lost_seq = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    const auto r = tcp_of(f);
    if (!r || r->payload_len == 0 || ++a_data != 20) return false;
    a_lost_seq = r->seq;
    lost.insert(p.a.dev.last_id);
    return true;
  };
  p.b.dev.drop_if = [&](std::span<const uint8_t> f) {
    const auto r = tcp_of(f);
    if (!r || r->payload_len == 0) return false;
    if (++b_data == 10) b_lost_seq = r->seq;
    if (b_data < 10 || r->seq != b_lost_seq || b_losses == 3) return false;
    ++b_losses;
    lost.insert(p.b.dev.last_id);
    return true;
  };
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  TwoStreams x;
  exchange_both_ways(p, c, s, 31, x);
  ASSERT_NE(a_lost_seq, 0u);
  EXPECT_EQ(b_losses, 3);
  // a's segment at the hole went again shorter than the first time: the retransmission was cut
  std::vector<uint16_t> lens;
  for (const auto& r : p.sent_by(p.a)) {
    if (r.seq == a_lost_seq && r.payload_len > 0) lens.push_back(r.payload_len);
  }
  ASSERT_GE(lens.size(), 2u);
  EXPECT_LT(lens[1], lens[0]);
  p.close_both(c, s);
  expect_account(sink, lost);
}

// A first transmission that finds no skb (host memory exhausted: tcp_transmit_skb fails before
// anything was built) sent nothing: its segments keep their packet ids for the next try,
// which goes when memory is back, and every packet still ends once.
TEST(TcpJourney, ATransmitWithNoSkbKeepsItsSegmentsIds) {
  TcpPair p;
  testing::RecordingSink sink;
  p.trace_to(sink);
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.a.mem.fail_after(0);
  const std::vector<uint8_t> d = pattern(64 * 1024, 33);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(1));
  EXPECT_GT(p.tcp_a.stats().pool_empty, 0u);
  EXPECT_TRUE(got.empty());
  p.a.mem.fail_after(-1);
  p.run_for(Duration::ms(3000));  // the next try: a probe timer, or the ACK of what got through
  EXPECT_TRUE(got == d);
  p.close_both(c, s);
  expect_account(sink, {});
}

// setsockopt(SO_SNDBUF) on TCP calls sk_stream_write_space (TCP's sk_write_space): a writer
// blocked on a full send buffer wakes when the new size leaves room in sk_wmem_queued, even while
// the qdisc holds most of those bytes (sock_def_write_space would test sk_wmem_alloc and keep it
// asleep). The device is stopped, so nothing else can wake it.
TEST(TcpSend, RaisingTheSendBufferWakesABlockedWriterWhileTheQdiscHoldsItsBytes) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  // a window's worth first, so that a's cwnd lets a whole send buffer into the qdisc
  const std::vector<uint8_t> warm = pattern(2 * 1024 * 1024, 35);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, warm, got);
  p.run_for(Duration::ms(300));
  ASSERT_EQ(got.size(), warm.size());
  ASSERT_GT(c->snd_cwnd, 100u);
  p.a.dev.netif_tx_stop_queue();
  p.tcp_a.set_sndbuf(*c, 64 * 1024);  // 131072
  const std::vector<uint8_t> d = pattern(1024 * 1024, 34);
  int sent = 0;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data, int& out) -> Co<void> {
    out = co_await t.send(cpu, *sk, data);
  }(p.tcp_a, p.a.cpu, c, d, sent));
  p.run_for(Duration::ms(5));
  ASSERT_TRUE(c->nospace);  // the writer waits
  const uint32_t queued = c->wmem_queued, in_qdisc = c->wmem_alloc;
  // A size with room by sk_stream_write_space's test (free >= half of what is queued) but not by
  // sock_def_write_space's (2 * sk_wmem_alloc <= sk_sndbuf)
  const uint32_t want = queued + queued / 2 + 2;
  ASSERT_LT(want, 2 * in_qdisc) << "queued " << queued << ", in the qdisc " << in_qdisc;
  p.tcp_a.set_sndbuf(*c, static_cast<int>(want / 2 + 1));
  EXPECT_FALSE(c->nospace);
  p.run_for(Duration::ms(1));
  EXPECT_GT(c->wmem_queued, queued);  // the writer ran and queued more
  EXPECT_EQ(sent, 0);                 // still blocked on the rest of its megabyte
}

// A connected pair traced into one sink, every frame a sends after the handshake lost (its id kept
// in `lost`).
struct TracedLossyPair {
  TcpPair p;
  testing::RecordingSink sink;
  TcpSock* c = nullptr;
  TcpSock* s = nullptr;
  std::set<uint64_t> lost;
  TracedLossyPair() {
    p.trace_to(sink);
    std::tie(c, s) = p.connect_pair();
    p.a.dev.drop_if = [this](std::span<const uint8_t>) {
      lost.insert(p.a.dev.last_id);
      return true;
    };
  }
  // The segments tcp_write_queue_purge ended: some, as many as the stats say, none of them ever on
  // the wire, each made, written and charged and then dropped there; and the account holds.
  std::vector<uint64_t> expect_purged() {
    const std::vector<uint64_t> purged = purged_ids(sink);
    EXPECT_FALSE(purged.empty());
    EXPECT_EQ(purged.size(), p.tcp_a.stats().write_queue_purged);
    for (uint64_t id : purged) {
      EXPECT_EQ(lost.count(id), 0u) << std::hex << id;
      const auto j = journey(sink, id);
      EXPECT_FALSE(j.empty()) << std::hex << id;
      if (j.empty()) continue;
      EXPECT_EQ(j.front(), "host_a egress:2 packet.made");
      EXPECT_EQ(j.back(), "host_a egress:3 drop");
    }
    expect_account(sink, lost);
    return purged;
  }
};

// A write far over the send buffer, every frame lost: the connection times out (tcp_retries2 3) and
// tcp_write_err purges the write queue. The segments never sent end there, each once, as
// tcp.write_queue_purged drops (no wire event); the sent ones ended on the wire, their
// retransmissions too. Closing the socket after ends nothing more.
TEST(TcpJourney, UnsentSegmentsEndWhenTheTimeoutPurgesTheWriteQueue) {
  TracedLossyPair t;
  TcpPair& p = t.p;
  ASSERT_NE(t.s, nullptr);
  p.tcp_a.sysctls().tcp_retries2 = 3;
  const std::vector<uint8_t> d = pattern(1024 * 1024, 22);
  int sent = 0;
  p.tasks.spawn([](Tcp& tcp, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data, int& out) -> Co<void> {
    out = co_await tcp.send(cpu, *sk, data);
  }(p.tcp_a, p.a.cpu, t.c, d, sent));
  p.run_for(Duration::ms(20000));
  ASSERT_EQ(t.c->tstate, TcpState::Close);
  EXPECT_GT(sent, 0);
  const std::vector<uint64_t> purged = t.expect_purged();
  p.tcp_a.close(t.c);
  p.run_for(Duration::ms(10));
  EXPECT_EQ(purged_ids(t.sink).size(), purged.size());
  expect_account(t.sink, t.lost);
}

// tcp_reset purges the write queue too: a RST (exact sequence) while a's data waits for a window
// the lost frames never open; its unsent segments end as tcp.write_queue_purged drops, the
// blocked write returns its bytes and the next one ECONNRESET.
TEST(TcpJourney, UnsentSegmentsEndWhenAResetPurgesTheWriteQueue) {
  TracedLossyPair t;
  TcpPair& p = t.p;
  ASSERT_NE(t.s, nullptr);
  TcpSock* c = t.c;
  const std::vector<uint8_t> d = pattern(1024 * 1024, 23);
  int first = 0, second = 0;
  p.tasks.spawn([](Tcp& tcp, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data, int& r1, int& r2) -> Co<void> {
    r1 = co_await tcp.send(cpu, *sk, data);
    r2 = co_await tcp.send(cpu, *sk, data);
  }(p.tcp_a, p.a.cpu, c, d, first, second));
  p.run_for(Duration::ms(50));
  ASSERT_EQ(c->tstate, TcpState::Established);
  ASSERT_FALSE(c->wqueue.empty());
  p.forge(p.b, 5001, c->num, c->rcv_nxt, 0, wire::kTcpRst);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_GT(first, 0);
  EXPECT_EQ(second, -kECONNRESET);
  EXPECT_TRUE(c->wqueue.empty());
  EXPECT_TRUE(c->rtx.empty());
  t.expect_purged();
}


// ------------------------------------------------------------------------------ ACKs, Nagle, cork

// Delayed ACKs with Linux's quick-ack start: the first segments of a connection are ACKed at once
// (icsk_ack.quick = min(rcv_wnd / (2 * rcv_mss), 16)), later ones after the delayed-ACK timer
// (ato TCP_ATO_MIN = 40 ms, fired on the next tick: 40-48 ms), each counted in DelayedACKs. The
// reader does not read (a read that empties the queue would ACK at once, tcp_cleanup_rbuf).
TEST(TcpAck, QuickAcksThenDelayedAcks) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.tcp_a.set_nodelay(p.a.cpu, *c, true);
  const std::size_t n_before = p.b.dev.sent.size();
  for (int i = 0; i < 24; ++i) {
    const std::vector<uint8_t> d = pattern(100, static_cast<uint32_t>(100 + i));
    ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, d, 0), 100);
    p.run_for(Duration::ms(100));
  }
  // b's ACKs in order, with the delay from the data they acknowledge
  std::vector<double> delays_ms;
  const auto ad = p.sent_by(p.a);
  for (std::size_t i = n_before; i < p.b.dev.sent.size(); ++i) {
    auto r = TcpPair::parse(p.b.dev.sent[i]);
    if (!r || r->payload_len != 0) continue;
    // the data segment this ACK covers last: its time on a
    for (std::size_t k = 0; k < p.a.dev.sent.size(); ++k) {
      auto q = TcpPair::parse(p.a.dev.sent[k]);
      if (q && q->payload_len == 100 && q->seq + 100 == r->ack) {
        delays_ms.push_back(static_cast<double>((p.b.dev.sent_at[i] - p.a.dev.sent_at[k]).ps()) / 1e9);
      }
    }
  }
  ASSERT_EQ(delays_ms.size(), 24u);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_LT(delays_ms[i], 1.0) << i;
  for (std::size_t i = 16; i < 24; ++i) {
    EXPECT_GE(delays_ms[i], 40.0) << i;
    EXPECT_LE(delays_ms[i], 48.0) << i;
  }
  EXPECT_EQ(p.tcp_b.ext()[LinuxMib::DelayedACKs], 8u);
}

// TCP_CORK holds partial segments until uncorked (then one segment of all of them); MSG_MORE does
// the same for one call.
TEST(TcpNagle, CorkCoalescesUntilUncork) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.tcp_a.set_cork(p.a.cpu, *c, true);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(100, 20 + i), 0), 100);
  p.run_for(Duration::ms(50));
  auto data_segments = [&]() {
    std::vector<uint16_t> v;
    for (const auto& r : p.sent_by(p.a)) {
      if (r.payload_len > 0) v.push_back(r.payload_len);
    }
    return v;
  };
  EXPECT_TRUE(data_segments().empty());
  p.tcp_a.set_cork(p.a.cpu, *c, false);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(data_segments(), (std::vector<uint16_t>{300}));
  ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(50, 30), kMsgMore), 50);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(data_segments().size(), 1u);
  ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(50, 31), 0), 50);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(data_segments(), (std::vector<uint16_t>{300, 100}));
}

// NewReno (RFC 6582) when the receiver does not do SACK: one lost segment repaired by the
// duplicate-ACK threshold (tcp_reordering 3), counted as a Reno recovery.
TEST(TcpLoss, NewRenoWithoutSack) {
  TcpPair p;
  p.tcp_b.sysctls().tcp_sack = false;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(c->sack_ok);
  const uint32_t base = c->snd_nxt;
  int hits = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    auto r = tcp_of(f);
    return r && r->payload_len > 0 && r->seq == base + 2 * 1448 && hits++ == 0;
  };
  const std::vector<uint8_t> d = pattern(30 * 1448, 13);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(2000));
  EXPECT_TRUE(got == d);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPRenoRecovery], 1u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPSackRecovery], 0u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPTimeouts], 0u);
  EXPECT_EQ(p.tcp_a.mib().RetransSegs, 1u);
}

// Keepalive (RFC 9293 3.8.4, Linux's knobs): idle 10 s, interval 2 s, 3 probes; with the peer gone
// the probes leave at about 10, 12 and 14 s and at 16 s the connection is reset (ETIMEDOUT).
TEST(TcpKeepalive, ProbesThenTimeout) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  p.tcp_a.set_keepalive(*c, true, 10, 2, 3);
  p.a.dev.cut = true;
  const Instant t0 = p.now();
  p.run_for(Duration::ms(20000));
  std::vector<double> probes;
  for (std::size_t i = 0; i < p.a.dev.sent.size(); ++i) {
    auto r = TcpPair::parse(p.a.dev.sent[i]);
    if (r && r->flags == wire::kTcpAck && r->payload_len == 0 && r->seq == c->snd_nxt - 1) {
      probes.push_back(static_cast<double>((p.a.dev.sent_at[i] - t0).ps()) / 1e12);
    }
  }
  ASSERT_EQ(probes.size(), 3u);
  EXPECT_NEAR(probes[0], 10.1, 0.3);
  EXPECT_NEAR(probes[1], 12.1, 0.3);
  EXPECT_NEAR(probes[2], 14.1, 0.3);
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_EQ(c->err, kETIMEDOUT);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPKeepAlive], 3u);
}

// Receive-buffer auto-tuning (tcp_rcv_space_adjust): a prompt reader of 4 MiB sees sk_rcvbuf grow
// from tcp_rmem[1] (131072) and never past tcp_rmem[2]; SO_RCVBUF locks it.
TEST(TcpBuffers, ReceiveBufferGrowsWithinTcpRmem) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->rcvbuf, 131072u);
  const std::vector<uint8_t> d = pattern(4 << 20, 14);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(3000));
  EXPECT_TRUE(got == d);
  EXPECT_GT(s->rcvbuf, 131072u);
  EXPECT_LE(s->rcvbuf, 6291456u);
  EXPECT_GT(c->sndbuf, 16384u);  // tcp_sndbuf_expand: room for twice the window
}

// A writer blocked on a full send buffer (sk_stream_wait_memory) is woken by TCP's
// sk_write_space, sk_stream_write_space, once ACKs leave free space of at least half of what is
// queued (sk_wmem_queued), however many of the socket's skbs the qdisc and the device still hold
// (sk_wmem_alloc: sock_def_write_space's test, which is not TCP's). One segment an skb
// (sk_gso_max_segs 1) and a device that sends a frame every 1.2 us keep more than half the
// buffer in the qdisc when those ACKs come.
struct TcpBuffersWake {
  static void wake(void* ctx, uint64_t) { static_cast<testing::WireNetDevice*>(ctx)->netif_tx_wake_queue(); }
};

TEST(TcpBuffers, BlockedWriterWokenWhileTheQdiscHoldsHalfTheSendBuffer) {
  TcpPair p;
  p.a.dev.gso_max_segs = 0;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  uint32_t peak_alloc = 0, peak_sndbuf = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t>) {
    if (c->wmem_alloc > peak_alloc) {
      peak_alloc = c->wmem_alloc;
      peak_sndbuf = c->sndbuf;
    }
    p.a.dev.netif_tx_stop_queue();
    (void)p.a.cpu.call_at(p.a.cpu.now() + Duration::ns(1200), &TcpBuffersWake::wake, &p.a.dev, 0);
    return false;
  };
  const std::vector<uint8_t> d = pattern(2 << 20, 15);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
  p.run_for(Duration::ms(1000));
  EXPECT_GT(uint64_t{peak_alloc} * 2, peak_sndbuf);  // the case: the qdisc held over half the buffer
  ASSERT_EQ(got.size(), d.size());
  EXPECT_TRUE(got == d);
  EXPECT_EQ(c->bytes_acked, uint64_t{d.size()} + 1);
  EXPECT_EQ(c->wmem_queued, 0u);
  EXPECT_FALSE(c->nospace);
  EXPECT_EQ(p.a.net->tx(0).stats().gso_skbs, 0u);  // one segment an skb
}

// A listener's accept queue: with backlog 1, a third handshake overflows (ListenOverflows,
// ListenDrops); accepting makes room and the waiting client gets in from its retransmission.
TEST(TcpListen, BacklogOverflowThenRoom) {
  TcpPair p;
  TcpSock* l = p.tcp_b.socket();
  ASSERT_EQ(p.tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
  ASSERT_EQ(p.tcp_b.listen(*l, 1), 0);
  std::vector<TcpSock*> cs;
  for (int i = 0; i < 3; ++i) {
    cs.push_back(p.tcp_a.socket());
    ASSERT_EQ(p.tcp_a.connect(p.a.cpu, *cs.back(), {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    p.run_for(Duration::ms(5));
  }
  EXPECT_GT(p.tcp_b.ext()[LinuxMib::ListenOverflows], 0u);
  EXPECT_GT(p.tcp_b.ext()[LinuxMib::ListenDrops], 0u);
  int accepted = 0;
  while (p.tcp_b.accept(*l) != nullptr) ++accepted;
  EXPECT_EQ(accepted, 2);
  p.run_for(Duration::ms(5000));
  while (p.tcp_b.accept(*l) != nullptr) ++accepted;
  EXPECT_EQ(accepted, 3);
}

// Two identical runs print the same ss -tin and the same counters (determinism).
TEST(TcpData, SameRunSameReport) {
  auto run = []() {
    TcpPair p;
    auto [c, s] = p.connect_pair();
    int n = 0;
    p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
      auto r = tcp_of(f);
      return r && r->payload_len > 0 && ++n % 29 == 0;
    };
    const std::vector<uint8_t> d = pattern(300000, 15);
    std::vector<uint8_t> got;
    transfer(p, p.tcp_a, p.a.cpu, c, p.tcp_b, p.b.cpu, s, d, got);
    p.run_for(Duration::ms(3000));
    return p.tcp_a.ss_tin() + p.tcp_b.ss_tin() + p.tcp_a.netstat_st() + p.tcp_b.proc_net_snmp_tcp();
  };
  const std::string one = run(), two = run();
  if (std::getenv("VNIC_PRINT") != nullptr) std::printf("%s", one.c_str());
  EXPECT_EQ(one, two);
  EXPECT_NE(one.find("\t ts sack cubic wscale:7,7 rto:204 rtt:"), std::string::npos) << one;
}


// ------------------------------------------------------------------------------ hostile peers

// The socket's bookkeeping agrees with its queues (what tcp_verify_left_out and the memory
// accounting would catch).
void expect_consistent(const TcpSock& sk) {
  EXPECT_EQ(sk.packets_out, sk.rtx.size());
  EXPECT_LE(sk.sacked_out + sk.lost_out, sk.packets_out);
  EXPECT_LE(sk.retrans_out, sk.packets_out);
  uint32_t rmem = 0;
  for (const auto& r : sk.rcvq) rmem += r.skb->truesize;
  for (const auto& r : sk.ofo) rmem += r.skb->truesize;
  EXPECT_EQ(rmem, sk.rmem_alloc);
  EXPECT_FALSE(wire::seq_after(sk.snd_una, sk.snd_nxt));
}

// 20000 seeded hostile segments at a listener and at an established connection (random flags,
// sequence and acknowledgment numbers near and far from the window, random option bytes, lengths
// up to the MSS): nothing crashes, every segment ends once in a named counter or is consumed, the
// sockets' books stay consistent, and a new connection afterwards moves its bytes.
TEST(TcpHostile, RandomSegmentsNeverBreakTheStack) {
  TcpPair p;
  testing::RecordingSink sink;
  p.trace_to(sink);
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto rnd = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const uint16_t cport = c->num;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t r = rnd();
    const uint16_t dport = (r & 3) == 0 ? static_cast<uint16_t>(rnd()) : 5001;
    const uint16_t sport = (r & 12) == 0 ? static_cast<uint16_t>(rnd()) : cport;
    const uint32_t near_seq = s->rcv_nxt + static_cast<uint32_t>(static_cast<int32_t>(rnd() % 200000) - 100000);
    const uint32_t near_ack = s->snd_una + static_cast<uint32_t>(static_cast<int32_t>(rnd() % 200000) - 100000);
    const uint32_t seq = (r & 16) != 0 ? near_seq : static_cast<uint32_t>(rnd());
    const uint32_t ack = (r & 32) != 0 ? near_ack : static_cast<uint32_t>(rnd());
    const uint8_t flags = static_cast<uint8_t>(rnd());
    const std::size_t optlen = (rnd() % 11) * 4;
    const std::size_t plen = (r & 64) != 0 ? rnd() % 1400 : 0;
    const std::size_t len = 20 + optlen + plen;
    SkBuff* skb = p.a.net->alloc_skb(p.a.cpu, static_cast<uint32_t>(len));
    ASSERT_NE(skb, nullptr);
    std::span<uint8_t> b = skb->bytes();
    for (auto& byte : b) byte = static_cast<uint8_t>(rnd());
    wire::store_be16(b, 0, sport);
    wire::store_be16(b, 2, dport);
    wire::store_be32(b, 4, seq);
    wire::store_be32(b, 8, ack);
    b[12] = static_cast<uint8_t>(((20 + optlen) / 4) << 4);
    b[13] = flags;
    b[16] = b[17] = 0;
    const uint16_t sum = wire::tcp_checksum(ip4("10.0.0.1"), ip4("10.0.0.2"), b);
    if ((r & 128) == 0) wire::store_be16(b, 16, sum);  // one in two with a good checksum... of the zeroed field
    NetStack::IpSend ip;
    ip.daddr = ip4("10.0.0.2");
    ip.protocol = 6;
    (void)p.a.net->ip_send(p.a.cpu, skb, ip);
    if (i % 64 == 0) p.run_for(Duration::ms(1));
  }
  p.run_for(Duration::ms(100000));
  // the established socket is either still there and consistent or was reset
  if (s->tstate != TcpState::Close) expect_consistent(*s);
  if (c->tstate != TcpState::Close) expect_consistent(*c);
  EXPECT_GT(p.tcp_b.mib().InCsumErrors, 0u);
  // a new connection works
  TcpSock* c2 = p.tcp_a.socket();
  ASSERT_EQ(p.tcp_a.connect(p.a.cpu, *c2, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
  p.run_for(Duration::ms(5));
  TcpSock* s2 = nullptr;
  while (TcpSock* k = p.tcp_b.accept(*p.listener)) {
    if (k->dport == c2->num) s2 = k;
  }
  ASSERT_NE(s2, nullptr);
  const std::vector<uint8_t> d = pattern(100000, 16);
  std::vector<uint8_t> got;
  transfer(p, p.tcp_a, p.a.cpu, c2, p.tcp_b, p.b.cpu, s2, d, got);
  p.run_for(Duration::ms(2000));
  EXPECT_TRUE(got == d);
  expect_consistent(*c2);
  expect_consistent(*s2);
  // what the hostile data left queued ends when its sockets close
  for (TcpSock* k : {c, c2}) p.tcp_a.close(k);
  for (TcpSock* k : {s, s2}) p.tcp_b.close(k);
  p.run_for(Duration::ms(70000));
  std::set<uint64_t> none;
  expect_account(sink, none);
}


// ------------------------------------------------------------------------------ RST in each state

// RFC 9293 3.10.7.4 with RFC 5961 3.2: a RST at rcv_nxt ends the connection in every
// synchronized state with the errno Linux reports (ECONNRESET; EPIPE in CLOSE-WAIT, where
// rcv_nxt - 1 is accepted too); a TIME-WAIT socket is killed (RFC 1337 off); a request sock goes
// (EmbryonicRsts); in SYN-SENT a RST without an acceptable ACK is ignored.
TEST(TcpReset, RstInEachState) {
  {  // FIN-WAIT-2 (not orphaned: shutdown(SHUT_WR))
    TcpPair p;
    auto [c, s] = p.connect_pair();
    ASSERT_NE(s, nullptr);
    p.tcp_a.shutdown(p.a.cpu, *c, 1);
    p.run_for(Duration::ms(5));
    ASSERT_EQ(c->tstate, TcpState::FinWait2);
    p.forge(p.b, 5001, c->num, c->rcv_nxt, 0, wire::kTcpRst);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(c->tstate, TcpState::Close);
    EXPECT_EQ(c->err, kECONNRESET);
  }
  {  // CLOSE-WAIT: rcv_nxt - 1 (the FIN's) accepted, EPIPE
    TcpPair p;
    auto [c, s] = p.connect_pair();
    ASSERT_NE(s, nullptr);
    p.tcp_a.shutdown(p.a.cpu, *c, 1);
    p.run_for(Duration::ms(5));
    ASSERT_EQ(s->tstate, TcpState::CloseWait);
    p.forge(p.a, c->num, 5001, s->rcv_nxt - 1, 0, wire::kTcpRst);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(s->tstate, TcpState::Close);
    EXPECT_EQ(s->err, kEPIPE);
  }
  {  // FIN-WAIT-1 (the FIN lost on the way): an orphan, gone
    TcpPair p;
    auto [c, s] = p.connect_pair();
    ASSERT_NE(s, nullptr);
    const uint16_t port = c->num;
    const uint32_t rcv_nxt = c->rcv_nxt;
    p.a.dev.cut = true;
    p.tcp_a.close(c);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(p.tcp_a.size(), 1u);
    p.forge(p.b, 5001, port, rcv_nxt, 0, wire::kTcpRst);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(p.tcp_a.size(), 0u);
  }
  {  // TIME-WAIT: killed
    TcpPair p;
    auto [c, s] = p.connect_pair();
    ASSERT_NE(s, nullptr);
    const uint16_t port = c->num;
    p.tcp_a.close(c);
    p.run_for(Duration::ms(5));
    p.tcp_b.close(s);
    p.run_for(Duration::ms(5));
    ASSERT_EQ(p.tcp_a.time_wait_count(), 1u);
    uint32_t tw_rcv_nxt = 0;
    for (const auto& r : p.sent_by(p.b)) {
      if ((r.flags & wire::kTcpFin) != 0) tw_rcv_nxt = r.seq + 1;
    }
    p.forge(p.b, 5001, port, tw_rcv_nxt, 0, wire::kTcpRst);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(p.tcp_a.time_wait_count(), 0u);
  }
  {  // SYN-RECEIVED: the request sock goes, EmbryonicRsts
    TcpPair p;
    TcpSock* l = p.tcp_b.socket();
    ASSERT_EQ(p.tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    ASSERT_EQ(p.tcp_b.listen(*l, 4), 0);
    // a's own stack answers the SYN-ACK for port 40000 with a RST (no socket there): that one is
    // lost, so the RST below is the one the request sock sees
    int rsts = 0;
    p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
      auto r = tcp_of(f);
      return r && (r->flags & wire::kTcpRst) != 0 && rsts++ == 0;
    };
    p.forge(p.a, 40000, 5001, 1000, 0, wire::kTcpSyn);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(rsts, 1);
    EXPECT_EQ(p.tcp_b.size(), 2u);  // the listener and the request sock
    p.forge(p.a, 40000, 5001, 1001, 0, wire::kTcpRst);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(p.tcp_b.size(), 1u);
    EXPECT_EQ(p.tcp_b.ext()[LinuxMib::EmbryonicRsts], 1u);
  }
  {  // SYN-SENT: a RST with no ACK is ignored; the connection still opens
    TcpPair p;
    TcpSock* l = p.tcp_b.socket();
    ASSERT_EQ(p.tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    ASSERT_EQ(p.tcp_b.listen(*l, 4), 0);
    p.b.dev.cut = true;
    TcpSock* c = p.tcp_a.socket();
    ASSERT_EQ(p.tcp_a.connect(p.a.cpu, *c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    p.run_for(Duration::ms(5));
    p.b.dev.cut = false;
    p.forge(p.b, 5001, c->num, 777, 0, wire::kTcpRst);
    p.run_for(Duration::ms(5));
    EXPECT_EQ(c->tstate, TcpState::SynSent);
    p.run_for(Duration::ms(1100));
    EXPECT_EQ(c->tstate, TcpState::Established);
  }
}

// RFC 9293 3.10.7.4 first check: a segment outside the receive window is not accepted; a
// duplicate ACK goes back (tcp.out_of_window); old data gets a D-SACK (DelayedACKLost).
TEST(TcpWindow, OutOfWindowAndOldSegments) {
  TcpPair p;
  auto [c, s] = p.connect_pair();
  ASSERT_NE(s, nullptr);
  const std::size_t acks0 = p.sent_by(p.b).size();
  p.forge(p.a, c->num, 5001, s->rcv_nxt + 10'000'000, s->snd_nxt, wire::kTcpAck, 100);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(p.tcp_b.stats().out_of_window, 1u);
  const auto sb = p.sent_by(p.b);
  ASSERT_EQ(sb.size(), acks0 + 1);
  EXPECT_EQ(sb.back().ack, s->rcv_nxt);
  // a real byte stream, then an old copy of its first segment
  ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(500, 17), 0), 500);
  p.run_for(Duration::ms(5));
  p.forge(p.a, c->num, 5001, s->rcv_nxt - 500, s->snd_nxt, wire::kTcpAck, 500);
  p.run_for(Duration::ms(5));
  EXPECT_EQ(p.tcp_b.ext()[LinuxMib::DelayedACKLost], 1u);
  const auto last = p.sent_by(p.b).back();
  ASSERT_GE(last.options.num_sack, 1);
  EXPECT_EQ(last.options.sack[0].start, s->rcv_nxt - 500);  // the D-SACK block
  EXPECT_EQ(last.options.sack[0].end, s->rcv_nxt);
  // ... sent once: the next ACK carries no SACK block
  ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(100, 18), 0), 100);
  p.run_for(Duration::ms(100));
  EXPECT_EQ(p.sent_by(p.b).back().options.num_sack, 0);
}


// tcp_syn_retries: with no answer the SYN goes at 0, 1 and 3 s (the RTO doubling from 1 s) and
// with tcp_syn_retries 2 the connect gives up at 7 s with ETIMEDOUT (AttemptFails).
TEST(TcpLoss, SynRetriesThenTimeout) {
  TcpPair p;
  p.tcp_a.sysctls().tcp_syn_retries = 2;
  p.a.dev.cut = true;
  TcpSock* c = p.tcp_a.socket();
  int result = 1;
  p.tasks.spawn([](TcpPair& pr, TcpSock* sk, int& out) -> Co<void> {
    out = co_await pr.tcp_a.connect_wait(pr.a.cpu, *sk, {ip4("10.0.0.2"), 5001});
  }(p, c, result));
  p.run_for(Duration::ms(10000));
  EXPECT_EQ(result, -kETIMEDOUT);
  const auto t = times_of(p, [](const wire::TcpRepr& r) { return r.flags == wire::kTcpSyn; });
  ASSERT_EQ(t.size(), 3u);
  EXPECT_NEAR(static_cast<double>((t[1] - t[0]).ps()) / 1e12, 1.0, 0.04);
  EXPECT_NEAR(static_cast<double>((t[2] - t[0]).ps()) / 1e12, 3.0, 0.08);
  EXPECT_EQ(p.tcp_a.mib().AttemptFails, 1u);
  EXPECT_EQ(p.tcp_a.ext()[LinuxMib::TCPSynRetrans], 2u);
}

// tcp_synack_retries: a request sock whose SYN-ACKs are never answered sends 1 + 5 of them
// (1, 2, 4, 8, 16 s apart) and is gone after the last timeout (32 s later); the listener stays.
TEST(TcpLoss, SynAckRetriesThenTheRequestGoes) {
  TcpPair p;
  TcpSock* l = p.tcp_b.socket();
  ASSERT_EQ(p.tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
  ASSERT_EQ(p.tcp_b.listen(*l, 4), 0);
  p.b.dev.cut = true;
  p.forge(p.a, 40001, 5001, 5000, 0, wire::kTcpSyn);
  p.run_for(Duration::ms(10));
  EXPECT_EQ(p.tcp_b.size(), 2u);
  p.run_for(Duration::ms(70000));
  EXPECT_EQ(p.tcp_b.size(), 1u);
  std::size_t synacks = 0;
  for (const auto& f : p.b.dev.sent) {
    auto r = TcpPair::parse(f);
    if (r && r->flags == (wire::kTcpSyn | wire::kTcpAck)) ++synacks;
  }
  EXPECT_EQ(synacks, 6u);
}


// Nagle (RFC 896, tcp_nagle_check with Minshall's rule): a second small write waits while the
// first small segment is unacknowledged, and goes when its ACK arrives; with TCP_NODELAY both go at
// once.
TEST(TcpNagle, SmallWriteWaitsForTheAckUnlessNodelay) {
  for (const bool nodelay : {false, true}) {
    TcpPair p;
    auto [c, s] = p.connect_pair();
    ASSERT_NE(s, nullptr);
    if (nodelay) p.tcp_a.set_nodelay(p.a.cpu, *c, true);
    const std::size_t a0 = p.a.dev.sent.size(), b0 = p.b.dev.sent.size();
    ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(100, 40), 0), 100);
    ASSERT_EQ(p.tcp_a.sendmsg(p.a.cpu, *c, pattern(100, 41), 0), 100);
    // before anything runs: the first left, the second waits (Nagle) or left too (TCP_NODELAY)
    EXPECT_EQ(p.a.dev.sent.size() - a0, nodelay ? 2u : 1u) << nodelay;
    p.run_for(Duration::ms(5));
    EXPECT_EQ(p.a.dev.sent.size() - a0, 2u);
    if (!nodelay) {
      // the second data segment left after b's ACK of the first
      ASSERT_GT(p.b.dev.sent.size(), b0);
      EXPECT_GE(p.a.dev.sent_at[a0 + 1], p.b.dev.sent_at[b0]);
    }
  }
}

}  // namespace
}  // namespace vnic::stack
