// ICMP for IPv4: IcmpRepr parse/emit.
#include "vnic/stack/wire/icmp.hpp"

#include <algorithm>
#include <cassert>

namespace vnic::stack::wire {

std::string_view name(IcmpError e) {
  switch (e) {
    case IcmpError::BadChecksum: return "BadChecksum";
    case IcmpError::Truncated: return "Truncated";
    case IcmpError::UnknownType: return "UnknownType";
    case IcmpError::Unsupported: return "Unsupported";
    case IcmpError::QuoteTruncated: return "QuoteTruncated";
    case IcmpError::QuoteBadHeader: return "QuoteBadHeader";
  }
  return "?";
}

namespace {

// An error message's quote: Linux reads the quoted header's IHL and protocol to find whom to
// tell, so it needs 20 bytes, IHL >= 5, and the header plus 8 bytes (the ports).
Result<void, IcmpError> check_quote(std::span<const uint8_t> q) {
  if (q.size() < kIpv4MinHeaderLen) return Err{IcmpError::QuoteTruncated};
  const std::size_t ihl = q[0] & 0x0Fu;
  if (ihl < 5) return Err{IcmpError::QuoteBadHeader};
  if (q.size() < ihl * 4 + kIcmpQuoteMinData) return Err{IcmpError::QuoteTruncated};
  return {};
}

}  // namespace

Result<IcmpRepr, IcmpError> IcmpRepr::parse(std::span<const uint8_t> bytes, ChecksumCheck check) {
  const auto p = IcmpPacket::checked(bytes, check);
  if (!p) return Err{p.error()};
  IcmpRepr r;
  r.type = p->type();
  r.code = p->code();
  r.data = p->data();
  switch (p->type()) {
    case IcmpType::EchoRequest:
    case IcmpType::EchoReply:
      r.ident = p->echo_ident();
      r.seq = p->echo_seq();
      return r;
    case IcmpType::DestUnreachable:
    case IcmpType::Redirect:
    case IcmpType::TimeExceeded:
    case IcmpType::ParameterProblem:
      if (const auto q = check_quote(r.data); !q) return Err{q.error()};
      if (p->type() == IcmpType::DestUnreachable && p->code() == static_cast<uint8_t>(IcmpUnreachable::FragmentationNeeded)) {
        r.next_hop_mtu = p->next_hop_mtu();
      } else if (p->type() == IcmpType::ParameterProblem) {
        r.pointer = p->pointer();
      } else if (p->type() == IcmpType::Redirect) {
        r.gateway = p->gateway();
      }
      return r;
    default:
      break;
  }
  const auto t = static_cast<uint8_t>(p->type());
  if (t > kIcmpLinuxMaxType && p->type() != IcmpType::ExtendedEchoRequest) return Err{IcmpError::UnknownType};
  return Err{IcmpError::Unsupported};
}

void IcmpRepr::emit(std::span<uint8_t> out) const {
  assert(out.size() >= buffer_len());
  out[0] = static_cast<uint8_t>(type);
  out[1] = code;
  store_be16(out, 2, 0);
  store_be32(out, 4, 0);
  switch (type) {
    case IcmpType::EchoRequest:
    case IcmpType::EchoReply:
      store_be16(out, 4, ident);
      store_be16(out, 6, seq);
      break;
    case IcmpType::DestUnreachable:  // unused (0) unless fragmentation is needed (RFC 1191 4)
      if (code == static_cast<uint8_t>(IcmpUnreachable::FragmentationNeeded)) store_be16(out, 6, next_hop_mtu);
      break;
    case IcmpType::ParameterProblem: out[4] = pointer; break;
    case IcmpType::Redirect: store_ipv4(out, 4, gateway); break;
    default: break;
  }
  std::copy(data.begin(), data.end(), out.begin() + kIcmpHeaderLen);
  const std::span<uint8_t> msg = out.first(buffer_len());
  store_be16(out, 2, internet_checksum(msg));
}

bool IcmpRepr::operator==(const IcmpRepr& o) const {
  return type == o.type && code == o.code && ident == o.ident && seq == o.seq && next_hop_mtu == o.next_hop_mtu &&
         pointer == o.pointer && gateway == o.gateway && std::equal(data.begin(), data.end(), o.data.begin(), o.data.end());
}

}  // namespace vnic::stack::wire
