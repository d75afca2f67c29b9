// TEMPORARY: the netfilter hooks pass everything until the tables land.
#include "vnic/stack/net.hpp"

namespace vnic::stack {

bool NetStack::nf_hook(Cpu&, uint8_t, SkBuff*, const NetDevice*, const NetDevice*, model::Step) { return true; }

}  // namespace vnic::stack
