// vnic_iptables_fuzz: the iptables fuzz target (libFuzzer's own main; no SystemC here). Each input
// is a sequence of commands and packets run on a fresh IpTables (iptables_fuzz_harness.hpp); a
// broken invariant aborts.
#include <cstddef>
#include <cstdint>

#include "iptables_fuzz_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vnic::fuzz::ipt::run_input({data, size});
  return 0;
}
