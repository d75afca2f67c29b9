// TEMPORARY stand-in (replaced by the reassembly code): fragments are refused as in part 1a.
#include "vnic/stack/net.hpp"

namespace vnic::stack {

struct IpFrags {};

void NetStack::ip_frags_init() { frags_ = new IpFrags; }
void NetStack::ip_frags_exit() {
  delete frags_;
  frags_ = nullptr;
}
std::size_t NetStack::frag_queues() const { return 0; }
uint64_t NetStack::frag_mem() const { return 0; }

SkBuff* NetStack::ip_defrag(Cpu& cpu, SkBuff* skb) {
  ++mib_.ReasmReqds;
  ++mib_.ReasmFails;
  drop(cpu, skb, SkbDropReason::NotSpecified, model::ingress(18));
  return nullptr;
}

int NetStack::ip_do_fragment(Cpu& cpu, SkBuff* skb, uint32_t, FragOutput, void*) {
  ++mib_.FragFails;
  drop(cpu, skb, SkbDropReason::NotSpecified, model::egress(9));
  return -kEMSGSIZE;
}

}  // namespace vnic::stack
