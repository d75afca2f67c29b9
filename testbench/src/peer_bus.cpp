// PeerBus implementation.
#include "vnic/tb/peer_bus.hpp"

#include "vnic/model/regs.hpp"

namespace vnic::tb {

PeerBus::PeerBus(sc_core::sc_module_name name)
    : sc_core::sc_module(name), from_cpu("from_cpu"), from_device("from_device"), to_bar("to_bar"), to_host("to_host") {
  from_cpu.register_b_transport(this, &PeerBus::cpu_transport);
  from_device.register_b_transport(this, &PeerBus::device_transport);
  from_device.register_get_direct_mem_ptr(this, &PeerBus::device_dmi);
  to_host.register_invalidate_direct_mem_ptr(this, &PeerBus::invalidate);
}

bool PeerBus::in_bar(uint64_t a) const { return a >= bar0_ && a - bar0_ < model::regs::kBar0Size; }

void PeerBus::cpu_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) { to_bar->b_transport(p, delay); }

void PeerBus::device_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  const uint64_t a = p.get_address();
  if (!in_bar(a)) {
    to_host->b_transport(p, delay);
    return;
  }
  p.set_dmi_allowed(false);
  if (!forwarding_) {
    ++stats_.bar_refused;
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  ++stats_.to_bar;  // probes (TLM_IGNORE_COMMAND) included: the BAR answers them itself
  p.set_address(a - bar0_);
  to_bar->b_transport(p, delay);
  p.set_address(a);
}

bool PeerBus::device_dmi(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi) {
  if (in_bar(p.get_address())) return false;
  if (!to_host->get_direct_mem_ptr(p, dmi)) return false;
  // Never let a DMI region cover the BAR: clip it to the side the request was on.
  if (dmi.get_start_address() < bar0_ + model::regs::kBar0Size && dmi.get_end_address() >= bar0_) {
    if (p.get_address() < bar0_) {
      dmi.set_end_address(bar0_ - 1);
    } else {
      const uint64_t cut = bar0_ + model::regs::kBar0Size - dmi.get_start_address();
      dmi.set_dmi_ptr(dmi.get_dmi_ptr() + cut);
      dmi.set_start_address(bar0_ + model::regs::kBar0Size);
    }
  }
  return true;
}

void PeerBus::invalidate(sc_dt::uint64 start, sc_dt::uint64 end) { from_device->invalidate_direct_mem_ptr(start, end); }

}  // namespace vnic::tb
