// Two NetStacks joined back to back: each host has a FakeCpu, a Softnet, a NetStack and a
// WireNetDevice whose start_xmit copies the frame into the peer's pool, runs eth_type_trans on
// the peer's device and queues it on the peer's backlog (netif_rx), keeping the packet's id.
// For stack tests that need a real exchange (ARP, IPv4, ICMP) without a NIC or SystemC.
#pragma once

#include <cstring>
#include <functional>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/softnet.hpp"

namespace vnic::stack::testing {

struct WireNetDevice : StubNetDevice {
  WireNetDevice* peer = nullptr;
  Softnet* peer_softnet = nullptr;
  SkbPool* peer_pool = nullptr;
  bool cut = false;                            // the cable is out: frames vanish (counted in lost)
  std::vector<std::vector<uint8_t>> sent;      // every frame put on the wire, Ethernet header first
  std::vector<model::Instant> sent_at;         // each frame's skb->tstamp (when its sender made it)
  uint64_t lost = 0;
  LinkStats64 stats{};
  // A test's fault injector: a frame it answers true for is lost on the wire (counted in lost).
  std::function<bool(std::span<const uint8_t> frame)> drop_if;
  // A test's router on the path: may rewrite the copy the peer receives (`sent` keeps the original).
  std::function<void(std::span<uint8_t> frame)> mangle;
  uint64_t last_id = 0;                        // the packet id of the frame being sent (for drop_if)

  NetdevTx start_xmit(SkBuff* skb, bool) override {
    const std::span<const uint8_t> f = skb->bytes();
    sent.emplace_back(f.begin(), f.end());
    sent_at.push_back(skb->tstamp);
    last_id = skb->trace_id;
    ++stats.tx_packets;
    stats.tx_bytes += skb->len;
    if (!cut && peer != nullptr && peer->up && !(drop_if && drop_if(f))) {
      SkBuff* c = peer_pool->alloc(skb->len);
      if (c != nullptr) {
        std::memcpy(c->head + c->data, f.data(), f.size());
        c->trace_id = skb->trace_id;
        if (mangle) mangle(c->bytes());
        ++peer->stats.rx_packets;
        peer->stats.rx_bytes += c->len;
        if (eth_type_trans(*c, *peer)) {
          peer_softnet->netif_rx(c);
        } else {
          kfree_skb(c, SkbDropReason::PktTooSmall);
        }
      } else {
        ++lost;
      }
    } else {
      ++lost;
    }
    consume_skb(skb);  // the TX completion
    return NetdevTx::Ok;
  }
  LinkStats64 get_stats64() const override { return stats; }
};

// One host of the pair.
struct WireHost {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 4096};
  Softnet softnet{cpu, NetCoreSysctls{}};
  WireNetDevice dev;
  std::unique_ptr<NetStack> net;
  int ifindex = 0;

  WireHost(const std::string& name, model::MacAddr mac, wire::Ipv4Cidr addr, NetStackConfig cfg = {}) {
    cfg.name = name;
    net = std::make_unique<NetStack>(cfg, std::vector<Cpu*>{&cpu}, pool);
    dev.name = "eth0";
    dev.dev_addr = mac;
    ifindex = net->register_netdev(dev);
    dev.up = true;
    dev.carrier = true;
    dev.netif_tx_start_queue();
    net->attach_softnet(softnet);
    net->netdev_up(ifindex);
    net->ip_addr_add(ifindex, addr);
  }
};

struct WirePair {
  WireHost a;
  WireHost b;
  WirePair(wire::Ipv4Cidr addr_a, wire::Ipv4Cidr addr_b, NetStackConfig cfg = {})
      : a("host_a", model::MacAddr{{0x02, 0, 0, 0, 0, 0x0a}}, addr_a, cfg),
        b("host_b", model::MacAddr{{0x02, 0, 0, 0, 0, 0x0b}}, addr_b, cfg) {
    a.dev.peer = &b.dev;
    a.dev.peer_softnet = &b.softnet;
    a.dev.peer_pool = &b.pool;
    b.dev.peer = &a.dev;
    b.dev.peer_softnet = &a.softnet;
    b.dev.peer_pool = &a.pool;
  }
  // Runs both CPUs' softirqs (and timers, while any are due before `until`) until both are idle.
  void run(int rounds = 1000) {
    for (int i = 0; i < rounds; ++i) {
      const bool any_a = a.cpu.run_softirqs();
      const bool any_b = b.cpu.run_softirqs();
      if (!any_a && !any_b) return;
    }
  }
};

}  // namespace vnic::stack::testing
