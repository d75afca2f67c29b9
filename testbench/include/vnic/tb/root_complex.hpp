// RootComplex: what a device's DMA reaches on the host side. Memory writes into the MSI window
// (0xFEE00000, as on x86) are interrupt messages, decoded by a small interrupt controller and
// handed to the host's handler at the moment they land; everything else goes on to host memory
// (with its IOMMU-like check), DMI included.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>

namespace vnic::tb {

inline constexpr uint64_t kMsiWindowBase = 0xFEE0'0000;
inline constexpr uint64_t kMsiWindowSize = 0x10'0000;

struct RootComplexStats {
  uint64_t msi_messages = 0;  // interrupt messages delivered
  uint64_t msi_bad = 0;       // malformed messages (not 4 bytes, or reads of the window) refused
};

class RootComplex : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<RootComplex> from_device;
  tlm_utils::simple_initiator_socket<RootComplex> to_memory;

  // Called with the message's address and data when an interrupt message lands.
  using MsiHandler = void (*)(void* ctx, uint64_t addr, uint32_t data);

  explicit RootComplex(sc_core::sc_module_name name);
  void set_msi_handler(MsiHandler fn, void* ctx) {
    msi_fn_ = fn;
    msi_ctx_ = ctx;
  }
  const RootComplexStats& stats() const { return stats_; }

 private:
  static bool in_msi_window(uint64_t a) { return a >= kMsiWindowBase && a < kMsiWindowBase + kMsiWindowSize; }
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);
  void invalidate(sc_dt::uint64 start, sc_dt::uint64 end);

  MsiHandler msi_fn_ = nullptr;
  void* msi_ctx_ = nullptr;
  RootComplexStats stats_;
};

}  // namespace vnic::tb
