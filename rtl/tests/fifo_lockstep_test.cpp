// The RTL descriptor FIFO against model::DescFifo, edge for edge, at depths 2, 8, 256, 4096;
// functional coverage must reach every bin; a deliberately broken RTL must be caught.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "Vfifo_d16_broken.h"
#include "Vfifo_d2.h"
#include "Vfifo_d256.h"
#include "Vfifo_d4096.h"
#include "Vfifo_d8.h"
#include "lockstep.hpp"

namespace {
using vnic::rtl::test::Lockstep;
using vnic::rtl::test::LockstepResult;

std::string vcd_path(const std::string& stem) {
  return std::string(::testing::TempDir()) + stem + "_" + std::to_string(::getpid()) + ".vcd";
}

template <class V>
void lockstep(uint32_t depth, uint64_t cycles_per_seed) {
  Lockstep<V> ls(depth, 64);
  vnic::rtl::test::Coverage total;
  for (uint64_t seed : {1u, 2u, 3u}) {
    const LockstepResult r = ls.run(seed * 1000 + depth, cycles_per_seed, vcd_path("fifo_d" + std::to_string(depth)));
    ASSERT_TRUE(r.ok) << r.report;
    ASSERT_EQ(r.cycles, cycles_per_seed);
    total.empty += r.cov.empty;
    total.full += r.cov.full;
    total.wrap += r.cov.wrap;
    total.push_when_full += r.cov.push_when_full;
    total.pop_when_empty += r.cov.pop_when_empty;
    total.push_pop_at_full += r.cov.push_pop_at_full;
    total.push_pop_at_empty += r.cov.push_pop_at_empty;
    total.reset_while_not_empty += r.cov.reset_while_not_empty;
  }
  EXPECT_EQ(total.zero_bins(), "") << "coverage bins never hit at depth " << depth;
}

TEST(FifoLockstep, Depth2) { lockstep<Vfifo_d2>(2, 1'000'000); }
TEST(FifoLockstep, Depth8) { lockstep<Vfifo_d8>(8, 1'000'000); }
TEST(FifoLockstep, Depth256) { lockstep<Vfifo_d256>(256, 1'000'000); }
TEST(FifoLockstep, Depth4096) { lockstep<Vfifo_d4096>(4096, 1'000'000); }

TEST(FifoLockstep, BrokenFullDetectionIsCaughtWithAReportAndAVcd) {
  Lockstep<Vfifo_d16_broken> ls(16, 64);
  const std::string vcd = vcd_path("fifo_broken");
  const LockstepResult r = ls.run(7, 100'000, vcd);
  ASSERT_FALSE(r.ok) << "the broken RTL passed lock-step: the harness cannot fail";
  EXPECT_NE(r.report.find("mismatch at cycle"), std::string::npos);
  EXPECT_NE(r.report.find("last operations"), std::string::npos);
  EXPECT_NE(r.report.find("full=1"), std::string::npos) << r.report;
  std::ifstream f(vcd);
  ASSERT_TRUE(f) << "no VCD at " << vcd;
  std::string first;
  std::getline(f, first);
  EXPECT_NE(first.find("$"), std::string::npos);  // a VCD header
  std::remove(vcd.c_str());
}
}  // namespace
