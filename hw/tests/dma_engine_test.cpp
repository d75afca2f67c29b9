// DmaEngine: exact PCIe timing for the documented formula, splitting, errors, posted-write landing.
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstring>
#include <vector>

#include "vnic/hw/dma_engine.hpp"
#include "vnic/hw/event_queue.hpp"

namespace {

using vnic::hw::DmaEngine;
using vnic::hw::EventQueue;
using vnic::hw::PcieConfig;

// A memory target at [0x1000, 0x1000 + 64 KiB), with or without DMI.
struct Mem : sc_core::sc_module {
  tlm_utils::simple_target_socket<Mem> socket{"socket"};
  std::vector<uint8_t> bytes = std::vector<uint8_t>(65536, 0);
  bool dmi = true;
  uint64_t transports = 0;
  explicit Mem(sc_core::sc_module_name n) : sc_core::sc_module(n) {
    socket.register_b_transport(this, &Mem::b_transport);
    socket.register_get_direct_mem_ptr(this, &Mem::get_dmi);
  }
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time&) {
    ++transports;
    const uint64_t a = p.get_address();
    if (a < 0x1000 || a + p.get_data_length() > 0x1000 + bytes.size()) {
      p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (p.is_read()) std::memcpy(p.get_data_ptr(), &bytes[a - 0x1000], p.get_data_length());
    if (p.is_write()) std::memcpy(&bytes[a - 0x1000], p.get_data_ptr(), p.get_data_length());
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  bool get_dmi(tlm::tlm_generic_payload&, tlm::tlm_dmi& d) {
    if (!dmi) return false;
    d.allow_read_write();
    d.set_dmi_ptr(bytes.data());
    d.set_start_address(0x1000);
    d.set_end_address(0x1000 + bytes.size() - 1);
    return true;
  }
};

struct Bench {
  EventQueue q{"q"};
  Mem mem{"mem"};
  DmaEngine dma;
  explicit Bench(const PcieConfig& c = {}) : dma("dma", q, c) { dma.socket.bind(mem.socket); }
};

TEST(DmaEngine, Gen3x8ByteTimeIsExact) {
  PcieConfig c;
  // 8 GT/s x 8 lanes, 128b/130b: 126.953125 ps per byte.
  EXPECT_EQ(c.ser_ps(1024), 130000u);
  EXPECT_EQ(c.ser_ps(560), 71094u);  // 71093.75 rounded up
}

TEST(DmaEngine, FourKiBReadIsEightRequestsAndFollowsTheFormula) {
  Bench b;
  std::vector<uint8_t> dst(4096);
  for (std::size_t i = 0; i < 4096; ++i) b.mem.bytes[i] = static_cast<uint8_t>(i * 13);
  const auto r = b.dma.read(0x1000, dst, 0);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(b.dma.stats().rd_tlps, 8u);
  EXPECT_EQ(DmaEngine::split_count(0x1000, 4096, 512), 8u);
  // Each 512 B request returns as 2 completions of 256 B (+24 B overhead each): 560 B on the
  // downstream link. First data after the 500 ns round trip, then back to back.
  const PcieConfig c;
  EXPECT_EQ(r.done_ps, 500'000u + 8 * c.ser_ps(512 + 2 * 24));
  EXPECT_EQ(r.done_ps, 1'068'752u);
  EXPECT_EQ(0, std::memcmp(dst.data(), b.mem.bytes.data(), 4096));
}

TEST(DmaEngine, UnalignedReadSplitsAtMrrsBoundaries) {
  Bench b;
  std::vector<uint8_t> dst(600);
  const auto r = b.dma.read(0x1000 + 500, dst, 0);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(b.dma.stats().rd_tlps, 3u);  // 12 B to the 512 boundary, 512 B, 76 B
}

TEST(DmaEngine, OutstandingReadLimitDelaysRequests) {
  PcieConfig c;
  c.max_outstanding_reads = 1;
  Bench b(c);
  std::vector<uint8_t> dst(1024);
  const auto r = b.dma.read(0x1000, dst, 0);
  // The second request waits for the first completion: two full round trips.
  const uint64_t one = 500'000u + c.ser_ps(512 + 2 * 24);
  EXPECT_EQ(r.done_ps, 2 * one);
}

TEST(DmaEngine, WriteSplitsByMpsAndLandsLater) {
  Bench b;
  std::vector<uint8_t> src(1000, 0xAB);
  uint64_t done = 0;
  struct Ctx {
    Bench* b;
    uint64_t* done;
  } ctx{&b, &done};
  b.q.at(sc_core::SC_ZERO_TIME, [](void* p, uint64_t) {
    auto* c = static_cast<Ctx*>(p);
    std::vector<uint8_t> s(1000, 0xAB);
    const auto r = c->b->dma.write(0x2000, s, 0, 7);
    *c->done = r.done_ps;
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(c->b->mem.bytes[0x1000], 0u);  // not landed yet
  }, &ctx);
  sc_core::sc_start();
  const PcieConfig c;
  EXPECT_EQ(b.dma.stats().wr_tlps, 4u);  // 256 * 3 + 232
  EXPECT_EQ(done, 3 * c.ser_ps(256 + 24) + c.ser_ps(232 + 24) + 250'000u);
  EXPECT_EQ(b.mem.bytes[0x1000], 0xABu);
  EXPECT_EQ(b.mem.bytes[0x1000 + 999], 0xABu);
  EXPECT_EQ(b.mem.bytes[0x1000 + 1000], 0u);
}

TEST(DmaEngine, RefusedAddressesAreReportedAndNothingIsWritten) {
  Bench b;
  std::vector<uint8_t> dst(64);
  EXPECT_FALSE(b.dma.read(0x100, dst, 0).ok);
  const auto w = b.dma.write(0x1000 + 65536 - 32, dst, 0, 0);
  EXPECT_FALSE(w.ok);
  EXPECT_EQ(w.fault_addr, 0x1000u + 65536);  // the first chunk past the end; nothing was written
  EXPECT_EQ(b.dma.pending_writes(), 0u);
  EXPECT_GE(b.dma.stats().errors, 2u);
  // A transfer wrapping the 64-bit space is refused, not wrapped.
  EXPECT_FALSE(b.dma.read(~uint64_t{0} - 8, dst, 0).ok);
}

TEST(DmaEngine, WorksWithoutDmiThroughBTransport) {
  Bench b;
  b.mem.dmi = false;
  std::vector<uint8_t> dst(256);
  b.mem.bytes[5] = 42;
  ASSERT_TRUE(b.dma.read(0x1000, dst, 0).ok);
  EXPECT_EQ(dst[5], 42u);
  EXPECT_GT(b.mem.transports, 0u);
}

TEST(DmaEngine, ResetAbandonsWritesNotYetLanded) {
  Bench b;
  struct Ctx {
    Bench* b;
  } ctx{&b};
  b.q.at(sc_core::SC_ZERO_TIME, [](void* p, uint64_t) {
    auto* c = static_cast<Ctx*>(p);
    std::vector<uint8_t> s(64, 0x5A);
    EXPECT_TRUE(c->b->dma.write(0x1000, s, 0, 0).ok);
    c->b->dma.reset();
  }, &ctx);
  sc_core::sc_start();
  EXPECT_EQ(b.mem.bytes[0], 0u);
}

}  // namespace

