// Deterministic test frames.
#include "vnic/tb/traffic.hpp"

#include <array>
#include <cstring>
#include <vector>

#include "vnic/model/bytes.hpp"

namespace vnic::tb {

uint32_t frame_len(const TrafficPattern& p, uint64_t seq) {
  if (p.max_len <= p.min_len) return p.min_len;
  uint64_t s = p.seed * 0x2545F4914F6CDD1Dull + seq;
  return p.min_len + static_cast<uint32_t>(splitmix64(s) % (p.max_len - p.min_len + 1));
}

namespace {
// Payload bytes come from one seeded random block per pattern seed, at an offset that depends
// on the sequence number: filling is a memcpy and checking a memcmp.
constexpr std::size_t kBlock = 32768;
constexpr std::size_t kMaxPayload = 16384;

const uint8_t* payload_block(uint64_t seed) {
  // A few patterns are live at once (one per direction): keep a small cache, round robin.
  struct Entry {
    uint64_t seed = 0;
    std::vector<uint8_t> block;
  };
  thread_local std::array<Entry, 4> cache;
  thread_local std::size_t next = 0;
  for (const Entry& e : cache) {
    if (!e.block.empty() && e.seed == seed) return e.block.data();
  }
  Entry& e = cache[next];
  next = (next + 1) % cache.size();
  e.seed = seed;
  e.block.resize(kBlock + kMaxPayload);
  uint64_t s = seed ^ 0xA5A5'5A5A'0F0F'F0F0ull;
  for (std::size_t i = 0; i < e.block.size(); i += 8) {
    const uint64_t r = splitmix64(s);
    std::memcpy(e.block.data() + i, &r, 8);
  }
  return e.block.data();
}

std::size_t payload_offset(uint64_t seq) { return static_cast<std::size_t>((seq * 0x9E3779B1ull) % kBlock); }
}  // namespace

void fill_frame(const TrafficPattern& p, uint64_t seq, std::span<uint8_t> out) {
  const uint32_t len = frame_len(p, seq);
  std::memcpy(out.data(), p.dst.b.data(), 6);
  std::memcpy(out.data() + 6, p.src.b.data(), 6);
  out[12] = static_cast<uint8_t>(kTestEtherType >> 8);
  out[13] = static_cast<uint8_t>(kTestEtherType & 0xFF);
  model::store_le<uint64_t>(out, 14, seq);
  std::memcpy(out.data() + kTestHeaderLen, payload_block(p.seed) + payload_offset(seq), len - kTestHeaderLen);
}

std::optional<uint64_t> check_frame(const TrafficPattern& p, std::span<const uint8_t> frame) {
  if (frame.size() < kTestHeaderLen || frame.size() - kTestHeaderLen > kMaxPayload) return std::nullopt;
  const uint64_t seq = model::load_le<uint64_t>(frame, 14);
  if (frame.size() != frame_len(p, seq)) return std::nullopt;
  if (std::memcmp(frame.data(), p.dst.b.data(), 6) != 0 || std::memcmp(frame.data() + 6, p.src.b.data(), 6) != 0 ||
      frame[12] != (kTestEtherType >> 8) || frame[13] != (kTestEtherType & 0xFF)) {
    return std::nullopt;
  }
  if (std::memcmp(frame.data() + kTestHeaderLen, payload_block(p.seed) + payload_offset(seq),
                  frame.size() - kTestHeaderLen) != 0) {
    return std::nullopt;
  }
  return seq;
}

}  // namespace vnic::tb
