// Register lookup: a dense table from word offset to (register, element), built once from kAll.
#include "vnic/model/regs.hpp"

#include <vector>

namespace vnic::model::regs {

std::string_view to_string(Access a) {
  switch (a) {
    case Access::RO: return "RO";
    case Access::RW: return "RW";
    case Access::W1C: return "W1C";
    case Access::RC: return "RC";
    case Access::WO: return "WO";
  }
  return "?";
}

namespace {
struct Slot {
  int16_t reg = -1;  // index into kAll
  uint16_t index = 0;
};
const std::vector<Slot>& table() {
  static const std::vector<Slot> t = [] {
    std::vector<Slot> v(kBar0Size / 4);
    for (std::size_t r = 0; r < std::size(kAll); ++r) {
      const Reg& reg = *kAll[r];
      for (unsigned i = 0; i < reg.count; ++i) {
        v[reg.offset_of(i) / 4] = Slot{static_cast<int16_t>(r), static_cast<uint16_t>(i)};
      }
    }
    return v;
  }();
  return t;
}
}  // namespace

std::optional<Hit> find(uint32_t offset) {
  if (offset >= kBar0Size || (offset & 3u) != 0) return std::nullopt;
  const Slot s = table()[offset / 4];
  if (s.reg < 0) return std::nullopt;
  return Hit{kAll[static_cast<std::size_t>(s.reg)], s.index, static_cast<uint16_t>(s.reg)};
}

}  // namespace vnic::model::regs
