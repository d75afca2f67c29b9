// MacAddr formatting/parsing and the multicast hash index.
#include "vnic/model/mac_addr.hpp"

#include <fmt/format.h>

#include "vnic/model/crc32.hpp"

namespace vnic::model {

std::string MacAddr::str() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5]);
}

std::optional<MacAddr> MacAddr::parse(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  MacAddr m;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 6; ++i) {
    const int h = hex(s[i * 3]);
    const int l = hex(s[i * 3 + 1]);
    if (h < 0 || l < 0) return std::nullopt;
    if (i < 5 && s[i * 3 + 2] != ':') return std::nullopt;
    m.b[i] = static_cast<uint8_t>(h * 16 + l);
  }
  return m;
}

unsigned mc_hash_index(const MacAddr& a) { return crc32_ieee(a.b) >> 26; }

}  // namespace vnic::model
