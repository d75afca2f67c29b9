// The stack's iptables (stack/include/vnic/stack/netfilter.hpp: IpTables::exec and IpTables::run)
// under a fuzzer (docs/reliability.md): an input is a sequence of records, each an iptables
// command line (words from a dictionary of iptables' own, or bytes of the input) or a packet at a
// hook (a datagram built from the input's fields, or the input's bytes as they are). Shared by
// the libFuzzer target (vnic_iptables_fuzz) and the replay (vnic_iptables_fuzz_replay).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vnic::fuzz::ipt {

// A record starts with a kind byte, taken modulo 4: 0 and 1 a command, 2 a packet, 3 raw bytes
// at a hook. A record whose operands run past the end of the input ends it. At most kMaxRecords.
enum class Rec : uint8_t { Command = 0, Packet = 2, RawPacket = 3 };
inline constexpr unsigned kMaxRecords = 256;

// Command:   u8 kind, u8 words - 1 (mod kMaxWords), then per word a u8: an index into
//            dictionary(), or (at or past its size) u8 n then n bytes (n mod 33) as the word.
//            The words are joined with blanks.
inline constexpr unsigned kMaxWords = 24;
std::span<const std::string_view> dictionary();

// Packet:    u8 kind, u8 hook (mod 5), u8 devices (in: bits 2:0, out: bits 5:3 of kDevices; the
//            hook's missing side is left empty), u8 source, u8 destination (kAddrs, mod 8),
//            u8 protocol (kProtos, mod 8), u8 shape (packet_shape::), u16 source port, u16
//            destination port (ICMP: type, code), u8 payload bytes after the transport header.
// RawPacket: u8 kind, u8 hook, u8 devices, u8 n, then n bytes: the datagram as it is.
inline constexpr std::string_view kDevices[8] = {"", "eth0", "eth1", "lo", "eth0.100", "wlan0", "veth0123456789a", "ethx"};
inline constexpr uint32_t kAddrs[8] = {0x0A000001, 0x0A000002, 0x0A000105, 0xC0A80101,
                                       0x00000000, 0xFFFFFFFF, 0x0AFFFFFF, 0xAC100001};
inline constexpr uint8_t kProtos[8] = {6, 17, 1, 47, 0, 132, 50, 255};
namespace packet_shape {
// bits 1:0 fragment: none, offset 1 (TCP's "evil" offset), offset 8 with MF, MF at offset 0;
// bit 2: 4 bytes of options; bits 5:3: the transport header cut to (n - 1) * 3 bytes (0: whole);
// bit 6: 16 bytes of link padding after the datagram; bit 7: the bytes cut inside the datagram.
inline constexpr uint8_t kOptions = 0x04, kPad = 0x40, kCut = 0x80;
constexpr uint8_t frag(unsigned f) { return static_cast<uint8_t>(f & 3u); }
constexpr uint8_t l4_cut(unsigned n) { return static_cast<uint8_t>((n & 7u) << 3); }
}  // namespace packet_shape

struct Summary {
  unsigned records = 0;
  uint64_t commands = 0, refused = 0;
  uint64_t packets = 0, accepted = 0, dropped = 0, rejected = 0, hotdropped = 0, unreadable = 0, no_table = 0;
  uint64_t by_policy = 0;      // verdicts a chain's policy gave
  uint64_t max_rules = 0;      // rules in all tables at once, at most
  uint64_t round_trips = 0;    // -S listings fed back into a fresh IpTables
  uint64_t round_trips_renamed = 0;  // of which cut short by a chain -E named as -N may not
};
std::string describe(const Summary& s);

// Runs one input on a fresh IpTables, checking after every record (a violation prints what and
// aborts: libFuzzer saves the input):
//  - exec: a refused command (status != 0) changes nothing: `-S -v` of every loaded table is as
//    before (rules and counters), a table it loaded is as a fresh one; status 0 to 4; the refused
//    count moves by one exactly when it refuses; a loaded table stays loaded;
//  - after a command that succeeded, each table's `-S` fed line by line into a fresh IpTables
//    gives the same `-S` (iptables-save and -restore agree), where the listing is plain words
//    (no quoted word was ever accepted) and no chain has a name only -E gives (1.8.9's -E does
//    not check the new name as -N does);
//  - run: the bytes are unreadable exactly when they are no IPv4 header (then nothing counted);
//    as many tables ran as are loaded at the hook (fewer only after a drop); the deciding rule is
//    within its chain's rule count, or 0 and the chain is the hook's built-in chain and its
//    policy's counter moved, the verdict its policy's; a deciding rule's counter moved (not for
//    a hotdrop); REJECT only from filter; every counter only grows, by the packet's total length
//    per packet; the rules do not change.
Summary run_input(std::span<const uint8_t> input, bool verbose = false);

class Writer {
 public:
  // The line's words (split on blanks) as dictionary indices where they are in it, else as bytes.
  Writer& command(std::string_view line);
  struct PacketArgs {
    uint8_t hook = 0;     // NF_INET_*
    uint8_t devices = 0;  // in | out << 3
    uint8_t src = 1, dst = 0, proto = 1;
    uint8_t shape = 0;
    uint16_t sport = 1000, dport = 53;
    uint8_t payload = 16;
  };
  Writer& packet(const PacketArgs& a);
  Writer& raw_packet(uint8_t hook, uint8_t devices, std::span<const uint8_t> bytes);
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) {
    b_.push_back(static_cast<uint8_t>(v));
    b_.push_back(static_cast<uint8_t>(v >> 8));
  }
  std::vector<uint8_t> b_;
};

}  // namespace vnic::fuzz::ipt
