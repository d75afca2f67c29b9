// TCP's wire format (RFC 9293): checks, options (tcp_parse_options, tcp_options_write), the
// pseudo-header checksum, parse and emit.
#include "vnic/stack/wire/tcp.hpp"

#include <algorithm>

namespace vnic::stack::wire {

std::string_view name(TcpError e) {
  switch (e) {
    case TcpError::Truncated: return "truncated";
    case TcpError::BadDataOffset: return "bad data offset";
    case TcpError::TruncatedOptions: return "truncated options";
    case TcpError::BadChecksum: return "bad checksum";
  }
  return "?";
}

TcpOptions tcp_parse_options(std::span<const uint8_t> area) {
  TcpOptions o;
  std::size_t at = 0;
  while (at < area.size()) {
    const uint8_t kind = area[at];
    if (kind == kTcpOptEol) break;
    if (kind == kTcpOptNop) {
      ++at;
      continue;
    }
    const std::size_t left = area.size() - at;
    if (left < 2) break;
    const std::size_t size = area[at + 1];
    if (size < 2 || size > left) break;  // "silly options", "don't parse partial options"
    const std::span<const uint8_t> v = area.subspan(at + 2, size - 2);
    switch (kind) {
      case kTcpOptMss:
        if (size == kTcpOlenMss) o.mss = load_be16(v, 0);
        break;
      case kTcpOptWindow:
        if (size == kTcpOlenWindow) {
          o.has_wscale = true;
          o.wscale = v[0];
        }
        break;
      case kTcpOptSackPerm:
        if (size == kTcpOlenSackPerm) o.sack_permitted = true;
        break;
      case kTcpOptTimestamp:
        if (size == kTcpOlenTimestamp) {
          o.has_timestamp = true;
          o.tsval = load_be32(v, 0);
          o.tsecr = load_be32(v, 4);
        }
        break;
      case kTcpOptSack:
        if (size >= kTcpOlenSackBase + kTcpOlenSackPerBlock && (size - kTcpOlenSackBase) % kTcpOlenSackPerBlock == 0) {
          const std::size_t n = std::min((size - kTcpOlenSackBase) / kTcpOlenSackPerBlock, kTcpMaxSackBlocks);
          for (std::size_t i = 0; i < n; ++i) o.sack[i] = {load_be32(v, i * 8), load_be32(v, i * 8 + 4)};
          o.num_sack = static_cast<uint8_t>(n);
        }
        break;
      default:
        ++o.unknown;
        break;
    }
    at += size;
  }
  return o;
}

InternetChecksum tcp_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> tcp) {
  return ipv4_pseudo_sum(src, dst, kIpprotoTcp, tcp);
}

uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> tcp) {
  return tcp_pseudo_sum(src, dst, tcp).checksum();
}

Result<TcpRepr, TcpError> TcpRepr::parse(std::span<const uint8_t> b, Ipv4Addr src, Ipv4Addr dst, ChecksumCheck check) {
  const auto p = TcpPacket::checked(b);
  if (!p) return Err{p.error()};
  if (check == ChecksumCheck::Verify && !p->verify(src, dst)) return Err{TcpError::BadChecksum};
  TcpRepr r;
  r.src_port = p->src_port();
  r.dst_port = p->dst_port();
  r.seq = p->seq();
  r.ack = p->ack();
  r.flags = p->flags();
  r.window = p->window();
  r.urgent = p->urgent();
  r.options = tcp_parse_options(p->options());
  r.payload_len = static_cast<uint16_t>(p->payload().size());
  return r;
}

namespace {
// How many SACK blocks fit beside the other options (tcp_established_options' trimming).
std::size_t sack_blocks_that_fit(const TcpOptions& o, std::size_t others) {
  if (o.num_sack == 0 || others + 4 + kTcpOlenSackPerBlock > kTcpMaxOptionsLen) return 0;
  return std::min<std::size_t>(o.num_sack, (kTcpMaxOptionsLen - others - 4) / kTcpOlenSackPerBlock);
}
std::size_t options_len_without_sack(const TcpOptions& o) {
  std::size_t n = 0;
  if (o.mss != 0) n += 4;
  if (o.has_timestamp) n += 12;                    // (NOP NOP | SACK_PERM) + TS
  if (o.sack_permitted && !o.has_timestamp) n += 4;  // NOP NOP SACK_PERM
  if (o.has_wscale) n += 4;                        // NOP WS
  return n;
}
}  // namespace

std::size_t TcpRepr::options_len() const {
  const std::size_t others = options_len_without_sack(options);
  const std::size_t blocks = sack_blocks_that_fit(options, others);
  return others + (blocks != 0 ? 4 + blocks * kTcpOlenSackPerBlock : 0);
}

void TcpRepr::emit(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, bool checksum) const {
  const std::span<uint8_t> d = b.first(total_len());
  const std::size_t hlen = header_len();
  store_be16(d, 0, src_port);
  store_be16(d, 2, dst_port);
  store_be32(d, 4, seq);
  store_be32(d, 8, ack);
  d[12] = static_cast<uint8_t>((hlen / 4) << 4);
  d[13] = flags;
  store_be16(d, 14, window);
  store_be16(d, 16, 0);
  store_be16(d, 18, urgent);
  std::size_t at = kTcpHeaderLen;
  const auto word = [&](uint8_t a, uint8_t b1, uint8_t c, uint8_t e) {
    d[at] = a;
    d[at + 1] = b1;
    d[at + 2] = c;
    d[at + 3] = e;
    at += 4;
  };
  const TcpOptions& o = options;
  if (o.mss != 0) word(kTcpOptMss, kTcpOlenMss, static_cast<uint8_t>(o.mss >> 8), static_cast<uint8_t>(o.mss));
  if (o.has_timestamp) {
    if (o.sack_permitted) {
      word(kTcpOptSackPerm, kTcpOlenSackPerm, kTcpOptTimestamp, kTcpOlenTimestamp);
    } else {
      word(kTcpOptNop, kTcpOptNop, kTcpOptTimestamp, kTcpOlenTimestamp);
    }
    store_be32(d, at, o.tsval);
    store_be32(d, at + 4, o.tsecr);
    at += 8;
  } else if (o.sack_permitted) {
    word(kTcpOptNop, kTcpOptNop, kTcpOptSackPerm, kTcpOlenSackPerm);
  }
  if (o.has_wscale) word(kTcpOptNop, kTcpOptWindow, kTcpOlenWindow, o.wscale);
  const std::size_t blocks = sack_blocks_that_fit(o, options_len_without_sack(o));
  if (blocks != 0) {
    word(kTcpOptNop, kTcpOptNop, kTcpOptSack, static_cast<uint8_t>(kTcpOlenSackBase + blocks * kTcpOlenSackPerBlock));
    for (std::size_t i = 0; i < blocks; ++i) {
      store_be32(d, at, o.sack[i].start);
      store_be32(d, at + 4, o.sack[i].end);
      at += 8;
    }
  }
  store_be16(d, 16, checksum ? tcp_checksum(src, dst, d) : uint16_t{0});
}

}  // namespace vnic::stack::wire
