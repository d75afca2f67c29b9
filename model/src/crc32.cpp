// CRC-32 wrappers over isa-l and zlib.
#include "vnic/model/crc32.hpp"

#include <isa-l/crc.h>
#include <zlib.h>

#include "vnic/model/bytes.hpp"

namespace vnic::model {

uint32_t crc32_ieee(std::span<const uint8_t> data, uint32_t prev) {
  // isa-l's len is a uint64_t; frames are far below any limit.
  return crc32_gzip_refl(prev, data.data(), data.size());
}

uint32_t crc32_zlib(std::span<const uint8_t> data, uint32_t prev) {
  uLong crc = prev;
  // zlib takes uInt lengths: feed in chunks so spans above 4 GiB stay correct.
  while (!data.empty()) {
    const std::size_t n = data.size() > 0x4000'0000u ? 0x4000'0000u : data.size();
    crc = ::crc32(crc, data.data(), static_cast<uInt>(n));
    data = data.subspan(n);
  }
  return static_cast<uint32_t>(crc);
}

void write_fcs(std::span<uint8_t> frame_with_fcs) {
  if (frame_with_fcs.size() < kFcsLen) return;
  const std::size_t n = frame_with_fcs.size() - kFcsLen;
  store_le<uint32_t>(frame_with_fcs, n, crc32_ieee(frame_with_fcs.first(n)));
}

bool fcs_ok(std::span<const uint8_t> frame_with_fcs) {
  if (frame_with_fcs.size() < kFcsLen) return false;
  const std::size_t n = frame_with_fcs.size() - kFcsLen;
  return crc32_ieee(frame_with_fcs.first(n)) == load_le<uint32_t>(frame_with_fcs, n);
}

}  // namespace vnic::model
