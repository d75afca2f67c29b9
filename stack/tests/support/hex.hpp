// hex("0a1b..."): bytes from lowercase hex digits, for packets written out in tests.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace vnic::stack::testing {

inline std::vector<uint8_t> hex(std::string_view s) {
  std::vector<uint8_t> v;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) v.push_back(static_cast<uint8_t>(nibble(s[i]) << 4 | nibble(s[i + 1])));
  return v;
}

}  // namespace vnic::stack::testing
