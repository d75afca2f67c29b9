// FaultInjectingBus against a fake HostBus that records every call: with no fault armed the
// decorator forwards each call unchanged; each fault changes exactly the access it is about.
#include "vnic/driver/fault_bus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "vnic/model/descriptor.hpp"
#include "vnic/model/regs.hpp"

namespace {

using vnic::driver::DmaDir;
using vnic::driver::DriverFault;
using vnic::driver::FaultInjectingBus;
using vnic::driver::HostBus;
using vnic::model::TxDesc;
namespace regs = vnic::model::regs;

struct Call {
  std::string op;
  uint64_t a = 0, b = 0, c = 0;
  bool operator==(const Call&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Call& c) {
  return os << c.op << "(0x" << std::hex << c.a << ", 0x" << c.b << ", 0x" << c.c << std::dec << ")";
}

// A HostBus that records each call (cpu_view and pages() are the CPU's own memory accesses, not
// recorded) and answers with values derived from the arguments, so a changed argument or a
// changed answer shows.
class FakeBus final : public HostBus, public vnic::stack::PageAllocator {
 public:
  static constexpr uint64_t kMemBase = 0x10000;
  std::vector<Call> calls;
  std::vector<uint8_t> mem = std::vector<uint8_t>(0x20000, 0);
  uint64_t next_coherent = kMemBase;

  uint32_t cfg_read32(uint32_t off) override {
    rec("cfg_read32", off);
    return 0xC0DE'0000u | off;
  }
  void cfg_write32(uint32_t off, uint32_t v) override { rec("cfg_write32", off, v); }
  void mmio_write32(uint32_t off, uint32_t v) override { rec("mmio_write32", off, v); }
  uint32_t mmio_read32(uint32_t off) override {
    rec("mmio_read32", off);
    return off ^ 0xA5A5'A5A5u;
  }
  uint64_t dma_alloc_coherent(uint64_t len) override {
    rec("dma_alloc_coherent", len);
    const uint64_t a = next_coherent;
    next_coherent += (len + 0xFFF) & ~uint64_t{0xFFF};
    return a;
  }
  void dma_free_coherent(uint64_t addr) override { rec("dma_free_coherent", addr); }
  uint64_t dma_map_single(uint64_t addr, uint64_t len, DmaDir dir) override {
    rec("dma_map_single", addr, len, static_cast<uint64_t>(dir));
    return addr + 0x4'0000'0000;  // a bus address unlike the host address
  }
  void dma_unmap_single(uint64_t bus_addr) override { rec("dma_unmap_single", bus_addr); }
  std::span<uint8_t> cpu_view(uint64_t addr, uint64_t len) override {
    if (addr < kMemBase || addr - kMemBase + len > mem.size()) return {};
    return std::span<uint8_t>(mem).subspan(addr - kMemBase, len);
  }
  vnic::stack::PageAllocator& pages() override { return *this; }
  Block alloc(uint64_t len, uint64_t align) override {
    rec("alloc", len, align);
    return Block{0x2'0000, cpu_view(0x2'0000, len)};
  }
  void free(uint64_t addr) override { rec("free", addr); }
  unsigned alloc_irq_vectors(unsigned n) override {
    rec("alloc_irq_vectors", n);
    return n - 1;
  }
  void free_irq_vectors() override { rec("free_irq_vectors"); }
  bool request_irq(unsigned vector, IrqHandler fn, void* ctx) override {
    rec("request_irq", vector, fn != nullptr ? 1 : 0, reinterpret_cast<uintptr_t>(ctx));
    return vector != 7;
  }
  void free_irq(unsigned vector) override { rec("free_irq", vector); }
  const char* bus_info() const override { return "0000:01:00.0"; }

