// A libFuzzer target for one wire parser, with libFuzzer's own main (no SystemC here). Built
// once per format: VNIC_WIRE_FUZZ_FORMAT names it ("ethernet", "arp", "ipv4", "icmp",
// "checksum", "udp", "tcp"); testbench/fuzz/CMakeLists.txt makes vnic_wire_fuzz_<format>.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "wire_fuzz_checks.hpp"

namespace {

vnic::fuzz::wire::Format the_format() {
  const auto f = vnic::fuzz::wire::format_from_name(VNIC_WIRE_FUZZ_FORMAT);
  if (!f) {
    std::fprintf(stderr, "unknown wire fuzz format %s\n", VNIC_WIRE_FUZZ_FORMAT);
    std::abort();
  }
  return *f;
}
const vnic::fuzz::wire::Format kFormat = the_format();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vnic::fuzz::wire::check_input(kFormat, {data, size});
  return 0;
}
