// A small SystemC platform embedding the vnic NIC, as a co-simulation user builds one: host
// memory for the NIC's DMA, a CPU that reaches BAR0 through a TLM socket, and a loopback cable.
// The CPU brings the NIC up by hand (no driver model), sends one frame to itself, and checks the
// frame that comes back. Exit status 0 when it did, intact.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <span>
#include <vector>

#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/mac_addr.hpp"
#include "vnic/model/pci.hpp"
#include "vnic/model/regs.hpp"

namespace {

namespace regs = vnic::model::regs;
namespace pci = vnic::model::pci;
using vnic::model::kDescSize;

// Host memory: bytes at bus addresses [0, size), the target of the NIC's DMA.
class HostMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostMemory> socket;

  HostMemory(sc_core::sc_module_name name, std::size_t size) : sc_core::sc_module(name), socket("socket"), mem_(size) {
    socket.register_b_transport(this, &HostMemory::b_transport);
  }
  std::span<uint8_t> view(uint64_t addr, std::size_t len) { return {mem_.data() + addr, len}; }
  std::span<uint8_t, kDescSize> desc(uint64_t addr) { return view(addr, kDescSize).first<kDescSize>(); }

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time&) {
    const uint64_t addr = p.get_address();
    const uint64_t len = p.get_data_length();
    if (addr > mem_.size() || len > mem_.size() - addr) {
      p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (p.is_read()) std::memcpy(p.get_data_ptr(), mem_.data() + addr, len);
    if (p.is_write()) std::memcpy(mem_.data() + addr, p.get_data_ptr(), len);
    p.set_response_status(tlm::TLM_OK_RESPONSE);  // TLM_IGNORE_COMMAND: an address probe
  }

  std::vector<uint8_t> mem_;
};

// A cable from the NIC's port back to itself, 1 m long.
class Loopback : public vnic::hw::EthMedium {
 public:
  explicit Loopback(vnic::hw::EventQueue& q) : q_(q) {}
  void attach(unsigned, vnic::hw::EthEndpoint* ep) override { ep_ = ep; }
  bool transmit(unsigned, vnic::model::Frame&& frame, uint64_t) override {
    // The last bit left now; it arrives after the propagation delay (5 ns a metre).
    in_flight_.push_back(std::move(frame));
    q_.at_ps<&Loopback::arrive>(q_.now_ps() + 5'000, this);
    return true;
  }
  bool up() const override { return true; }
  vnic::model::BitRate rate() const override { return vnic::model::BitRate::gbps(10); }

 private:
  void arrive(uint64_t) {
    vnic::model::Frame f = std::move(in_flight_.front());
    in_flight_.pop_front();
    ep_->eth_receive(std::move(f));
  }

  vnic::hw::EventQueue& q_;
  vnic::hw::EthEndpoint* ep_ = nullptr;
  std::deque<vnic::model::Frame> in_flight_;
};

// The host CPU: programs the NIC through BAR0 (aligned 32-bit accesses) and polls host memory.
class Cpu : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Cpu> cpu_bus;
  bool passed = false;

  SC_HAS_PROCESS(Cpu);
  Cpu(sc_core::sc_module_name name, HostMemory& mem, const vnic::model::MacAddr& mac)
      : sc_core::sc_module(name), cpu_bus("cpu_bus"), mem_(mem), mac_(mac) {
    SC_THREAD(run);
  }

 private:
  // Host memory layout: the two rings and a buffer per descriptor.
  static constexpr uint32_t kRing = 8;
  static constexpr uint64_t kTxRing = 0x1000, kRxRing = 0x2000, kTxBuf = 0x4000, kRxBufs = 0x8000;
  static constexpr uint32_t kRxBufSize = 2048;
  static constexpr std::size_t kFrameLen = 60;  // the NIC adds the FCS: 64 B on the wire

