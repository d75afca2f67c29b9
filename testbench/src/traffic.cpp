// Deterministic test frames.
#include "vnic/tb/traffic.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "vnic/model/bytes.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::tb {

uint32_t frame_len(const TrafficPattern& p, uint64_t seq) {
  if (p.max_len <= p.min_len) return p.min_len;
  uint64_t s = p.seed * 0x2545F4914F6CDD1Dull + seq;
  return p.min_len + static_cast<uint32_t>(splitmix64(s) % (p.max_len - p.min_len + 1));
}

namespace {
// Payload bytes come from one seeded random block per pattern seed, at an offset that depends
// on the sequence number: filling is a memcpy and checking a memcmp.
constexpr std::size_t kBlock = 32768;
constexpr std::size_t kMaxPayload = 16384;

const uint8_t* payload_block(uint64_t seed) {
  // A few patterns are live at once (one per sender: 8 on builtin:switch8): keep a small cache,
  // round robin.
  struct Entry {
    uint64_t seed = 0;
    std::vector<uint8_t> block;
  };
  thread_local std::array<Entry, 16> cache;
  thread_local std::size_t next = 0;
  for (const Entry& e : cache) {
    if (!e.block.empty() && e.seed == seed) return e.block.data();
  }
  Entry& e = cache[next];
  next = (next + 1) % cache.size();
  e.seed = seed;
  e.block.resize(kBlock + kMaxPayload);
  uint64_t s = seed ^ 0xA5A5'5A5A'0F0F'F0F0ull;
  for (std::size_t i = 0; i < e.block.size(); i += 8) {
    const uint64_t r = splitmix64(s);
    std::memcpy(e.block.data() + i, &r, 8);
  }
  return e.block.data();
}

std::size_t payload_offset(uint64_t seq) { return static_cast<std::size_t>((seq * 0x9E3779B1ull) % kBlock); }
}  // namespace


void fill_frame(const TrafficPattern& p, uint64_t seq, std::span<uint8_t> out) {
  const uint32_t len = frame_len(p, seq);
  std::memcpy(out.data(), frame_dst(p, seq).b.data(), 6);
  std::memcpy(out.data() + 6, p.src.b.data(), 6);
  if (p.ip_dst != 0) {
    // pktgen's fill_packet_ipv4: IPv4 (TOS 0, id, no DF, TTL 32, UDP) and UDP (port 9 to 9,
    // checksum 0), then the pattern.
    out[12] = 0x08;
    out[13] = 0x00;
    stack::wire::Ipv4Repr ip;
    ip.src = stack::wire::Ipv4Addr::from_u32(p.ip_src);
    ip.dst = stack::wire::Ipv4Addr::from_u32(p.ip_dst);
    ip.protocol = stack::wire::IpProtocol::Udp;
    ip.ttl = 32;
    ip.ident = static_cast<uint16_t>(seq & 0xFFFF);
    ip.payload_len = static_cast<uint16_t>(len - 34);
    ip.emit(out.subspan(14, 20));
    const std::span<uint8_t> udp = out.subspan(34, 8);
    stack::wire::store_be16(udp, 0, kPktgenUdpPort);
    stack::wire::store_be16(udp, 2, kPktgenUdpPort);
    stack::wire::store_be16(udp, 4, static_cast<uint16_t>(len - 34));
    stack::wire::store_be16(udp, 6, 0);
    model::store_le<uint64_t>(out, kIpUdpHeaderLen, seq);
    std::memcpy(out.data() + kIpUdpHeaderLen + 8, payload_block(p.seed) + payload_offset(seq),
                len - kIpUdpHeaderLen - 8);
    return;
  }
  out[12] = static_cast<uint8_t>(kTestEtherType >> 8);
  out[13] = static_cast<uint8_t>(kTestEtherType & 0xFF);
  model::store_le<uint64_t>(out, 14, seq);
  std::memcpy(out.data() + kTestHeaderLen, payload_block(p.seed) + payload_offset(seq), len - kTestHeaderLen);
}

