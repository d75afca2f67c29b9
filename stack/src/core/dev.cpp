// The receive core of net/core/dev.c (Linux 6.1): __netif_receive_skb_core from the network
// header on: ptype_all taps, tc ingress (sch_handle_ingress with a clsact queue), ptype_base
// dispatch by EtherType; and dev_queue_xmit_nit, the taps' view of outgoing packets.
#include "net_priv.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

void NetStack::rx_handler(void* ctx, SkBuff* skb) { static_cast<NetStack*>(ctx)->netif_receive_skb_core(skb); }

bool NetStack::deliver_taps(Cpu& cpu, Dev& d, SkBuff* skb, bool outgoing) {
  // deliver_skb -> packet_rcv for each ptype_all entry: a clone (the skb is shared), which the tap
  // reads and gives back. The clone is not a packet of the account: its id is cleared before it
  // is freed, so the free hook sees one end per packet id.
  for (const Dev::Tap& t : d.taps) {
    cpu.charge(cpu.costs().tap);
    SkBuff* c = skb_clone(skb);
    if (c == nullptr) {
      ++stats_.tap_clone_failed;
      continue;
    }
    if (!outgoing) skb_push(*c, c->mac_len);  // packet_rcv: the tap sees the link-layer header
    trace_event(cpu, TraceKind::Tap, outgoing ? model::egress(10) : model::ingress(13), skb->trace_id, outgoing ? 1 : 0);
    t.fn(t.ctx, *c, outgoing, cpu.now());
    c->trace_id = 0;
    consume_skb(c);
  }
  return true;
}

void NetStack::xmit_nit(void* ctx, Cpu& cpu, SkBuff* skb) {
  // dev_queue_xmit_nit (from xmit_one): the taps of the device see the frame as it leaves.
  auto* net = static_cast<NetStack*>(ctx);
  Dev* d = net->dev_entry(skb->dev);
  if (d == nullptr || d->taps.empty()) return;
  net->deliver_taps(cpu, *d, skb, true);
}

namespace {

// fl_classify's match on what a flower filter set: EtherType, then for IPv4 the protocol and
// the addresses (a datagram too short to read them does not match).
bool tc_match(const TcFilter& f, const SkBuff& skb) {
  if (f.protocol != 0x0003 && f.protocol != skb.protocol) return false;
  if (!f.ip_proto && !f.src_ip && !f.dst_ip) return true;
  if (skb.protocol != 0x0800) return false;
  const auto b = skb.bytes();
  if (b.size() < wire::kIpv4MinHeaderLen || (b[0] >> 4) != 4) return false;
  if (f.ip_proto && b[9] != *f.ip_proto) return false;
  if (f.src_ip && !f.src_ip->contains(wire::load_ipv4(b, 12))) return false;
  if (f.dst_ip && !f.dst_ip->contains(wire::load_ipv4(b, 16))) return false;
  return true;
}

}  // namespace

bool NetStack::sch_handle_ingress(Cpu& cpu, Dev& d, SkBuff*& skb) {
  // sch_handle_ingress: the miniq counts the packet (qdisc_pkt_len = skb->len, the L3 length
  // here), tcf_classify runs the filters in pref order, the first match's action decides.
  cpu.charge(cpu.costs().tc_ingress);
  d.cls.bytes += skb->len;
  ++d.cls.packets;
  for (TcFilter& f : d.filters) {
    if (!tc_match(f, *skb)) continue;
    f.bytes += skb->len;
    ++f.packets;
    if (f.action == TcAction::Shot) {
      ++f.drops;
      ++d.cls.drops;  // mini_qdisc_qstats_cpu_drop
      trace_event(cpu, TraceKind::TcIngress, model::ingress(13), skb->trace_id, static_cast<uint32_t>(TcAction::Shot),
                  f.pref);
      drop(cpu, skb, SkbDropReason::TcIngress, model::ingress(13), model::host_drop(model::HostDrop::ClsactDropped));
      skb = nullptr;
      return false;
    }
    trace_event(cpu, TraceKind::TcIngress, model::ingress(13), skb->trace_id, static_cast<uint32_t>(TcAction::Ok), f.pref);
    return true;
  }
  // No filter matched: TC_ACT_UNSPEC (-1), the packet goes on.
  trace_event(cpu, TraceKind::TcIngress, model::ingress(13), skb->trace_id, 0xFFFFFFFFu, 0);
  return true;
}

void NetStack::netif_receive_skb_core(SkBuff* skb) {
  // ingress 13: __netif_receive_skb_core (softnet_stat's processed was counted by the caller).
  Cpu& cpu = *cpus_[0];
  skb_reset_network_header(*skb);
  if (!skb_transport_header_was_set(*skb)) skb_reset_transport_header(*skb);
  skb_reset_mac_len(*skb);
  trace_event(cpu, TraceKind::ReceiveCore, model::ingress(13), skb->trace_id, skb->protocol);
  Dev* d = dev_entry(skb->dev);
  if (d == nullptr) {
    // Not one of this namespace's devices: nothing can take it (a wiring error of the caller).
    if (skb->dev != nullptr) ++skb->dev->rx_dropped_core;
    drop(cpu, skb, SkbDropReason::UnhandledProto, model::ingress(13));
    return;
  }
  if (!d->taps.empty()) deliver_taps(cpu, *d, skb, false);
  if (d->clsact && !sch_handle_ingress(cpu, *d, skb)) return;
  // ptype_base: deliver_ptype_list_skb by EtherType.
  switch (skb->protocol) {
    case 0x0800:
      ip_rcv(skb);
      return;
    case 0x0806:
      neigh_->arp_rcv(skb);  // the table emits the frame's end (Consumed or Drop)
      return;
    default:
      break;
  }
  for (const Ptype& p : ptypes_) {
    if (p.type == skb->protocol) {
      p.fn(p.ctx, skb);
      return;
    }
  }
  // No handler: without exact delivery (bonding) 6.1 counts the device's rx_dropped, not
  // rx_nohandler (dev_core_stats_rx_dropped_inc), and frees with UNHANDLED_PROTO.
  ++skb->dev->rx_dropped_core;
  drop(cpu, skb, SkbDropReason::UnhandledProto, model::ingress(13), model::host_drop(model::HostDrop::RxDroppedCore));
}

}  // namespace vnic::stack
