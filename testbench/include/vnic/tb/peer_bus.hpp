// PeerBus: an interconnect that can forward a device's DMA to the device's own BAR, as a PCIe
// switch with peer-to-peer routing does. The project's root complex refuses such DMA; an
// embedding platform may not, and the NIC must survive it (re-entrancy, interrupt loops). The
// CPU side reaches the BAR by offset, as TestHost does; device accesses inside
// [bar0, bar0 + kBar0Size) go to the BAR when forwarding is on (refused otherwise), the rest to
// the root complex.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>

namespace vnic::tb {

struct PeerBusStats {
  uint64_t to_bar = 0;       // device accesses forwarded to the BAR
  uint64_t bar_refused = 0;  // device accesses to the BAR refused (forwarding off)
};

class PeerBus : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<PeerBus> from_cpu;     // BAR offsets
  tlm_utils::simple_target_socket<PeerBus> from_device;  // bus addresses
  tlm_utils::simple_initiator_socket<PeerBus> to_bar;    // the device's BAR0 (offsets)
  tlm_utils::simple_initiator_socket<PeerBus> to_host;   // root complex / memory

  explicit PeerBus(sc_core::sc_module_name name);
  void set_bar0(uint64_t base) { bar0_ = base; }
  void set_forwarding(bool on) { forwarding_ = on; }
  const PeerBusStats& stats() const { return stats_; }

 private:
  bool in_bar(uint64_t a) const;
  void cpu_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void device_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  bool device_dmi(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
  void invalidate(sc_dt::uint64 start, sc_dt::uint64 end);

  uint64_t bar0_ = 0;
  bool forwarding_ = true;
  PeerBusStats stats_;
};

}  // namespace vnic::tb
