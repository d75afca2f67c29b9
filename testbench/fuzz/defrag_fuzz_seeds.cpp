// The reassembly fuzz target's seeds: the cases of stack/tests/ip_fragment_test.cpp and
// ip_do_fragment_test.cpp as op streams (RFC 815 in any order, RFC 5722 duplicates and overlaps,
// ip_frag_queue's last-fragment checks, ip_expire, the memory limit, ip_frag_too_far, ECN, the
// oversize and pool limits), and ip_send's fragments at small MTUs reflected back.
#include "defrag_fuzz_seeds.hpp"

#include <array>

#include "defrag_fuzz_harness.hpp"

namespace vnic::fuzz::defrag {

namespace {
namespace ff = frag_flags;
// kTimeSteps indices (defrag_fuzz_harness.cpp): 6 = 1 s, 7 = 2 s, 12 = 30 s, 13 = 31 s.
constexpr uint8_t kStep1s = 6, kStep2s = 7, kStep31s = 13;
// kThreshMenu indices: 0 = 0, 2 = 200, 5 = 3000. kTimeMenu 1 = 1 s. kMaxDistMenu 1 = 1.
constexpr uint8_t kThresh0 = 0, kThresh200 = 2, kThresh3000 = 5;
}  // namespace

std::vector<DefragSeed> defrag_seed_corpus() {
  std::vector<DefragSeed> s;
  auto add = [&](std::string name, const OpWriter& w) { s.push_back({std::move(name), w.bytes()}); };
  const uint8_t udp_a = flow(0, 0, 0), udp_b = flow(1, 0, 1), x253 = flow(0, 1, 2), icmp = flow(1, 2, 3);

  add("reasm--three-in-order-udp", OpWriter().datagram(udp_a, 3980, 1480));
  add("reasm--three-reversed-proto-253", OpWriter().datagram(x253, 3000, 1000, true));
  {
    OpWriter w;  // two datagrams of the same source, interleaved
    w.frag(udp_a, 0, 1480, ff::kMf).frag(udp_b, 185, 1020, 0).frag(udp_a, 370, 1020, 0);
    w.frag(udp_b, 0, 1480, ff::kMf).frag(udp_a, 185, 1480, ff::kMf);
    add("reasm--two-interleaved", w);
  }
  {
    OpWriter w;  // RFC 5722 as amended: a duplicate wholly inside a run is ignored
    w.frag(udp_a, 0, 1480, ff::kMf).frag(udp_a, 185, 1480, ff::kMf).frag(udp_a, 185, 1480, ff::kMf);
    w.frag(udp_a, 190, 16, ff::kMf).frag(udp_a, 370, 1020, 0);
    add("reasm--exact-and-inner-duplicates", w);
  }
  {
    OpWriter w;  // an overlap that is not a duplicate kills the queue
    w.frag(udp_a, 0, 1480, ff::kMf).frag(udp_a, 180, 1480, ff::kMf).frag(udp_a, 370, 1020, 0);
    add("overlap--tail-overlap", w);
  }
  {
    OpWriter w;  // an overlap into a run from below
    w.frag(udp_a, 100, 800, ff::kMf).frag(udp_a, 50, 408, ff::kMf).frag(udp_a, 0, 400, ff::kMf);
    add("overlap--into-a-run-from-below", w);
  }
  add("timeout--first-fragment-then-31s",
      OpWriter().frag(udp_b, 0, 1480, ff::kMf).frag(udp_b, 370, 100, 0).time(kStep31s));
  add("timeout--ipfrag-time-1s-no-first-fragment",
      OpWriter().sysctl(Sysctl::Time, 1).frag(udp_a, 185, 1480, ff::kMf).time(kStep2s).datagram(udp_a, 3000, 1480));
  add("timeout--unresolved-source-icmp-waits-for-arp",
      OpWriter().frag(flow(2, 0, 4), 0, 800, ff::kMf).time(kStep31s).time(kStep2s).time(kStep2s).time(kStep2s));
  add("fail--high-thresh-200",
      OpWriter().sysctl(Sysctl::LowThresh, kThresh0).sysctl(Sysctl::HighThresh, kThresh200)
          .frag(udp_a, 0, 400, ff::kMf).frag(udp_a, 50, 400, 0).frag(udp_b, 0, 400, ff::kMf));
  {
    OpWriter w;  // many queues against a 3000-byte limit, then it is raised again
    w.sysctl(Sysctl::LowThresh, kThresh0).sysctl(Sysctl::HighThresh, kThresh3000);
    for (unsigned i = 0; i < 8; ++i) w.frag(flow(i & 1u, 0, i), 0, 64, ff::kMf);
    w.sysctl(Sysctl::HighThresh, 13).sysctl(Sysctl::HighThresh, kThresh0);
    add("fail--high-thresh-3000-then-lowered-under-the-memory", w);
  }
  {
    OpWriter w;  // ip_frag_too_far: more than max_dist fragments of the source in between
    w.sysctl(Sysctl::MaxDist, 1).frag(udp_a, 0, 800, ff::kMf);
    for (unsigned i = 1; i < 4; ++i) w.frag(flow(0, 0, i), 0, 64, ff::kMf);
    w.frag(udp_a, 100, 200, 0).frag(udp_a, 0, 800, ff::kMf);
    add("fail--max-dist-1-reinit", w);
  }
  add("fail--last-fragment-twice-different-end",
      OpWriter().frag(udp_a, 100, 200, 0).frag(udp_a, 100, 208, 0).frag(udp_a, 0, 800, ff::kMf));
  add("fail--data-beyond-the-last-fragment",
      OpWriter().frag(udp_a, 100, 200, 0).frag(udp_a, 0, 1600, ff::kMf));
  add("fail--ecn-not-ect-mixed-with-ce",
      OpWriter().frag(udp_a, 0, 800, ff::kMf | ff::ecn(0)).frag(udp_a, 100, 200, ff::ecn(3)));
  add("reasm--ecn-ect0-with-ce-and-router-alert",
      OpWriter().frag(udp_a, 0, 800, ff::kMf | ff::ecn(2) | ff::options(2)).frag(udp_a, 100, 200, ff::ecn(3)));
  add("reasm--df-fragments-and-padding",
      OpWriter().frag(udp_b, 0, 800, ff::kMf | ff::kDf | ff::kPad).frag(udp_b, 100, 8, ff::kDf | ff::kPad));
  add("reasm--unaligned-mf-fragment-trimmed",
      OpWriter().frag(udp_a, 0, 803, ff::kMf).frag(udp_a, 100, 50, 0));
  add("fail--oversize-65540", OpWriter().datagram(x253, 65520, 8192, true));
  add("reasm--20000-in-the-64k-class", OpWriter().datagram(udp_a, 20000, 8000));
  add("reasm--broadcast-even-id", OpWriter().datagram(flow(0, 0, 0, true), 2000, 1000));
  add("any--other-host-odd-id-dropped", OpWriter().datagram(flow(0, 0, 1, true), 2000, 1000));
  add("any--protocol-6-no-handler", OpWriter().datagram(flow(0, 3, 5), 2000, 1000, true));
  add("any--bad-option-in-first-fragment",
      OpWriter().frag(udp_a, 0, 800, ff::kMf | ff::options(3)).frag(udp_a, 100, 200, 0));
  {
    OpWriter w;
    const std::array<uint8_t, 16> junk{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    w.raw_frag(icmp, 0, ff::kMf, junk).raw_frag(icmp, 2, 0, junk);
    add("reasm--raw-bytes-icmp", w);
  }
  // ip_send at small MTUs, the fragments checked, then reflected back to be reassembled.
  add("frag--udp-4000-at-576-reflected-in-order",
      OpWriter().send(send_flags::make(0, false, 0, 6), 4000, 8).reflect(ReflectMode::Front, 0, 32));
  add("frag--253-3000-at-296-reflected-reversed",
      OpWriter().send(send_flags::make(1, false, 1, 7), 3000, 6).reflect(ReflectMode::Back, 0, 32));
  add("frag--icmp-echo-1000-at-68-reflected-answered-in-fragments",
      OpWriter().send(send_flags::make(0, false, 2, 5), 1000, 0).reflect(ReflectMode::Stride, 3, 32));
  add("frag--reflected-with-a-duplicate-then-expired",
      OpWriter().send(send_flags::make(1, false, 0, 0), 1200, 5).reflect(ReflectMode::Duplicate, 1, 2)
          .reflect(ReflectMode::Front, 0, 3).time(kStep31s).reflect(ReflectMode::Front, 0, 32));
  add("fragfail--df-over-the-mtu", OpWriter().send(send_flags::make(0, true, 0, 1), 1500, 9));
  add("any--fits-the-mtu", OpWriter().send(send_flags::make(0, false, 0, 1), 1000, 12));
  add("any--unresolved-destination-arp",
      OpWriter().send(send_flags::make(0, false, 0, 2, true), 3000, 8).time(kStep1s).time(kStep1s).time(kStep2s)
          .time(kStep2s));
  {
    OpWriter w;  // a sent datagram's fragments and our own fragments of the same key
    w.send(send_flags::make(0, false, 0, 3), 2000, 10);
    w.reflect(ReflectMode::Front, 0, 1).frag(flow(0, 0, 3), 157, 744, 0).reflect(ReflectMode::Front, 0, 32);
    add("reasm--reflected-and-own-fragments-mixed", w);
  }
  return s;
}

}  // namespace vnic::fuzz::defrag
