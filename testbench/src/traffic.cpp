// Deterministic test frames.
#include "vnic/tb/traffic.hpp"

#include <cstring>

#include "vnic/model/bytes.hpp"

namespace vnic::tb {

uint32_t frame_len(const TrafficPattern& p, uint64_t seq) {
  if (p.max_len <= p.min_len) return p.min_len;
  uint64_t s = p.seed * 0x2545F4914F6CDD1Dull + seq;
  return p.min_len + static_cast<uint32_t>(splitmix64(s) % (p.max_len - p.min_len + 1));
}

namespace {
void fill_payload(const TrafficPattern& p, uint64_t seq, std::span<uint8_t> out) {
  uint64_t s = (p.seed << 32) ^ (seq * 0x9E3779B97F4A7C15ull);
  std::size_t i = 0;
  while (i < out.size()) {
    const uint64_t r = splitmix64(s);
    const std::size_t n = std::min<std::size_t>(8, out.size() - i);
    for (std::size_t k = 0; k < n; ++k) out[i + k] = static_cast<uint8_t>(r >> (8 * k));
    i += n;
  }
}
}  // namespace

void fill_frame(const TrafficPattern& p, uint64_t seq, std::span<uint8_t> out) {
  const uint32_t len = frame_len(p, seq);
  std::memcpy(out.data(), p.dst.b.data(), 6);
  std::memcpy(out.data() + 6, p.src.b.data(), 6);
  out[12] = static_cast<uint8_t>(kTestEtherType >> 8);
  out[13] = static_cast<uint8_t>(kTestEtherType & 0xFF);
  model::store_le<uint64_t>(out, 14, seq);
  fill_payload(p, seq, out.subspan(kTestHeaderLen, len - kTestHeaderLen));
}

std::optional<uint64_t> check_frame(const TrafficPattern& p, std::span<const uint8_t> frame) {
  if (frame.size() < kTestHeaderLen) return std::nullopt;
  const uint64_t seq = model::load_le<uint64_t>(frame, 14);
  if (frame.size() != frame_len(p, seq)) return std::nullopt;
  if (std::memcmp(frame.data(), p.dst.b.data(), 6) != 0 || std::memcmp(frame.data() + 6, p.src.b.data(), 6) != 0) {
    return std::nullopt;
  }
  // Compare the payload in 8-byte steps against the regenerated stream (no buffer needed).
  uint64_t s = (p.seed << 32) ^ (seq * 0x9E3779B97F4A7C15ull);
  const auto payload = frame.subspan(kTestHeaderLen);
  std::size_t i = 0;
  while (i < payload.size()) {
    const uint64_t r = splitmix64(s);
    const std::size_t n = std::min<std::size_t>(8, payload.size() - i);
    for (std::size_t k = 0; k < n; ++k) {
      if (payload[i + k] != static_cast<uint8_t>(r >> (8 * k))) return std::nullopt;
    }
    i += n;
  }
  return seq;
}

}  // namespace vnic::tb
