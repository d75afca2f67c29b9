// NetStack's per-device state (struct net_device's protocol-side parts: ptype_all taps, the
// clsact ingress queue and its filters), shared by the files that implement NetStack.
#pragma once

#include <vector>

#include "vnic/stack/net.hpp"

namespace vnic::stack {

struct NetStack::Dev {
  NetDevice* dev = nullptr;
  int ifindex = 0;
  struct Tap {
    TapFn fn;
    void* ctx;
  };
  std::vector<Tap> taps;          // dev->ptype_all
  bool clsact = false;            // dev->miniq_ingress
  ClsactStats cls{};
  std::vector<TcFilter> filters;  // sorted by pref
  uint32_t next_pref = 49152;     // tc's automatic prefs: 0xc000, then one less each time
};

}  // namespace vnic::stack
