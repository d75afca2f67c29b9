// Descriptor codecs: exact byte layout, round trips, reserved bytes zero.
#include <gtest/gtest.h>

#include <array>
#include <random>

#include "vnic/model/descriptor.hpp"

namespace {
using namespace vnic::model;

TEST(Descriptor, TxLayoutIsLittleEndianAtTheDocumentedOffsets) {
  std::array<uint8_t, 16> b;
  b.fill(0xFF);
  TxDesc d;
  d.buf_addr = 0x1122334455667788ull;
  d.length = 0xA1B2;
  d.cmd = TxDesc::kCmdEop | TxDesc::kCmdRs;
  d.status = TxDesc::kStaDd;
  d.errors = TxDesc::kErrDma;
  encode(d, b);
  const std::array<uint8_t, 16> want = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                        0xB2, 0xA1, 0x03, 0x00, 0x01, 0x02, 0x00, 0x00};
  EXPECT_EQ(b, want);
  EXPECT_EQ(decode_tx(b), d);
}

TEST(Descriptor, RxLayoutIsLittleEndianAtTheDocumentedOffsets) {
  std::array<uint8_t, 16> b;
  b.fill(0xEE);
  RxDesc d;
  d.buf_addr = 0x0102030405060708ull;
  d.length = 1514;
  d.status = RxDesc::kStaDd | RxDesc::kStaEop | RxDesc::kStaMcast;
  d.errors = RxDesc::kErrFcs;
  encode(d, b);
  const std::array<uint8_t, 16> want = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                                        0xEA, 0x05, 0x0B, 0x00, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(b, want);
  EXPECT_EQ(decode_rx(b), d);
  EXPECT_TRUE(decode_rx(b).done());
}

TEST(Descriptor, RandomRoundTrips) {
  std::mt19937_64 rng(9);
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 10000; ++i) {
    TxDesc t{rng(), static_cast<uint16_t>(rng()), static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()),
             static_cast<uint8_t>(rng())};
    encode(t, b);
    ASSERT_EQ(decode_tx(b), t);
    EXPECT_EQ(b[11], 0);
    EXPECT_EQ(b[14], 0);
    EXPECT_EQ(b[15], 0);
    RxDesc r{rng(), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    encode(r, b);
    ASSERT_EQ(decode_rx(b), r);
    EXPECT_EQ(b[14], 0);
    EXPECT_EQ(b[15], 0);
  }
}

TEST(Descriptor, FlagAccessors) {
  TxDesc t;
  EXPECT_FALSE(t.eop() || t.rs() || t.done());
  t.cmd = TxDesc::kCmdEop;
  EXPECT_TRUE(t.eop());
  EXPECT_FALSE(t.rs());
}
}  // namespace