  uint32_t access(tlm::tlm_command cmd, uint32_t offset, uint32_t value) {
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), &value, 4);  // little-endian host, as BAR0 is
    tlm::tlm_generic_payload p;
    p.set_command(cmd);
    p.set_address(offset);
    p.set_data_ptr(b.data());
    p.set_data_length(4);
    p.set_streaming_width(4);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    cpu_bus->b_transport(p, delay);
    wait(delay);  // the access takes the time the NIC annotated
    if (!p.is_response_ok()) fmt::print("vnic embed: BAR0 access at {:#06x} refused\n", offset);
    std::memcpy(&value, b.data(), 4);
    return value;
  }
  uint32_t read32(uint32_t offset) { return access(tlm::TLM_READ_COMMAND, offset, 0); }
  void write32(uint32_t offset, uint32_t value) { access(tlm::TLM_WRITE_COMMAND, offset, value); }

  void run() {
    const uint32_t id = read32(regs::kId.offset);
    // Rings of queue pair 0; every RX slot but one gets a buffer.
    write32(regs::kRxqBaseLo.offset_of(0), static_cast<uint32_t>(kRxRing));
    write32(regs::kRxqBaseHi.offset_of(0), 0);
    write32(regs::kRxqSize.offset_of(0), kRing);
    write32(regs::kRxqBufSize.offset_of(0), kRxBufSize);
    write32(regs::kTxqBaseLo.offset_of(0), static_cast<uint32_t>(kTxRing));
    write32(regs::kTxqBaseHi.offset_of(0), 0);
    write32(regs::kTxqSize.offset_of(0), kRing);
    for (uint32_t i = 0; i + 1 < kRing; ++i) {
      vnic::model::RxDesc d;
      d.buf_addr = kRxBufs + uint64_t{i} * kRxBufSize;
      vnic::model::encode(d, mem_.desc(kRxRing + uint64_t{i} * kDescSize));
    }
    write32(regs::kRxqTail.offset_of(0), kRing - 1);
    write32(regs::kRxqCtrl.offset_of(0), 1);
    write32(regs::kTxqCtrl.offset_of(0), 1);
    write32(regs::kCtrl.offset, 1);  // CTRL.EN

    // One frame to our own address: destination, source, EtherType 0x88B5 (local experimental),
    // and a counting payload.
    std::span<uint8_t> f = mem_.view(kTxBuf, kFrameLen);
    std::memcpy(f.data(), mac_.b.data(), 6);
    const std::array<uint8_t, 6> src{0x02, 0, 0, 0, 0, 0x02};
    std::memcpy(f.data() + 6, src.data(), 6);
    f[12] = 0x88;
    f[13] = 0xB5;
    for (std::size_t i = 14; i < kFrameLen; ++i) f[i] = static_cast<uint8_t>(i);
    vnic::model::TxDesc t;
    t.buf_addr = kTxBuf;
    t.length = kFrameLen;
    t.cmd = vnic::model::TxDesc::kCmdEop | vnic::model::TxDesc::kCmdRs;
    vnic::model::encode(t, mem_.desc(kTxRing));
    const sc_core::sc_time sent = sc_core::sc_time_stamp();
    write32(regs::kTxqTail.offset_of(0), 1);  // doorbell

    // Poll RX descriptor 0 every 100 ns (a real driver waits for the MSI-X message instead).
    vnic::model::RxDesc r;
    for (int i = 0; i < 200 && !r.done(); ++i) {
      wait(100, sc_core::SC_NS);
      r = vnic::model::decode_rx(mem_.desc(kRxRing));
    }
    const vnic::model::TxDesc tw = vnic::model::decode_tx(mem_.desc(kTxRing));
    const bool intact = r.done() && r.errors == 0 && r.length == kFrameLen &&
                        std::memcmp(mem_.view(r.buf_addr, kFrameLen).data(), f.data(), kFrameLen) == 0;
    passed = id == regs::kDeviceId && tw.done() && intact;
    fmt::print("vnic embed: ID {:#010x}, TX descriptor done {}, RX descriptor done {} ({} B, errors {:#x})\n", id,
               tw.done(), r.done(), r.length, r.errors);
    fmt::print("vnic embed: looped back {} within {}: {}\n", intact ? "intact" : "NOT intact",
               (sc_core::sc_time_stamp() - sent).to_string(), passed ? "PASS" : "FAIL");
  }

  HostMemory& mem_;
  vnic::model::MacAddr mac_;
};

}  // namespace

int sc_main(int, char*[]) {
  vnic::hw::EventQueue events("events");  // one per simulation: all vnic timing runs here
  vnic::hw::NicConfig cfg;                // defaults: 1 queue pair, Gen3 x8, 250 MHz
  cfg.perm_mac = *vnic::model::MacAddr::parse("02:00:00:00:00:01");
  vnic::hw::Nic nic("nic", events, cfg);
  HostMemory host_mem("host_mem", 1 << 20);
  Cpu cpu("cpu", host_mem, cfg.perm_mac);
  Loopback cable(events);

  cpu.cpu_bus.bind(nic.mmio);               // BAR0: aligned 4-byte b_transport, offsets in the BAR
  nic.dma().socket.bind(host_mem.socket);   // DMA (MSI-X messages too, were they enabled)
  nic.attach(&cable, 0);
  nic.cfg_write32(pci::kCommandStatus, pci::kCmdMemorySpace | pci::kCmdBusMaster);  // enumeration

  sc_core::sc_start(50, sc_core::SC_US);  // the CPU is done long before
  fmt::print("vnic embed: tx_packets {}, rx_packets {}, simulated {}\n", nic.stat(regs::Stat::tx_packets),
             nic.stat(regs::Stat::rx_packets), sc_core::sc_time_stamp().to_string());
  return cpu.passed ? 0 : 1;
}
