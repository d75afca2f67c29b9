// NF_HOOK for IPv4 (include/linux/netfilter.h, net/netfilter/core.c nf_hook_slow, Linux 6.1):
// the namespace's ip_tables at one of the five hooks, the verdict carried out. A hook no loaded
// table is registered at costs nothing and is not traced, as a kernel without the hook
// registered runs straight to the okfn.
#include "vnic/stack/net.hpp"
#include "vnic/stack/netfilter.hpp"

namespace vnic::stack {

bool NetStack::nf_hook(Cpu& cpu, uint8_t hook, SkBuff* skb, const NetDevice* in, const NetDevice* out,
                       model::Step step) {
  const auto h = static_cast<NfHook>(hook);
  if (!ipt_->hook_active(h)) [[likely]] return true;
  cpu.charge(cpu.costs().nf_hook);
  // The tables see the datagram from its IP header (skb->data there at every IPv4 hook).
  const NfVerdict v = ipt_->run(h, skb->bytes(), in != nullptr ? std::string_view(in->name) : std::string_view(),
                                out != nullptr ? std::string_view(out->name) : std::string_view());
  trace_event(cpu, TraceKind::NfHook, step, skb->trace_id, hook, v.rule);
  if (!v.dropped()) return true;
  // NF_DROP: nf_hook_slow frees it (NETFILTER_DROP) and the okfn never runs. A REJECT first
  // answers, when nf_send_unreach would (ipt_REJECT's reject_tg).
  if (v.reject && nf_reject_sends_icmp(skb->bytes(), h, skb->ip_summed)) {
    icmp_send(cpu, *skb, v.reject->type, v.reject->code, 0);
  }
  ++stats_.nf_dropped;
  if (v.hotdrop) ++stats_.nf_hotdrop;
  drop(cpu, skb, SkbDropReason::NetfilterDrop, step, model::host_drop(model::HostDrop::NetfilterDrop));
  return false;
}

}  // namespace vnic::stack
