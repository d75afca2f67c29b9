// IPv4 reassembly and fragmentation under a fuzzer (docs/reliability.md): one host's NetStack
// (stack/src/ipv4/ip_fragment.cpp's ip_defrag, ip_do_fragment.cpp) fed a stream of ops: fragments
// arriving on eth0, time passing (ipfrag_time expiry), the ipfrag sysctls changing, datagrams sent
// through ip_send at a small MTU, and those fragments reflected back in any order. Shared by the
// libFuzzer target (vnic_defrag_fuzz) and the replay (vnic_defrag_fuzz_replay).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vnic::fuzz::defrag {

// An opcode byte is taken modulo Op::kCount, so every byte is some op. An op whose operands run
// past the end of the input ends the input. At most kMaxOps ops.
enum class Op : uint8_t {
  Frag,     // u8 flow, u16 offset (8-octet units), u16 payload length, u8 flags (frag_flags::)
  RawFrag,  // u8 flow, u16 offset, u8 flags, u8 n, n payload bytes: the datagram's bytes unknown
  Time,     // u8 step: kTimeSteps[b & 15] x ((b >> 4) + 1)
  Sysctl,   // u8 which (Sysctl), u8 value index into its menu
  Send,     // u8 send flags (send_flags::), u16 payload length, u8 MTU index (kMtus[b & 15])
  Reflect,  // u8 mode (ReflectMode in bits 1:0, a parameter above), u8 count - 1 (0..31)
  kCount
};
inline constexpr unsigned kMaxOps = 512;

// The flow byte of Frag and RawFrag: which datagram (the reassembly key) a fragment belongs to.
//   bits 1:0 source: 10.0.0.2, 10.0.0.3 (neighbours), 10.0.0.4 (unresolved), 10.0.1.9 (no route)
//   bits 3:2 protocol: 17, 253, 1 (ICMP), 6 (no handler)
//   bits 6:4 IP id: 0x4200 + n
//   bit 7    destination other than 10.0.0.1: 10.0.0.255 (broadcast) for even ids, 10.0.0.7
constexpr uint8_t flow(unsigned src, unsigned proto, unsigned ident, bool alt_dst = false) {
  return static_cast<uint8_t>((src & 3u) | (proto & 3u) << 2 | (ident & 7u) << 4 | (alt_dst ? 0x80u : 0u));
}
inline constexpr uint8_t kProtocols[4] = {17, 253, 1, 6};
inline constexpr uint16_t kIdentBase = 0x4200;

namespace frag_flags {
inline constexpr uint8_t kMf = 0x01, kDf = 0x02, kReserved = 0x04;
inline constexpr uint8_t kEcnShift = 3;   // bits 4:3: the TOS's ECN field
inline constexpr uint8_t kOptShift = 5;   // bits 6:5: options (none, 3 NOPs + EOL, router alert, bad)
inline constexpr uint8_t kPad = 0x80;     // 20 bytes of link padding after the datagram
constexpr uint8_t ecn(unsigned e) { return static_cast<uint8_t>((e & 3u) << kEcnShift); }
constexpr uint8_t options(unsigned o) { return static_cast<uint8_t>((o & 3u) << kOptShift); }
}  // namespace frag_flags

namespace send_flags {
// bit 0: destination 10.0.0.3 (else 10.0.0.2); bit 1: DF; bits 3:2: protocol (kProtocols);
// bits 6:4: IP id (kIdentBase + n); bit 7: destination 10.0.0.4 instead (unresolved).
constexpr uint8_t make(unsigned dst, bool df, unsigned proto, unsigned ident, bool unresolved = false) {
  return static_cast<uint8_t>((dst & 1u) | (df ? 2u : 0u) | (proto & 3u) << 2 | (ident & 7u) << 4 |
                              (unresolved ? 0x80u : 0u));
}
}  // namespace send_flags

inline constexpr uint32_t kMtus[16] = {68, 69, 72, 76, 100, 128, 296, 500, 576, 1000, 1280, 1400, 1500, 9000, 84, 1492};

enum class Sysctl : uint8_t { HighThresh, LowThresh, MaxDist, Time, kCount };
inline constexpr uint32_t kThreshMenu[16] = {0,     1,      200,    1000,    2000,    3000,    5000,     10000,
                                             20000, 65536,  262144, 1048576, 3145728, 4194304, 16777216, 0xFFFFFFFF};
