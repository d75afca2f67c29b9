// Ethernet FCS: IEEE 802.3 CRC-32 through isa-l (PCLMUL), with zlib's crc32 as the independent cross-check.
#pragma once

#include <cstdint>
#include <span>

namespace vnic::model {

inline constexpr uint32_t kCrcCheck = 0xCBF43926;    // CRC of "123456789"
inline constexpr uint32_t kCrcResidue = 0x2144DF1C;  // CRC over a good frame followed by its FCS
inline constexpr std::size_t kFcsLen = 4;

// CRC-32 (reflected, poly 0x04C11DB7, init and final XOR 0xFFFFFFFF) through isa-l.
// `prev` chains calls: crc32_ieee(b, crc32_ieee(a)) == crc32_ieee(a ++ b).
uint32_t crc32_ieee(std::span<const uint8_t> data, uint32_t prev = 0);
// The same function through zlib: slower, shares no code with isa-l; for tests and benchmarks.
uint32_t crc32_zlib(std::span<const uint8_t> data, uint32_t prev = 0);

// Writes the FCS of frame[0, n-4) into frame[n-4, n), least significant byte first.
void write_fcs(std::span<uint8_t> frame_with_fcs);
// True when the last 4 bytes are the FCS of the bytes before them.
bool fcs_ok(std::span<const uint8_t> frame_with_fcs);

}  // namespace vnic::model
