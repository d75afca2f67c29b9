// PairRig: the WirePair the stack's application tests run on: host_a 10.0.0.1/24 and host_b
// 10.0.0.2/24 back to back, their packet ids from 1 << 32 and 2 << 32, and run_until, which runs
// both hosts' CPUs in time order. The tests add their protocols (Icmp, Udp, ...) and a TaskScope
// for the applications' tasks as members of their own. Also lines(), an application's output cut
// into lines.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/net_rig.hpp"
#include "support/wire_pair.hpp"

namespace vnic::stack::testing {

struct PairRig : WirePair {
  int max_steps = 50'000'000;  // run_until's bound: past it the pair is taken as never going idle

  PairRig() : WirePair(cidr("10.0.0.1/24"), cidr("10.0.0.2/24")) {
    a.net->set_id_base(uint64_t{1} << 32);
    b.net->set_id_base(uint64_t{2} << 32);
  }
  // Static neighbours both ways (ip neigh add ... permanent): no ARP exchange in the way.
  void static_arp() {
    a.net->neigh().neigh_add(a.dev, ip4("10.0.0.2"), b.dev.dev_addr, kNudPermanent);
    b.net->neigh().neigh_add(b.dev, ip4("10.0.0.1"), a.dev.dev_addr, kNudPermanent);
  }
  static bool softirq_pending(const FakeCpu& c) {
    return c.softirq_pending(Softirq::NetRx) || c.softirq_pending(Softirq::NetTx);
  }
  // Both hosts' CPUs in time order: softirqs first (a frame arrives at its sender's time), then
  // the earliest timed call of either, until nothing is left or `until`.
  void run_until(Instant until) {
    for (int guard = 0; guard < max_steps; ++guard) {
      bool any = false;
      for (FakeCpu* c : {&a.cpu, &b.cpu}) {
        FakeCpu& o = c == &a.cpu ? b.cpu : a.cpu;
        if (softirq_pending(*c)) {
          if (c->now() < o.now()) c->set_now(o.now());
          c->run_softirqs();
          any = true;
        }
      }
      if (any) continue;
      const auto ta = a.cpu.next_call_time(), tb = b.cpu.next_call_time();
      if (!ta && !tb) return;
      const bool pick_a = ta && (!tb || *ta <= *tb);
      if ((pick_a ? *ta : *tb) > until) return;
      (pick_a ? a.cpu : b.cpu).run(1);
    }
    FAIL() << "the pair did not go idle";
  }
};

// `s` cut at its newlines; a last line without one is kept too.
inline std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      v.push_back(s.substr(from, i - from));
      from = i + 1;
    }
  }
  if (from < s.size()) v.push_back(s.substr(from));
  return v;
}

}  // namespace vnic::stack::testing
