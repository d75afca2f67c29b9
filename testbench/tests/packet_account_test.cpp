// PacketAccount: each packet id ends exactly once (delivered, consumed by the stack, or dropped
// in one named counter), from the trace events alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vnic/model/regs.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/tb/packet_account.hpp"

namespace vnic::tb {
namespace {

using model::TraceEvent;
using model::TraceKind;

TraceEvent ev(TraceKind k, uint64_t id, model::Step step = model::kNoStep, uint32_t a = 0, uint64_t b = 0) {
  return TraceEvent{1, 1, k, step, 0, a, b, id};
}

struct Recorder : model::TraceSink {
  std::vector<uint64_t> ids;
  void trace(const char*, const TraceEvent& e) override { ids.push_back(e.packet); }
};

TEST(PacketAccount, EachEndIsCountedOnceByItsKind) {
  PacketAccount acc;
  acc.trace("host_a", ev(TraceKind::PacketMade, 1));
  acc.trace("host_b", ev(TraceKind::Consumed, 1, model::kNoStep, 60, model::kConsumedByApplication));  // the checker
  acc.trace("host_a", ev(TraceKind::SockSend, 2, model::egress(1)));
  acc.trace("host_a", ev(TraceKind::Consumed, 2, model::ingress(24)));  // a socket's reader
  acc.trace("host_b", ev(TraceKind::Consumed, 3, model::ingress(19)));  // an echo request answered
  acc.trace("host_a", ev(TraceKind::TxClean, 1, model::egress(20)));  // the sender's completion, later
  acc.trace("host_b", ev(TraceKind::Drop, 4, model::ingress(17),
                         static_cast<uint32_t>(stack::SkbDropReason::IpInaddrerrors)));
  acc.trace("nic_b", ev(TraceKind::RxDrop, 5, model::ingress(2), 0,
                        static_cast<uint64_t>(model::regs::Stat::rx_crc_errors)));
  acc.trace("link", ev(TraceKind::RxDrop, 6, model::kNoStep, 0, model::host_drop(model::HostDrop::LinkFault)));
  acc.trace("host_a", ev(TraceKind::TxRing, 7, model::egress(12)));
  const auto t = acc.totals();
  EXPECT_EQ(t.made, 7u);
  EXPECT_EQ(t.delivered, 2u);
  EXPECT_EQ(t.consumed, 1u);
  EXPECT_EQ(t.dropped, 3u);
  EXPECT_EQ(t.in_flight, 1u);
  EXPECT_EQ(t.by_counter.at("IP_INADDRERRORS"), 1u);
  EXPECT_EQ(t.by_counter.at("rx_crc_errors"), 1u);
  EXPECT_EQ(t.by_counter.at("link.dropped_fault"), 1u);
  EXPECT_TRUE(acc.exact());
  EXPECT_FALSE(acc.complete());  // packet 7 is still on its way
}

TEST(PacketAccount, ADropNamesTheHostCounterBesideTheReason) {
  PacketAccount acc;
  acc.trace("host_b", ev(TraceKind::Drop, 9, model::ingress(13),
                         static_cast<uint32_t>(stack::SkbDropReason::UnhandledProto),
                         model::host_drop(model::HostDrop::RxDroppedCore)));
  EXPECT_EQ(acc.totals().by_counter.at("UNHANDLED_PROTO (rx_dropped)"), 1u);
  EXPECT_TRUE(acc.complete());
}

TEST(PacketAccount, ASecondEndAndAnEventAfterTheEndAreErrorsNamingTheId) {
  PacketAccount acc;
  acc.trace("host_b", ev(TraceKind::Consumed, 0x42));
  acc.trace("host_b", ev(TraceKind::Drop, 0x42, model::ingress(15)));
  acc.trace("host_b", ev(TraceKind::IpRcv, 0x43, model::ingress(15)));
  acc.trace("host_b", ev(TraceKind::Consumed, 0x43, model::ingress(19)));
  acc.trace("host_b", ev(TraceKind::IpRcv, 0x43, model::ingress(15)));
  const auto t = acc.totals();
  EXPECT_EQ(t.ended_twice, 1u);
  EXPECT_EQ(t.after_end, 1u);
  EXPECT_EQ(t.errors, (std::vector<uint64_t>{0x42, 0x43}));
  EXPECT_FALSE(acc.exact());
  EXPECT_NE(acc.report().find("ERRORS: 1 ended twice, 1 with an event after their end (ids: 0x42 0x43)"),
            std::string::npos);
}

TEST(PacketAccount, EventsWithoutAPacketAreNotPacketsAndEverythingIsPassedOn) {
  Recorder next;
  PacketAccount acc(&next);
  acc.trace("host_a", ev(TraceKind::HardIrq, 0));
  acc.trace("host_a", ev(TraceKind::PacketMade, 5));
  EXPECT_EQ(acc.totals().made, 1u);
  EXPECT_EQ(next.ids, (std::vector<uint64_t>{0, 5}));
}

}  // namespace
}  // namespace vnic::tb
