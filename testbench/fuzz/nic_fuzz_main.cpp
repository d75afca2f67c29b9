// The NIC's libFuzzer target. libsystemc.so owns main() and calls sc_main, so libFuzzer runs
// without its own main (libclang_rt.fuzzer_no_main) and is driven from here: the platform is
// elaborated once, and the harness returns it to power-on before every input.
//   vnic_nic_fuzz [libFuzzer flags] [corpus dirs or files]; VNIC_FUZZ_SKIP=check,... to look
//   past known violations (docs/reliability.md).
#include <systemc>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "nic_fuzz_harness.hpp"

extern "C" int LLVMFuzzerRunDriver(int* argc, char*** argv, int (*cb)(const uint8_t* data, size_t size));

namespace {
vnic::fuzz::NicFuzzHarness* harness = nullptr;
int one_input(const uint8_t* data, size_t size) { return harness->run(data, size); }
}  // namespace

int sc_main(int argc, char* argv[]) {
  vnic::fuzz::NicFuzzHarness h;
  if (const char* skip = std::getenv("VNIC_FUZZ_SKIP"); skip != nullptr && !h.skip(skip)) {
    std::fprintf(stderr, "VNIC_FUZZ_SKIP: unknown check in '%s'\n", skip);
    return 2;
  }
  harness = &h;
  return LLVMFuzzerRunDriver(&argc, &argv, &one_input);
}
