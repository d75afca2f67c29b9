// NetRig: one NetStack on a FakeCpu with a capturing net_device, a free hook that records every
// end, and a recording trace sink; helpers that build frames and datagrams for its tests.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack::testing {

// A trace sink that keeps every event.
struct RecordingSink : TraceSink {
  struct Rec {
    std::string source;
    TraceEvent e;
  };
  std::vector<Rec> events;
  void trace(const char* source, const TraceEvent& e) override { events.push_back({source, e}); }
  std::vector<TraceEvent> of_packet(uint64_t id) const {
    std::vector<TraceEvent> v;
    for (const Rec& r : events) {
      if (r.e.packet == id) v.push_back(r.e);
    }
    return v;
  }
  std::size_t count(TraceKind k) const {
    std::size_t n = 0;
    for (const Rec& r : events) n += r.e.kind == k ? 1 : 0;
    return n;
  }
};

// A device that keeps what the stack sends (the frames' bytes) and completes it at once.
struct CaptureNetDevice : StubNetDevice {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint64_t> ids;
  std::vector<const Sock*> owners;  // the socket each was charged to (skb->sk), or null
  NetdevTx start_xmit(SkBuff* skb, bool) override {
    frames.emplace_back(skb->bytes().begin(), skb->bytes().end());
    ids.push_back(skb->trace_id);
    owners.push_back(skb->sk);
    consume_skb(skb);
    return NetdevTx::Ok;
  }
};

inline const model::MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
inline const model::MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
inline wire::Ipv4Addr ip4(const char* s) { return *wire::Ipv4Addr::parse(s); }
inline wire::Ipv4Cidr cidr(const char* s) { return *wire::Ipv4Cidr::parse(s); }

struct NetRig {
  FakeCpu cpu;
  FakeMemory mem;
  SkbPool pool{mem, 2048, 1024};
  Softnet softnet{cpu, NetCoreSysctls{}};  // the backlog lo's packets go to (cpu.run() polls it)
  CaptureNetDevice dev;
  RecordingSink sink;
  std::unique_ptr<NetStack> net;
  int ifindex = 0;
  struct End {
    uint64_t id;
    SkbDropReason reason;  // NotDroppedYet: consumed
  };
  std::vector<End> ends;

  explicit NetRig(NetStackConfig cfg = {}, const char* addr = "10.0.0.1/24") {
    cfg.name = "host_a";
    net = std::make_unique<NetStack>(cfg, std::vector<Cpu*>{&cpu}, pool);
    net->set_trace(&sink, "host_a");
    net->set_id_base(uint64_t{1} << 32);
    net->attach_softnet(softnet);
    dev.name = "eth0";
    dev.dev_addr = kMacA;
    ifindex = net->register_netdev(dev);
    dev.up = true;
    dev.carrier = true;
    dev.netif_tx_start_queue();
    net->netdev_up(ifindex);
    if (addr != nullptr) net->ip_addr_add(ifindex, cidr(addr));
    pool.set_free_hook(
        [](void* ctx, const SkBuff& s, SkbDropReason r) {
          if (s.trace_id != 0) static_cast<NetRig*>(ctx)->ends.push_back({s.trace_id, r});
        },
        this);
  }

  ~NetRig() {
    pool.set_free_hook(nullptr, nullptr);  // packets still waiting are freed with the stack, after `ends`
    net.reset();
  }
  NetRig(const NetRig&) = delete;
  NetRig& operator=(const NetRig&) = delete;

  // An Ethernet frame to us (or `dst_mac`) carrying `ethertype` and `payload`, through
  // eth_type_trans, with packet id `id`.
  SkBuff* frame(uint16_t ethertype, const std::vector<uint8_t>& payload, uint64_t id = 7,
                model::MacAddr dst_mac = kMacA) {
    // At least 60 bytes, the Ethernet minimum without the FCS: short payloads carry padding.
    SkBuff* s = pool.alloc(static_cast<uint32_t>(std::max<std::size_t>(60, 14 + payload.size())));
    std::memset(s->bytes().data(), 0, s->len);
    wire::EthernetRepr eth;
    eth.dst = dst_mac;
    eth.src = kMacB;
    eth.ethertype = static_cast<wire::EtherType>(ethertype);
    eth.emit(s->bytes().first(14));
    std::memcpy(s->bytes().data() + 14, payload.data(), payload.size());
    s->trace_id = id;
    eth_type_trans(*s, dev);
    return s;
  }
  // An IPv4 datagram (checksum filled) with `l4` as its payload.
  static std::vector<uint8_t> datagram(const char* src, const char* dst, uint8_t proto, const std::vector<uint8_t>& l4,
                                       uint16_t frag = 0, uint8_t ttl = 64) {
    wire::Ipv4Repr r;
    r.src = ip4(src);
    r.dst = ip4(dst);
    r.protocol = static_cast<wire::IpProtocol>(proto);
    r.ttl = ttl;
    r.more_fragments = (frag & wire::kIpv4FlagMf) != 0;
    r.frag_offset = static_cast<uint16_t>((frag & wire::kIpv4FragOffsetMask) * 8);
    r.payload_len = static_cast<uint16_t>(l4.size());
    std::vector<uint8_t> v(r.total_len());
    r.emit(v);
    std::memcpy(v.data() + r.header_len(), l4.data(), l4.size());
    return v;
  }
  void receive(SkBuff* s) { net->netif_receive_skb_core(s); }
  const End* end_of(uint64_t id) const {
    for (const End& e : ends) {
      if (e.id == id) return &e;
    }
    return nullptr;
  }
};

}  // namespace vnic::stack::testing
