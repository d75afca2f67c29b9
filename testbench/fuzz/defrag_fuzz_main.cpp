// vnic_defrag_fuzz: the reassembly fuzz target (libFuzzer's own main; no SystemC here). Each input
// is an op stream run on a fresh NetStack (defrag_fuzz_harness.hpp); a broken invariant aborts.
#include <cstddef>
#include <cstdint>

#include "defrag_fuzz_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vnic::fuzz::defrag::run_input({data, size});
  return 0;
}
