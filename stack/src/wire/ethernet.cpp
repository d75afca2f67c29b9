// Ethernet II and VLAN tags: EthernetRepr parse/emit.
#include "vnic/stack/wire/ethernet.hpp"

#include <cassert>

namespace vnic::stack::wire {

std::string_view name(EthernetError e) {
  switch (e) {
    case EthernetError::Truncated: return "Truncated";
    case EthernetError::TruncatedTag: return "TruncatedTag";
  }
  return "?";
}

EthernetRepr EthernetRepr::from(const EthernetFrame& f) {
  EthernetRepr r;
  r.dst = f.dst();
  r.src = f.src();
  r.tag_count = static_cast<uint8_t>(f.tag_count());
  for (std::size_t i = 0; i < f.tag_count(); ++i) r.tags[i] = f.tag(i);
  r.ethertype = f.ethertype();
  return r;
}

Result<EthernetRepr, EthernetError> EthernetRepr::parse(std::span<const uint8_t> frame) {
  auto f = EthernetFrame::checked(frame);
  if (!f) return Err{f.error()};
  return from(*f);
}

void EthernetRepr::emit(std::span<uint8_t> out) const {
  assert(tag_count <= kMaxVlanTags && out.size() >= header_len());
  store_mac(out, 0, dst);
  store_mac(out, 6, src);
  std::size_t at = 12;
  for (std::size_t i = 0; i < tag_count; ++i, at += kVlanTagLen) {
    // A tag whose TPID is not a VLAN one would parse back as the payload's type.
    assert(is_vlan_tpid(static_cast<uint16_t>(tags[i].tpid)) && tags[i].pcp < 8 && tags[i].vid < 0x1000);
    store_be16(out, at, static_cast<uint16_t>(tags[i].tpid));
    store_be16(out, at + 2, tags[i].tci());
  }
  store_be16(out, at, static_cast<uint16_t>(ethertype));
}

bool EthernetRepr::operator==(const EthernetRepr& o) const {
  if (dst != o.dst || src != o.src || tag_count != o.tag_count || ethertype != o.ethertype) return false;
  for (std::size_t i = 0; i < tag_count && i < kMaxVlanTags; ++i) {
    if (!(tags[i] == o.tags[i])) return false;
  }
  return true;
}

}  // namespace vnic::stack::wire
