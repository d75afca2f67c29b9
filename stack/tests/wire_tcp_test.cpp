// Tests of the TCP view and TcpRepr (RFC 9293 3.1): Linux's SYN option layout (tcp_options_write),
// tcp_parse_options' rules for odd option areas, SACK blocks, the checksum against a textbook
// sum, tcp_v4_rcv's header checks in order, and sequence arithmetic across the wrap.
#include <gtest/gtest.h>

#include <vector>

#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack::wire {
namespace {

const Ipv4Addr kA = *Ipv4Addr::parse("10.0.0.1");
const Ipv4Addr kB = *Ipv4Addr::parse("10.0.0.2");

// The textbook one's-complement sum of the pseudo-header and the segment, folded at each step.
uint16_t reference_checksum(Ipv4Addr src, Ipv4Addr dst, const std::vector<uint8_t>& seg) {
  std::vector<uint8_t> b;
  for (const uint32_t a : {src.to_u32(), dst.to_u32()}) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(a >> s));
  }
  b.push_back(0);
  b.push_back(kIpprotoTcp);
  b.push_back(static_cast<uint8_t>(seg.size() >> 8));
  b.push_back(static_cast<uint8_t>(seg.size()));
  b.insert(b.end(), seg.begin(), seg.end());
  uint32_t s = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    s += static_cast<uint32_t>(b[i]) << 8 | (i + 1 < b.size() ? b[i + 1] : 0u);
    s = (s & 0xFFFF) + (s >> 16);
  }
  return static_cast<uint16_t>(~s);
}

TcpRepr linux_syn() {
  TcpRepr r;
  r.src_port = 40000;
  r.dst_port = 5201;
  r.seq = 0xDEADBEEF;
  r.flags = kTcpSyn;
  r.window = 64240;
  r.options.mss = 1460;
  r.options.sack_permitted = true;
  r.options.has_timestamp = true;
  r.options.tsval = 0x01020304;
  r.options.has_wscale = true;
  r.options.wscale = 7;
  return r;
}

// A Linux SYN as tcpdump shows it: "mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7": 20
// bytes of options laid out as tcp_options_write does.
TEST(WireTcp, LinuxSynOptionLayoutAndChecksum) {
  const TcpRepr r = linux_syn();
  ASSERT_EQ(r.options_len(), 20u);
  std::vector<uint8_t> seg(r.total_len());
  r.emit(seg, kA, kB);
  const std::vector<uint8_t> opts(seg.begin() + 20, seg.end());
  EXPECT_EQ(opts, (std::vector<uint8_t>{0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0, 0,
                                        0, 0, 0x01, 0x03, 0x03, 0x07}));
  EXPECT_EQ(seg[12], 0xa0);  // doff 10
  EXPECT_EQ(seg[13], kTcpSyn);
  const uint16_t sent = load_be16(seg, 16);
  seg[16] = seg[17] = 0;
  EXPECT_EQ(sent, reference_checksum(kA, kB, seg));
  store_be16(seg, 16, sent);
  const auto p = TcpRepr::parse(seg, kA, kB);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->seq, 0xDEADBEEFu);
  EXPECT_EQ(p->options, r.options);
  EXPECT_EQ(p->payload_len, 0);
}

// Without timestamps SACK-permitted goes as NOP NOP SACK_PERM; with timestamps and no SACK,
// NOP NOP TS.
TEST(WireTcp, OptionPackingWithoutTheOther) {
  TcpRepr r = linux_syn();
  r.options.has_timestamp = false;
  std::vector<uint8_t> seg(r.total_len());
  r.emit(seg, kA, kB);
  EXPECT_EQ(std::vector<uint8_t>(seg.begin() + 20, seg.end()),
            (std::vector<uint8_t>{0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07}));
  r = linux_syn();
  r.options.sack_permitted = false;
  r.options.has_wscale = false;
  r.options.mss = 0;
  seg.assign(r.total_len(), 0);
  r.emit(seg, kA, kB);
  EXPECT_EQ(std::vector<uint8_t>(seg.begin() + 20, seg.begin() + 24), (std::vector<uint8_t>{1, 1, 8, 10}));
}

// SACK blocks after the timestamps: three fit beside them (12 + 4 + 24 = 40), a fourth is left out.
TEST(WireTcp, SackBlocksTrimmedToTheFortyBytes) {
  TcpRepr r;
  r.flags = kTcpAck;
  r.options.has_timestamp = true;
  r.options.num_sack = 4;
  for (uint32_t i = 0; i < 4; ++i) r.options.sack[i] = {1000 * (i + 1), 1000 * (i + 1) + 500};
  EXPECT_EQ(r.options_len(), 40u);
  r.payload_len = 3;
  std::vector<uint8_t> seg(r.total_len());
  seg[60] = 'a';
  r.emit(seg, kA, kB);
  const auto p = TcpRepr::parse(seg, kA, kB);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->options.num_sack, 3);
  EXPECT_EQ(p->options.sack[2], (TcpSackBlock{3000, 3500}));
  EXPECT_EQ(p->payload_len, 3);
  r.options.has_timestamp = false;  // without them all four fit: 4 + 32
  EXPECT_EQ(r.options_len(), 36u);
}

