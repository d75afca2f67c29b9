// The datagrams of the UDP exchange between a simulated host and the kernel (tap_udp_sctest.cpp and
// its kernel-side helper udp_peer.cpp): each is a pure function of a stream tag and a sequence
// number (its length and every byte), so the receiver checks a datagram byte for byte from its
// first 8 bytes. Standard library only: the helper is built without the project's libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vnic::tb::test::udp_payload {

// Who sends what: requests from the simulated host to the kernel's server and its responses,
// requests from the kernel's client to the simulated server and its responses.
enum Tag : uint32_t { kSimRequest = 0x51534952, kKernelResponse = 0x5052454b, kKernelRequest = 0x5152454b,
                      kSimResponse = 0x50534952 };

inline constexpr std::size_t kHeader = 8;     // tag, sequence number (big endian)
inline constexpr std::size_t kMaxSize = 1472;  // MTU 1500 - IP 20 - UDP 8: never fragmented

// splitmix64: a well-mixed word from (tag, seq, i).
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The datagram's length: kHeader + 10 .. kMaxSize, spread over the whole range (so frames of 60
// bytes, padded, up to full 1514-byte frames).
inline std::size_t size_of(uint32_t tag, uint32_t seq) {
  return kHeader + 10 + static_cast<std::size_t>(mix((uint64_t{tag} << 32) | seq) % (kMaxSize - kHeader - 10 + 1));
}

inline void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint32_t get_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Writes datagram (tag, seq) into out (resized to its length).
inline void make(uint32_t tag, uint32_t seq, std::vector<uint8_t>& out) {
  out.resize(size_of(tag, seq));
  put_be32(out.data(), tag);
  put_be32(out.data() + 4, seq);
  uint64_t word = 0;
  for (std::size_t i = kHeader; i < out.size(); ++i) {
    const std::size_t k = i - kHeader;
    if (k % 8 == 0) word = mix((uint64_t{seq} << 32) ^ (uint64_t{tag} * 0x100000001b3ull) ^ (k / 8));
    out[i] = static_cast<uint8_t>(word >> (8 * (k % 8)));
  }
}

// The sequence number of a received datagram if it is exactly datagram (tag, seq) for that seq:
// the tag matches, the length is size_of(tag, seq) and every byte is make()'s. Else -1.
inline int64_t check(uint32_t tag, const uint8_t* data, std::size_t len, std::vector<uint8_t>& scratch) {
  if (len < kHeader || get_be32(data) != tag) return -1;
  const uint32_t seq = get_be32(data + 4);
  make(tag, seq, scratch);
  if (scratch.size() != len || std::memcmp(scratch.data(), data, len) != 0) return -1;
  return seq;
}

}  // namespace vnic::tb::test::udp_payload
