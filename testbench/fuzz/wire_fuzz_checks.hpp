// The wire parsers under untrusted bytes: what every fuzz input is put through, shared by the
// libFuzzer targets (vnic_wire_fuzz_<format>) and the replay (docs/reliability.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vnic::fuzz::wire {

// One target per parser; Ethernet also hands its payload to ARP or IPv4, and IPv4 to ICMP, as
// the receive path does. Checksum fuzzes the accumulator and the incremental update. Udp and Tcp
// take the pseudo-header's addresses first (8 bytes: source, destination), then the datagram or
// segment (at most 65515 bytes, what one IPv4 datagram carries; the rest is ignored).
enum class Format : uint8_t { Ethernet, Arp, Ipv4, Icmp, Checksum, Udp, Tcp };
inline constexpr Format kFormats[] = {Format::Ethernet, Format::Arp,      Format::Ipv4, Format::Icmp,
                                      Format::Checksum, Format::Udp, Format::Tcp};

std::string_view format_name(Format f);
std::optional<Format> format_from_name(std::string_view s);

// Parses `input` as `f` (and what it carries), checks every property below, and returns the
// outcome of the innermost parse: "ipv4.ok", "icmp.BadChecksum", "ethernet.Truncated", ... A
// violated property prints what and aborts (libFuzzer saves the input).
//  - the parse answers exactly what an independent re-statement of Linux's checks, in Linux's
//    order, answers (ip_rcv_core, icmp_rcv and its handlers, arp_rcv/arp_process);
//  - every accessor of a checked view stays inside the input (ASan sees the input's exact size);
//  - a successful parse emits, and the emitted bytes parse back to an equal Repr, and to the
//    input's bytes where the Repr keeps every bit (all but IPv4's reserved flag, ICMP's unused
//    words, and the checksum fields, where 0x0000 and 0xFFFF are the same number);
//  - a header with a bad checksum is also tried with the checksum filled in, to reach further;
//  - IPv4: the in-place TTL decrement keeps a good checksum good and agrees with RFC 1624;
//    the option walk points inside the options;
//  - checksum: any split of the data sums as the whole; RFC 1624 agrees with recomputation;
//  - UDP: the view spans the length field's bytes; verify() agrees with a slow pseudo-header sum
//    (0: no checksum); emit's checksum is the input's when that one verified (never 0: 0xFFFF);
//  - TCP: tcp_parse_options agrees with a restatement of Linux's loop; the Repr's options emit
//    in at most 40 bytes, parse back (SACK blocks trimmed to what fits, unknown kinds dropped) and
//    emit again to the same bytes; the fixed header and the payload survive the round trip.
std::string check_input(Format f, std::span<const uint8_t> input);

}  // namespace vnic::fuzz::wire
