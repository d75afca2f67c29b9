// The loopback device, lo (drivers/net/loopback.c, Linux 6.1): one per NetStack, ifindex 1,
// mtu 65536, IFF_LOOPBACK, no queue (IFF_NO_QUEUE: the noqueue qdisc). Its ndo_start_xmit
// (loopback_xmit) turns every packet sent to it around into the host's own input backlog.
#pragma once

#include <cstdint>

#include "vnic/stack/netdev.hpp"

namespace vnic::stack {

class Loopback final : public NetDevice {
 public:
  // Where loopback_xmit hands a packet: the owner's eth_type_trans and __netif_rx (the skb is the
  // callee's, which counts and traces a drop); the bytes queued from the IP header on, which the
  // device counts (NET_RX_SUCCESS), or 0 for a packet not queued.
  using RxFn = uint32_t (*)(void* ctx, SkBuff* skb);

  static constexpr uint32_t kMtu = 65536;  // LOOPBACK_MTU (64 KiB: one IP datagram and its headers)

  // loopback_setup (gen_lo_setup): name, MTU, flags; the device is up from the start (the boot
  // scripts' `ip link set lo up`), its queue running.
  Loopback(RxFn rx, void* ctx);

  Co<int> open() override { co_return 0; }
  Co<int> stop() override { co_return 0; }
  // loopback_xmit: skb_orphan (the sender's socket charge is released here), the output route kept
  // (skb_dst_force: the owner's rx marks it), eth_type_trans, then __netif_rx on this CPU; the
  // packet and its bytes counted once it is queued (dev_lstats_add). Never busy.
  NetdevTx start_xmit(SkBuff* skb, bool xmit_more) override;
  // loopback_get_stats64: what went out came in, the same counters both ways.
  LinkStats64 get_stats64() const override;
  // lo has no ethtool driver information, coalescing or rings (ethtool answers "Operation not
  // supported"); empty answers here.
  EthtoolDrvinfo get_drvinfo() const override { return {}; }
  EthtoolCoalesce get_coalesce() const override { return {}; }
  Co<int> set_coalesce(EthtoolCoalesce) override { co_return -kEOPNOTSUPP; }
  EthtoolRingparam get_ringparam() const override { return {}; }
  EthtoolLinkSettings get_link_ksettings() const override;
  std::vector<EthtoolStat> get_ethtool_stats() const override { return {}; }

  // dev_lstats (pcpu_lstats summed): packets and bytes handed to the backlog.
  uint64_t lstats_packets() const { return packets_; }
  uint64_t lstats_bytes() const { return bytes_; }

 private:
  RxFn rx_;
  void* rx_ctx_;
  uint64_t packets_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace vnic::stack
