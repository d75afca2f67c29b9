// The device rig of the NIC's device tests: one NIC looped back to itself, a test host that
// programs it directly, host memory; optionally a peer-to-peer bus.
#pragma once

#include <systemc>

#include <algorithm>
#include <memory>
#include <vector>

#include "vnic/hw/nic.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/peer_bus.hpp"
#include "vnic/tb/test_host.hpp"

namespace vnic::test {

namespace regs = vnic::model::regs;
using regs::Stat;
using vnic::model::Duration;
using vnic::model::Frame;
using vnic::model::MacAddr;
using vnic::model::TxDesc;

constexpr uint64_t kBase = 0x1'0000'0000ull;

// A medium that sends every frame straight back to the station after its wire time.
class Loopback : public vnic::hw::EthMedium {
 public:
  explicit Loopback(vnic::hw::EventQueue& q) : q_(q) {}
  void attach(unsigned, vnic::hw::EthEndpoint* ep) override { ep_ = ep; }
  bool transmit(unsigned, Frame&& f, uint64_t) override {
    ++sent;
    in_flight_.push_back(std::move(f));  // the last bit has left: deliver now
    q_.after<&Loopback::deliver>(sc_core::SC_ZERO_TIME, this);
    return true;
  }
  bool up() const override { return true; }
  std::size_t in_flight() const { return in_flight_.size(); }
  vnic::model::BitRate rate() const override { return vnic::model::BitRate::gbps(10); }
  uint64_t sent = 0;

 private:
  void deliver(uint64_t) {
    Frame f = std::move(in_flight_.front());
    in_flight_.erase(in_flight_.begin());
    ep_->eth_receive(std::move(f));
  }
  vnic::hw::EventQueue& q_;
  vnic::hw::EthEndpoint* ep_ = nullptr;
  std::vector<Frame> in_flight_;
};

struct Rig {
  vnic::hw::EventQueue q{"q"};
  vnic::tb::HostMemory mem{"mem", kBase, 8u << 20};
  vnic::hw::Nic nic;
  Loopback wire{q};
  std::unique_ptr<vnic::tb::PeerBus> bus;  // only when the rig is built with a peer-to-peer bus
  std::unique_ptr<vnic::tb::TestHost> host;
  static vnic::hw::NicConfig cfg() {
    vnic::hw::NicConfig c;
    c.perm_mac = MacAddr{{0x02, 0, 0, 0, 0, 0x11}};
    c.reset_ns = 0;  // the test host does not wait for RESET_DONE (the reset test sets its own)
    return c;
  }
  // peer_bus: the CPU and the device go through a PeerBus that forwards the device's DMA to
  // its own BAR0 (a platform with peer-to-peer routing) when bus.set_forwarding(true).
  explicit Rig(vnic::tb::TestHostConfig hc = small(), const vnic::hw::NicConfig& nc = cfg(), bool peer_bus = false)
      : nic("nic", q, nc) {
    nic.attach(&wire, 0);
    hc.pattern.src = hc.pattern.dst = cfg().perm_mac;
    host = std::make_unique<vnic::tb::TestHost>("host", q, mem, hc);
    if (peer_bus) bus = std::make_unique<vnic::tb::PeerBus>("bus");
    host->connect(nic, bus.get());
    host->expect(hc.pattern);
  }
  static vnic::tb::TestHostConfig small() {
    vnic::tb::TestHostConfig h;
    h.tx_ring = 64;
    h.rx_ring = 64;
    return h;
  }
  uint64_t stat(Stat s) const { return nic.stat(s); }
  uint32_t rd(const regs::Reg& r, unsigned i = 0) { return host->read32(r.offset_of(i)); }
  void wr(const regs::Reg& r, uint32_t v, unsigned i = 0) { host->write32(r.offset_of(i), v); }
  void run_for(Duration d) { sc_core::sc_start(vnic::hw::from_ps(static_cast<uint64_t>(d.ps()))); }
  // Writes TX descriptor `slot` of the host's ring.
  void put_tx(uint32_t slot, uint64_t addr, uint16_t len, uint8_t cmd) {
    TxDesc d;
    d.buf_addr = addr;
    d.length = len;
    d.cmd = cmd;
    vnic::model::encode(d, mem.view(host->tx_ring_addr() + slot * 16ull, 16).first<16>());
  }
  uint64_t buf(uint32_t len) {
    const uint64_t a = mem.alloc(len, 64);
    auto v = mem.view(a, len);
    for (uint32_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(i);
    const MacAddr self = cfg().perm_mac;
    std::copy(self.b.begin(), self.b.end(), v.begin());  // to ourselves
    return a;
  }
  uint32_t err_cause() { return rd(regs::kErrCause); }
};

}  // namespace vnic::test
