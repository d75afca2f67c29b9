// RootComplex implementation.
#include "vnic/tb/root_complex.hpp"

#include <cstring>

namespace vnic::tb {

RootComplex::RootComplex(sc_core::sc_module_name name)
    : sc_core::sc_module(name), from_device("from_device"), to_memory("to_memory") {
  from_device.register_b_transport(this, &RootComplex::b_transport);
  from_device.register_get_direct_mem_ptr(this, &RootComplex::get_direct_mem_ptr);
  from_device.register_transport_dbg(this, &RootComplex::transport_dbg);
  to_memory.register_invalidate_direct_mem_ptr(this, &RootComplex::invalidate);
}

void RootComplex::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  const uint64_t a = p.get_address();
  if (!in_msi_window(a)) {
    to_memory->b_transport(p, delay);
    return;
  }
  p.set_dmi_allowed(false);
  if (p.get_command() == tlm::TLM_IGNORE_COMMAND) {  // a posted write's address probe
    // Only a 4-byte message can land here: anything else (RX data aimed at the window) is refused now.
    p.set_response_status(p.get_data_length() == 4 ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (p.get_command() != tlm::TLM_WRITE_COMMAND || p.get_data_length() != 4) {
    ++stats_.msi_bad;
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  uint32_t data = 0;
  const uint8_t* d = p.get_data_ptr();
  data = uint32_t{d[0]} | uint32_t{d[1]} << 8 | uint32_t{d[2]} << 16 | uint32_t{d[3]} << 24;
  ++stats_.msi_messages;
  p.set_response_status(tlm::TLM_OK_RESPONSE);
  if (msi_fn_ != nullptr) msi_fn_(msi_ctx_, a, data);
}

bool RootComplex::get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi) {
  if (in_msi_window(p.get_address())) return false;
  if (!to_memory->get_direct_mem_ptr(p, dmi)) return false;
  // Never let a DMI region cover the MSI window: clip it to one side.
  if (dmi.get_start_address() < kMsiWindowBase + kMsiWindowSize && dmi.get_end_address() >= kMsiWindowBase) {
    if (p.get_address() < kMsiWindowBase) {
      dmi.set_end_address(kMsiWindowBase - 1);
    } else {
      const uint64_t cut = kMsiWindowBase + kMsiWindowSize - dmi.get_start_address();
      dmi.set_dmi_ptr(dmi.get_dmi_ptr() + cut);
      dmi.set_start_address(kMsiWindowBase + kMsiWindowSize);
    }
  }
  return true;
}

unsigned RootComplex::transport_dbg(tlm::tlm_generic_payload& p) {
  if (in_msi_window(p.get_address())) return 0;
  return to_memory->transport_dbg(p);
}

void RootComplex::invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
  from_device->invalidate_direct_mem_ptr(start, end);
}

}  // namespace vnic::tb
