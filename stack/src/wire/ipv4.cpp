// IPv4: address text forms, Ipv4Repr parse/emit.
#include "vnic/stack/wire/ipv4.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace vnic::stack::wire {

std::string_view name(Ipv4Error e) {
  switch (e) {
    case Ipv4Error::Truncated: return "Truncated";
    case Ipv4Error::BadVersion: return "BadVersion";
    case Ipv4Error::BadHeaderLength: return "BadHeaderLength";
    case Ipv4Error::OptionsTruncated: return "OptionsTruncated";
    case Ipv4Error::BadChecksum: return "BadChecksum";
    case Ipv4Error::TotalLengthTooBig: return "TotalLengthTooBig";
    case Ipv4Error::TotalLengthTooSmall: return "TotalLengthTooSmall";
  }
  return "?";
}

std::string Ipv4Addr::str() const { return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]); }

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view s) {
  // Four decimal parts 0..255 and nothing else; a leading zero is refused as inet_pton does,
  // since inet_aton would read "010" as octal.
  Ipv4Addr a;
  for (std::size_t part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
    if (digits == 0 || digits > 3 || (digits > 1 && s.front() == '0')) return std::nullopt;
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + digits, v);
    if (v > 255) return std::nullopt;
    a.b[part] = static_cast<uint8_t>(v);
    s.remove_prefix(digits);
  }
  if (!s.empty()) return std::nullopt;
  return a;
}

std::string Ipv4Cidr::str() const { return fmt::format("{}/{}", addr.str(), prefix_len); }

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto a = Ipv4Addr::parse(s.substr(0, slash));
  const std::string_view len = s.substr(slash + 1);
  if (!a || len.empty() || len.size() > 2 || (len.size() > 1 && len.front() == '0')) return std::nullopt;
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
  if (ec != std::errc{} || end != len.data() + len.size()) return std::nullopt;
  return make(*a, static_cast<uint8_t>(std::min(n, 255u)));
}

Ipv4Repr Ipv4Repr::from(const Ipv4Packet& p) {
  Ipv4Repr r;
  r.src = p.src();
  r.dst = p.dst();
  r.protocol = p.protocol();
  r.ttl = p.ttl();
  r.tos = p.tos();
  r.ident = p.ident();
  r.dont_fragment = p.dont_fragment();
  r.more_fragments = p.more_fragments();
  r.frag_offset = p.frag_offset();
  r.options = p.options();
  r.payload_len = static_cast<uint16_t>(p.total_len() - p.header_len());
  return r;
}

Result<Ipv4Repr, Ipv4Error> Ipv4Repr::parse(std::span<const uint8_t> bytes, ChecksumCheck check) {
  const auto p = Ipv4Packet::checked(bytes, check);
  if (!p) return Err{p.error()};
  return from(*p);
}

void Ipv4Repr::emit(std::span<uint8_t> out) const {
  assert(options.size() <= kIpv4MaxOptionsLen && options.size() % 4 == 0);
  assert(frag_offset % 8 == 0 && total_len() <= kIpv4MaxTotalLen);
  assert(out.size() >= header_len());
  const std::size_t hl = header_len();
  out[0] = static_cast<uint8_t>(0x40u | (hl / 4));
  out[1] = tos;
  store_be16(out, 2, static_cast<uint16_t>(total_len()));
  store_be16(out, 4, ident);
  store_be16(out, 6,
             static_cast<uint16_t>((dont_fragment ? kIpv4FlagDf : 0u) | (more_fragments ? kIpv4FlagMf : 0u) |
                                   ((frag_offset / 8u) & kIpv4FragOffsetMask)));
  out[8] = ttl;
  out[9] = static_cast<uint8_t>(protocol);
  store_be16(out, 10, 0);
  store_ipv4(out, 12, src);
  store_ipv4(out, 16, dst);
  std::copy(options.begin(), options.end(), out.begin() + kIpv4MinHeaderLen);
  store_be16(out, 10, internet_checksum(out.first(hl)));
}

bool Ipv4Repr::operator==(const Ipv4Repr& o) const {
  return src == o.src && dst == o.dst && protocol == o.protocol && ttl == o.ttl && tos == o.tos &&
         ident == o.ident && dont_fragment == o.dont_fragment && more_fragments == o.more_fragments &&
         frag_offset == o.frag_offset && payload_len == o.payload_len &&
         std::equal(options.begin(), options.end(), o.options.begin(), o.options.end());
}

}  // namespace vnic::stack::wire