 private:
  void rec(const char* op, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) { calls.push_back({op, a, b, c}); }
};

constexpr uint32_t kRing = 8;
constexpr uint64_t kBuf = 0x2'0000;  // host address of buffer k: kBuf + k * 0x1000
const uint32_t kTxBaseLo = regs::kTxqBaseLo.offset_of(0);
const uint32_t kTxBaseHi = regs::kTxqBaseHi.offset_of(0);
const uint32_t kTxSize = regs::kTxqSize.offset_of(0);
const uint32_t kTxTail = regs::kTxqTail.offset_of(0);
const uint32_t kCtrl = regs::kCtrl.offset;
const uint32_t kRst = regs::ctrl::kRst.mask();

Call mmio(uint32_t off, uint32_t v) { return {"mmio_write32", off, v, 0}; }
uint64_t bus_addr(unsigned k) { return kBuf + k * 0x1000 + 0x4'0000'0000; }

void noop_irq(void*, unsigned) {}

void program_tx_ring(HostBus& b, uint64_t ring) {
  b.mmio_write32(kTxBaseLo, static_cast<uint32_t>(ring));
  b.mmio_write32(kTxBaseHi, static_cast<uint32_t>(ring >> 32));
  b.mmio_write32(kTxSize, kRing);
}

// Maps buffer k, writes its descriptor at ring index i and rings the doorbell with tail i + 1.
void xmit(HostBus& b, uint64_t ring, unsigned k, uint32_t i) {
  const uint64_t dma = b.dma_map_single(kBuf + k * 0x1000, 100 + k, DmaDir::ToDevice);
  TxDesc d;
  d.buf_addr = dma;
  d.length = static_cast<uint16_t>(100 + k);
  d.cmd = TxDesc::kCmdEop | TxDesc::kCmdRs;
  vnic::model::encode(d, b.cpu_view(ring + i * vnic::model::kDescSize, vnic::model::kDescSize)
                             .first<vnic::model::kDescSize>());
  b.mmio_write32(kTxTail, (i + 1) % kRing);
}

// What a driver does from probe to remove, touching every HostBus call; it returns what the
// calls answered, so a test can compare the answers through the decorator with the bus's own.
std::vector<uint64_t> session(HostBus& b) {
  std::vector<uint64_t> got;
  got.push_back(b.cfg_read32(0));
  b.cfg_write32(4, 6);
  b.mmio_write32(kCtrl, kRst);
  got.push_back(b.mmio_read32(regs::kStatus.offset));
  got.push_back(b.alloc_irq_vectors(3));
  static int irq_ctx = 0;
  got.push_back(b.request_irq(0, &noop_irq, &irq_ctx) ? 1 : 0);
  got.push_back(b.request_irq(7, &noop_irq, nullptr) ? 1 : 0);
  const uint64_t ring = b.dma_alloc_coherent(kRing * vnic::model::kDescSize);
  got.push_back(ring);
  const auto blk = b.pages().alloc(2048, 64);
  got.push_back(blk.addr);
  b.mmio_write32(regs::kRxqTail.offset_of(0), 5);  // a tail, but not the TX queue's
  program_tx_ring(b, ring);
  b.mmio_write32(kCtrl, regs::ctrl::kEn.mask());  // enable: not a reset
  for (unsigned k = 0; k < 3; ++k) xmit(b, ring, k, k);
  for (unsigned k = 0; k < 3; ++k) b.dma_unmap_single(bus_addr(k));
  // Down and up again: reset, program the ring again, one more packet.
  b.mmio_write32(kCtrl, kRst);
  program_tx_ring(b, ring);
  xmit(b, ring, 3, 3);
  b.dma_unmap_single(bus_addr(3));
  b.pages().free(blk.addr);
  b.free_irq(0);
  b.free_irq_vectors();
  b.dma_free_coherent(ring);
  got.push_back(std::string(b.bus_info()) == "0000:01:00.0" ? 1 : 0);
  return got;
}

struct Session {
  FakeBus fake;
  std::vector<uint64_t> answers;
};

// The session straight on the fake bus: what every fault is compared with.
Session reference() {
  Session r;
  r.answers = session(r.fake);
  return r;
}

Session through(DriverFault f, uint64_t* injected = nullptr, uint64_t* dropped = nullptr) {
  Session r;
  FaultInjectingBus fb(r.fake);
  fb.inject(f);
  EXPECT_EQ(fb.pending(), f);
  r.answers = session(fb);
  if (injected != nullptr) *injected = fb.faults_injected();
  if (dropped != nullptr) *dropped = fb.doorbells_dropped();
  EXPECT_EQ(fb.pending(), DriverFault::None) << "the session should provoke " << to_string(f);
  return r;
}

TxDesc desc(FakeBus& f, uint32_t i) {
  return vnic::model::decode_tx(
      f.cpu_view(FakeBus::kMemBase + i * vnic::model::kDescSize, vnic::model::kDescSize)
          .first<vnic::model::kDescSize>());
}

std::size_t index_of(const std::vector<Call>& calls, const Call& c, std::size_t nth = 0) {
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (calls[i] == c && nth-- == 0) return i;
  }
  ADD_FAILURE() << "no call " << c;
  return calls.size();
}