std::optional<uint64_t> check_frame(const TrafficPattern& p, std::span<const uint8_t> frame) {
  if (frame.size() < kTestHeaderLen || frame.size() - kTestHeaderLen > kMaxPayload) return std::nullopt;
  const uint64_t seq = model::load_le<uint64_t>(frame, 14);
  if (frame.size() != frame_len(p, seq)) return std::nullopt;
  if (std::memcmp(frame.data(), frame_dst(p, seq).b.data(), 6) != 0 || std::memcmp(frame.data() + 6, p.src.b.data(), 6) != 0 ||
      frame[12] != (kTestEtherType >> 8) || frame[13] != (kTestEtherType & 0xFF)) {
    return std::nullopt;
  }
  if (std::memcmp(frame.data() + kTestHeaderLen, payload_block(p.seed) + payload_offset(seq),
                  frame.size() - kTestHeaderLen) != 0) {
    return std::nullopt;
  }
  return seq;
}

void RxExpect::set(const TrafficPattern& p) { senders_.assign(1, Sender{p, 0, 1}); }

void RxExpect::add(const TrafficPattern& p, const model::MacAddr& me) {
  Sender s{p, 0, 1};
  if (!p.dsts.empty()) {
    const auto it = std::find(p.dsts.begin(), p.dsts.end(), me);
    s.next = it == p.dsts.end() ? 0 : static_cast<uint64_t>(it - p.dsts.begin());
    s.stride = p.dsts.size();
  }
  senders_.push_back(std::move(s));
}

RxExpect::Result RxExpect::check(std::span<const uint8_t> frame) {
  Result r;
  Sender* s = senders_.empty() ? nullptr : &senders_.front();
  if (senders_.size() > 1 && frame.size() >= 12) {
    s = nullptr;
    for (Sender& x : senders_) {
      if (std::memcmp(frame.data() + 6, x.p.src.b.data(), 6) == 0) {
        s = &x;
        break;
      }
    }
  }
  if (s == nullptr) return r;
  const auto seq = check_frame(s->p, frame);
  if (!seq) return r;
  r.ok = true;
  r.seq = *seq;
  // Earlier than expected: reordered or duplicated. Later: frames lost in between (each loss
  // is in some drop counter; conservation checks that).
  if (*seq < s->next) r.out_of_order = true;
  if (*seq > s->next) r.gap = (*seq - s->next) / s->stride;
  s->next = *seq + s->stride;
  return r;
}

std::optional<uint64_t> check_datagram(const TrafficPattern& p, std::span<const uint8_t> d) {
  constexpr std::size_t kHdr = kIpUdpHeaderLen - 14;  // IPv4 + UDP
  if (p.ip_dst == 0) return std::nullopt;
  const auto ip = stack::wire::Ipv4Packet::checked(d, stack::wire::ChecksumCheck::Verify);
  if (!ip || ip->header_len() != 20 || ip->total_len() != d.size() || d.size() < kHdr + 8 ||
      d.size() - kHdr - 8 > kMaxPayload || ip->protocol() != stack::wire::IpProtocol::Udp ||
      ip->src().to_u32() != p.ip_src || ip->dst().to_u32() != p.ip_dst) {
    return std::nullopt;
  }
  const uint64_t seq = model::load_le<uint64_t>(d, kHdr);
  if (d.size() + 14 != frame_len(p, seq) || ip->ident() != (seq & 0xFFFF)) return std::nullopt;
  if (stack::wire::load_be16(d, 20) != kPktgenUdpPort || stack::wire::load_be16(d, 22) != kPktgenUdpPort ||
      stack::wire::load_be16(d, 24) != d.size() - 20) {
    return std::nullopt;
  }
  if (std::memcmp(d.data() + kHdr + 8, payload_block(p.seed) + payload_offset(seq), d.size() - kHdr - 8) != 0) {
    return std::nullopt;
  }
  return seq;
}

}  // namespace vnic::tb
