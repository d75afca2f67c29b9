// TCP between two NetStacks joined back to back (stack/src/ipv4/tcp*.cpp), grouped by state and
// by RFC section: the handshake and its options, data both ways with the stream's bytes checked,
// the close sequences and TIME-WAIT, resets in each state (RFC 9293 3.10.7, RFC 5961), windows,
// sequence numbers that wrap, and loss: a lost SYN, SYN-ACK and FIN, the RTO's exponential
// backoff, SACK recovery of several holes, a tail loss repaired by a probe, the persist timer.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

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
    a.net->neigh().neigh_add(a.dev, ip4("10.0.0.2"), b.dev.dev_addr, kNudPermanent);
    b.net->neigh().neigh_add(b.dev, ip4("10.0.0.1"), a.dev.dev_addr, kNudPermanent);
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
  void run_for(Duration d) { run_until(now() + d); }

  // A listener on b:5001 and a connection from a; returns {client, server} once established.
  std::pair<TcpSock*, TcpSock*> connect_pair() {
    TcpSock* l = tcp_b.socket();
    EXPECT_EQ(tcp_b.bind(*l, {ip4("10.0.0.2"), 5001}), 0);
    EXPECT_EQ(tcp_b.listen(*l, 16), 0);
    listener = l;
    TcpSock* c = tcp_a.socket();
    EXPECT_EQ(tcp_a.connect(a.cpu, *c, {ip4("10.0.0.2"), 5001}), -kEINPROGRESS);
    run_for(Duration::ms(5));
    TcpSock* s = tcp_b.accept(*l);
    EXPECT_NE(s, nullptr);
    return {c, s};
  }
  TcpSock* listener = nullptr;
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

}  // namespace
}  // namespace vnic::stack