TEST(FaultInjectingBus, WithNoFaultArmedEveryCallIsForwardedUnchanged) {
  Session ref = reference();
  uint64_t injected = 1, dropped = 1;
  Session r = through(DriverFault::None, &injected, &dropped);
  EXPECT_EQ(r.fake.calls, ref.fake.calls);
  EXPECT_EQ(r.answers, ref.answers);
  EXPECT_EQ(r.fake.mem, ref.fake.mem);
  EXPECT_EQ(injected, 0u);
  EXPECT_EQ(dropped, 0u);
  // The session did touch what the faults act on (so the comparisons above mean something).
  EXPECT_EQ(std::ranges::count(ref.fake.calls, mmio(kTxTail, 1)), 1);
  EXPECT_EQ(desc(ref.fake, 0).length, 100u);
  EXPECT_TRUE(desc(ref.fake, 0).eop());
}

TEST(FaultInjectingBus, BadRingAddressChangesOnlyTheNextRingBaseWrites) {
  Session ref = reference();
  uint64_t injected = 0;
  Session r = through(DriverFault::BadRingAddress, &injected);
  std::vector<Call> want = ref.fake.calls;
  const std::size_t lo = index_of(want, mmio(kTxBaseLo, static_cast<uint32_t>(FakeBus::kMemBase)));
  ASSERT_LT(lo + 1, want.size());
  ASSERT_EQ(want[lo + 1].b, 0u) << "HI follows LO";
  want[lo].b = FaultInjectingBus::kBadRingBase;
  want[lo + 1].b = FaultInjectingBus::kBadRingBase >> 32;
  EXPECT_EQ(r.fake.calls, want);  // the second programming (after the reset) is the driver's
  EXPECT_EQ(r.fake.mem, ref.fake.mem);
  EXPECT_EQ(injected, 1u);
}