// tcp_parse_options: EOL ends the area, NOPs are skipped, a length below 2 or past the end
// stops the walk, a known kind with the wrong length is ignored, unknown kinds are counted.
TEST(WireTcp, ParseOptionsAsLinuxWalksThem) {
  using V = std::vector<uint8_t>;
  EXPECT_EQ(tcp_parse_options(V{1, 1, 2, 4, 0x05, 0xdc}).mss, 1500);
  EXPECT_EQ(tcp_parse_options(V{0, 2, 4, 0x05, 0xdc}).mss, 0);  // after EOL: nothing
  EXPECT_EQ(tcp_parse_options(V{2, 1, 2, 4, 0x05, 0xdc}).mss, 0);  // "silly" length 1 ends it
  EXPECT_EQ(tcp_parse_options(V{3, 4, 7, 0, 2, 4, 1, 0}).has_wscale, false);  // window with length 4: ignored
  EXPECT_EQ(tcp_parse_options(V{3, 4, 7, 0, 2, 4, 1, 0}).mss, 256);  // ... and the walk goes on
  EXPECT_EQ(tcp_parse_options(V{8, 10, 0, 0, 0, 1, 0, 0}).has_timestamp, false);  // partial: stops
  EXPECT_EQ(tcp_parse_options(V{5, 9, 0, 0, 0, 1, 0, 0, 0, 2}).num_sack, 0);  // (9 - 2) % 8 != 0
  const TcpOptions u = tcp_parse_options(V{30, 4, 0, 0, 34, 2, 3, 3, 15});
  EXPECT_EQ(u.unknown, 2);
  EXPECT_TRUE(u.has_wscale);
  EXPECT_EQ(u.wscale, 15);  // as sent: clamping to 14 is the protocol's
  EXPECT_EQ(tcp_parse_options(V{4}).sack_permitted, false);  // one byte left: no length
}

// tcp_v4_rcv's order: the fixed header, doff >= 5, the options there, then the checksum.
TEST(WireTcp, HeaderChecksInTcpV4RcvsOrder) {
  TcpRepr r;
  r.flags = kTcpAck;
  std::vector<uint8_t> seg(r.total_len());
  r.emit(seg, kA, kB);
  EXPECT_EQ(TcpRepr::parse(std::span<const uint8_t>(seg).first(19), kA, kB).error(), TcpError::Truncated);
  std::vector<uint8_t> bad = seg;
  bad[12] = 0x40;  // doff 4
  EXPECT_EQ(TcpRepr::parse(bad, kA, kB).error(), TcpError::BadDataOffset);
  bad[12] = 0x60;  // doff 6: 24 bytes, 20 there
  EXPECT_EQ(TcpRepr::parse(bad, kA, kB).error(), TcpError::TruncatedOptions);
  bad = seg;
  bad[4] ^= 1;
  EXPECT_EQ(TcpRepr::parse(bad, kA, kB).error(), TcpError::BadChecksum);
  EXPECT_TRUE(TcpRepr::parse(bad, kA, kB, ChecksumCheck::Skip).ok());
  EXPECT_TRUE(TcpRepr::parse(seg, kA, kB).ok());
  EXPECT_FALSE(TcpRepr::parse(seg, kA, *Ipv4Addr::parse("10.0.0.3")).ok());  // the pseudo-header counts
  EXPECT_EQ(name(TcpError::BadDataOffset), "bad data offset");
}

// Hostile bytes: every length from 0 to 80 of seeded random segments, with a random data
// offset and option area, parse or are refused with a reason; what parses re-emits to a segment
// that parses to the same fields (the options as Linux writes them), and nothing reads out of
// bounds (the sanitizer build checks that half).
TEST(WireTcp, RandomSegmentsParseOrAreRefusedAndRoundTrip) {
  uint32_t seed = 12345;
  const auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<uint8_t>(seed >> 24);
  };
  uint64_t parsed = 0;
  for (int round = 0; round < 4000; ++round) {
    std::vector<uint8_t> b(static_cast<std::size_t>(round % 81));
    for (auto& x : b) x = next();
    if (b.size() > 12) b[12] = static_cast<uint8_t>((5 + next() % 11) << 4);  // doff 5..15 mostly
    const auto r = TcpRepr::parse(b, kA, kB, ChecksumCheck::Skip);
    if (!r) {
      EXPECT_FALSE(name(r.error()).empty());
      continue;
    }
    ++parsed;
    EXPECT_LE(r->options.num_sack, kTcpMaxSackBlocks);
    EXPECT_EQ(r->payload_len + TcpPacket::checked(std::span<const uint8_t>(b))->header_len(), b.size());
    TcpRepr again = *r;
    again.payload_len = 0;
    std::vector<uint8_t> out(again.total_len());
    again.emit(out, kA, kB);
    const auto back = TcpRepr::parse(out, kA, kB);
    ASSERT_TRUE(back.ok()) << round;
    EXPECT_EQ(back->seq, r->seq);
    EXPECT_EQ(back->flags, r->flags);
    EXPECT_EQ(back->options.mss, r->options.mss);
    EXPECT_EQ(back->options.has_timestamp, r->options.has_timestamp);
  }
  EXPECT_GT(parsed, 1000u);  // the generator reaches the parser's far side, not only its refusals
}

TEST(WireTcp, SequenceArithmeticAcrossTheWrap) {
  EXPECT_TRUE(seq_before(0xFFFFFFF0u, 0x10u));
  EXPECT_TRUE(seq_after(0x10u, 0xFFFFFFF0u));
  EXPECT_FALSE(seq_before(5, 5));
  EXPECT_TRUE(seq_before(1, 0x7FFFFFFFu));
  EXPECT_TRUE(seq_before(1, 0x80000001u));   // exactly half away: (s32)(a - b) < 0, as Linux's before()
  EXPECT_FALSE(seq_before(1, 0x80000002u));  // beyond half: the other way round
}

}  // namespace
}  // namespace vnic::stack::wire
