// The loopback device (drivers/net/loopback.c of Linux 6.1): loopback_setup, loopback_xmit and
// its per-CPU statistics (one counter pair here: the model's CPUs never race on it).
#include "vnic/stack/loopback.hpp"

namespace vnic::stack {

Loopback::Loopback(RxFn rx, void* ctx) : rx_(rx), rx_ctx_(ctx) {
  name = "lo";
  mtu = kMtu;
  dev_addr = model::MacAddr{};  // 00:00:00:00:00:00 (addr_len 6, never set)
  loopback = true;
  // ip link set lo up: netif_carrier is always on for lo (it has no carrier of its own).
  up = true;
  carrier = true;
  netif_tx_start_queue();
  // NETIF_F_LLTX and no queue: BQL never applies (no netdev_tx_sent_queue calls).
  bql_enabled = false;
}

NetdevTx Loopback::start_xmit(SkBuff* skb, bool xmit_more) {
  (void)xmit_more;
  // skb_clear_tstamp: the receive side stamps it again. skb_orphan: the sending socket's
  // sk_wmem_alloc charge goes now, not when the receiver frees the packet.
  skb->tstamp = {};
  skb_orphan(*skb);
  // eth_type_trans and __netif_rx; lo counts the bytes from the IP header on
  if (const uint32_t len = rx_(rx_ctx_, skb); len != 0) {
    ++packets_;  // dev_lstats_add: only what __netif_rx queued
    bytes_ += len;
  }
  return NetdevTx::Ok;
}

LinkStats64 Loopback::get_stats64() const {
  LinkStats64 s;
  s.rx_packets = s.tx_packets = packets_;
  s.rx_bytes = s.tx_bytes = bytes_;
  return s;
}

EthtoolLinkSettings Loopback::get_link_ksettings() const {
  EthtoolLinkSettings s;
  s.link = true;  // always_on
  s.port = "";
  return s;
}

}  // namespace vnic::stack