TEST(FaultInjectingBus, BadRingAddressReplacesAHighHalfToo) {
  FakeBus fake;
  FaultInjectingBus fb(fake);
  fb.inject(DriverFault::BadRingAddress);
  program_tx_ring(fb, 0x7'1234'5000);
  program_tx_ring(fb, 0x7'1234'5000);
  const std::vector<Call> want{mmio(kTxBaseLo, 0x1000), mmio(kTxBaseHi, 0), mmio(kTxSize, kRing),
                               mmio(kTxBaseLo, 0x1234'5000), mmio(kTxBaseHi, 7), mmio(kTxSize, kRing)};
  EXPECT_EQ(fake.calls, want);
}

TEST(FaultInjectingBus, TailBeyondRingChangesOnlyTheNextDoorbell) {
  Session ref = reference();
  uint64_t injected = 0;
  Session r = through(DriverFault::TailBeyondRing, &injected);
  std::vector<Call> want = ref.fake.calls;
  want[index_of(want, mmio(kTxTail, 1))].b = kRing + 5;  // the ring size it saw, + 5
  EXPECT_EQ(r.fake.calls, want);
  EXPECT_EQ(r.fake.mem, ref.fake.mem);
  EXPECT_EQ(injected, 1u);
}

// The descriptor faults change the descriptor the next doorbell hands over (index tail - 1) in
// host memory, before the doorbell reaches the device; the calls themselves are unchanged.
TEST(FaultInjectingBus, ZeroLengthDescChangesOnlyTheLengthOfTheDoorbellsLastDescriptor) {
  Session ref = reference();
  uint64_t injected = 0;
  Session r = through(DriverFault::ZeroLengthDesc, &injected);
  EXPECT_EQ(r.fake.calls, ref.fake.calls);
  TxDesc want = desc(ref.fake, 0);
  want.length = 0;
  EXPECT_EQ(desc(r.fake, 0), want);
  for (uint32_t i = 1; i < kRing; ++i) EXPECT_EQ(desc(r.fake, i), desc(ref.fake, i)) << i;
  EXPECT_TRUE(std::equal(r.fake.mem.begin() + vnic::model::kDescSize, r.fake.mem.end(),
                         ref.fake.mem.begin() + vnic::model::kDescSize));
  EXPECT_EQ(injected, 1u);
}

TEST(FaultInjectingBus, NoEndOfPacketClearsOnlyEopOfTheDoorbellsLastDescriptor) {
  Session ref = reference();
  uint64_t injected = 0;
  Session r = through(DriverFault::NoEndOfPacket, &injected);
  EXPECT_EQ(r.fake.calls, ref.fake.calls);
  TxDesc want = desc(ref.fake, 0);
  want.cmd = TxDesc::kCmdRs;
  EXPECT_EQ(desc(r.fake, 0), want);
  EXPECT_TRUE(std::equal(r.fake.mem.begin() + vnic::model::kDescSize, r.fake.mem.end(),
                         ref.fake.mem.begin() + vnic::model::kDescSize));
  EXPECT_EQ(injected, 1u);
}

TEST(FaultInjectingBus, UnmapOwnedBufferUnmapsBeforeTheDoorbellAndSwallowsTheDriversUnmap) {
  Session ref = reference();
  uint64_t injected = 0;
  Session r = through(DriverFault::UnmapOwnedBuffer, &injected);
  std::vector<Call> want = ref.fake.calls;
  const Call unmap0{"dma_unmap_single", bus_addr(0), 0, 0};
  want.erase(want.begin() + static_cast<std::ptrdiff_t>(index_of(want, unmap0)));  // the driver's
  want.insert(want.begin() + static_cast<std::ptrdiff_t>(index_of(want, mmio(kTxTail, 1))), unmap0);
  EXPECT_EQ(r.fake.calls, want);
  EXPECT_EQ(std::ranges::count(r.fake.calls, unmap0), 1);  // never twice
  EXPECT_EQ(r.fake.mem, ref.fake.mem);
  EXPECT_EQ(injected, 1u);
}

TEST(FaultInjectingBus, UnmapOwnedBufferSwallowsOneUnmapOnly) {
  FakeBus fake;
  FaultInjectingBus fb(fake);
  program_tx_ring(fb, FakeBus::kMemBase);
  fb.inject(DriverFault::UnmapOwnedBuffer);
  xmit(fb, FakeBus::kMemBase, 0, 0);
  fake.calls.clear();
  fb.dma_unmap_single(bus_addr(0));  // the driver's: swallowed
  EXPECT_TRUE(fake.calls.empty());
  fb.dma_unmap_single(bus_addr(0));  // a later one (a new mapping of that address): forwarded
  EXPECT_EQ(fake.calls, (std::vector<Call>{{"dma_unmap_single", bus_addr(0), 0, 0}}));
}

TEST(FaultInjectingBus, SkipDoorbellsDropsTxTailWritesUntilTheReset) {
  Session ref = reference();
  uint64_t injected = 0, dropped = 0;
  Session r = through(DriverFault::SkipDoorbells, &injected, &dropped);
  std::vector<Call> want = ref.fake.calls;
  for (uint32_t t : {1u, 2u, 3u}) {
    want.erase(want.begin() + static_cast<std::ptrdiff_t>(index_of(want, mmio(kTxTail, t))));
  }
  EXPECT_EQ(r.fake.calls, want);  // the RXQ tail, the CTRL writes and the doorbell after the reset went
  EXPECT_EQ(std::ranges::count(r.fake.calls, mmio(kTxTail, 4)), 1);
  EXPECT_EQ(r.fake.mem, ref.fake.mem);
  EXPECT_EQ(injected, 1u);
  EXPECT_EQ(dropped, 3u);
}

TEST(FaultInjectingBus, SkipDoorbellsLastsUntilAResetNotAnEnable) {
  FakeBus fake;
  FaultInjectingBus fb(fake);
  program_tx_ring(fb, FakeBus::kMemBase);
  fb.inject(DriverFault::SkipDoorbells);
  fb.mmio_write32(kTxTail, 1);
  EXPECT_EQ(fb.pending(), DriverFault::SkipDoorbells);
  fb.mmio_write32(kCtrl, regs::ctrl::kEn.mask());
  fb.mmio_write32(kTxTail, 2);
  EXPECT_EQ(fb.pending(), DriverFault::SkipDoorbells);
  fb.mmio_write32(kCtrl, kRst);
  EXPECT_EQ(fb.pending(), DriverFault::None);
  fb.mmio_write32(kTxTail, 3);
  const std::vector<Call> want{mmio(kTxBaseLo, FakeBus::kMemBase), mmio(kTxBaseHi, 0), mmio(kTxSize, kRing),
                               mmio(kCtrl, regs::ctrl::kEn.mask()), mmio(kCtrl, kRst), mmio(kTxTail, 3)};
  EXPECT_EQ(fake.calls, want);
  EXPECT_EQ(fb.doorbells_dropped(), 2u);
  EXPECT_EQ(fb.faults_injected(), 1u);
}

TEST(FaultInjectingBus, TheDoorbellsLastDescriptorWrapsAtTheRingsEnd) {
  FakeBus fake;
  FaultInjectingBus fb(fake);
  program_tx_ring(fb, FakeBus::kMemBase);
  for (uint32_t i = 0; i + 1 < kRing; ++i) xmit(fb, FakeBus::kMemBase, i, i);
  fb.inject(DriverFault::ZeroLengthDesc);
  xmit(fb, FakeBus::kMemBase, kRing - 1, kRing - 1);  // tail wraps to 0: the last is index 7
  EXPECT_EQ(desc(fake, kRing - 1).length, 0u);
  for (uint32_t i = 0; i + 1 < kRing; ++i) EXPECT_EQ(desc(fake, i).length, 100 + i) << i;
  EXPECT_EQ(fb.faults_injected(), 1u);
}

TEST(FaultInjectingBus, ADescriptorFaultWaitsForARingItKnows) {
  FakeBus fake;
  FaultInjectingBus fb(fake);
  fb.inject(DriverFault::NoEndOfPacket);
  fb.mmio_write32(kTxTail, 1);  // no TXQ_BASE/SIZE seen yet: nothing to rewrite
  EXPECT_EQ(fb.pending(), DriverFault::NoEndOfPacket);
  EXPECT_EQ(fb.faults_injected(), 0u);
  EXPECT_EQ(fake.calls, (std::vector<Call>{mmio(kTxTail, 1)}));
}

TEST(FaultInjectingBus, InjectingNoneDisarms) {
  FakeBus fake;
  FaultInjectingBus fb(fake);
  program_tx_ring(fb, FakeBus::kMemBase);
  fb.inject(DriverFault::TailBeyondRing);
  fb.inject(DriverFault::None);
  fb.mmio_write32(kTxTail, 1);
  EXPECT_EQ(fake.calls.back(), mmio(kTxTail, 1));
  EXPECT_EQ(fb.faults_injected(), 0u);
}

}  // namespace