inline constexpr int kMaxDistMenu[16] = {0, 1, 2, 3, 4, 5, 8, 16, 32, 64, 100, 255, 1000, 65535, 64, 64};
inline constexpr int kTimeMenu[16] = {0, 1, 2, 3, 5, 10, 15, 29, 30, 31, 60, 120, 30, 30, 1, 2};

enum class ReflectMode : uint8_t {
  Front,      // the oldest waiting fragment first
  Back,       // the newest first (a reversed datagram)
  Stride,     // every (param | 1)-th waiting fragment, wrapping
  Duplicate,  // a copy of waiting fragment (param), which stays waiting
};

// What an input did (the replay prints it).
struct Summary {
  unsigned ops = 0;
  uint64_t fragments_in = 0;  // fragments injected (Frag, RawFrag, Reflect)
  uint64_t delivered = 0;     // datagrams handed to an L4 handler
  uint64_t reassembled = 0;   // of which reassembled
  uint64_t sends = 0;         // ip_send calls
  uint64_t sent_frames = 0;   // IPv4 frames the device got from them
  uint64_t reasm_reqds = 0, reasm_oks = 0, reasm_fails = 0, reasm_timeout = 0, reasm_overlaps = 0;
  uint64_t frag_oks = 0, frag_fails = 0, frag_creates = 0;
  uint64_t max_frag_mem = 0;
  uint64_t max_frag_queues = 0;
  uint64_t skbs = 0;  // sk_buffs the pool handed out
  int64_t sim_ms = 0;
};
std::string describe(const Summary& s);

// Runs one input on a fresh stack, checks every invariant after every op (a violation prints what
// and aborts: libFuzzer saves the input), tears the stack down and checks that nothing leaked.
//  - every packet id the stack saw ends exactly once (the pool's free hook; a second end aborts at
//    once; after the teardown every id made has ended);
//  - no sk_buff or buffer is left after the teardown, and the pool saw no double free;
//  - frag_mem() is 0 when frag_queues() is; a fragment never takes frag_mem() above
//    ipfrag_high_thresh + its truesize + sizeof(struct ipq) (or where it was, if higher: the
//    threshold may have been lowered under it);
//  - a datagram handed up is a valid IPv4 datagram (the checksum verifies, the total length is
//    its bytes, no fragment bits), its payload is the known datagram's, and each of its bytes
//    came in some fragment of its key, the last one ending where it ends;
//  - each IpReasm is one ReasmOKs and one datagram handed up (for a protocol with a handler);
//  - the IP MIB only grows, and ReasmOKs <= ReasmReqds;
//  - a datagram sent through ip_send at MTU m comes out as frames of at most m bytes, each a valid
//    fragment, offsets multiples of 8, MF on all but the last, together exactly the datagram.
Summary run_input(std::span<const uint8_t> input, bool verbose = false);

// Builds inputs op by op (the seeds in defrag_fuzz_seeds.cpp).
class OpWriter {
 public:
  struct FragArgs {
    uint8_t flow = 0;
    uint16_t offset8 = 0;  // in 8-octet units
    uint16_t len = 0;      // payload bytes
    uint8_t flags = 0;     // frag_flags::
  };
  OpWriter& frag(const FragArgs& a);
  OpWriter& frag(uint8_t flow, uint16_t offset8, uint16_t len, uint8_t flags) { return frag({flow, offset8, len, flags}); }
  OpWriter& raw_frag(uint8_t flow, uint16_t offset8, uint8_t flags, std::span<const uint8_t> payload);
  OpWriter& time(uint8_t step);
  OpWriter& sysctl(Sysctl which, uint8_t index);
  OpWriter& send(uint8_t flags, uint16_t len, uint8_t mtu_index);
  OpWriter& reflect(ReflectMode mode, uint8_t param, uint8_t count);
  // A whole datagram of `total` payload bytes cut into `piece`-byte fragments (a multiple of 8),
  // in order, or from the last to the first.
  OpWriter& datagram(uint8_t flow, uint16_t total, uint16_t piece, bool reverse = false, uint8_t extra_flags = 0);
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  void op(Op o) { b_.push_back(static_cast<uint8_t>(o)); }
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) {
    b_.push_back(static_cast<uint8_t>(v));
    b_.push_back(static_cast<uint8_t>(v >> 8));
  }
  std::vector<uint8_t> b_;
};

}  // namespace vnic::fuzz::defrag
