// Helpers shared by the driver system tests: a driver-host scenario, conservation with the
// counters the drivers read, a sender that calls start_xmit directly, ethtool -S lookups.
#pragma once

#include <gtest/gtest.h>

#include <systemc>

#include <string>

#include "vnic/tb/platform.hpp"

namespace vnic::tb::testing {

inline Scenario driver_scenario(uint64_t frames_a, uint64_t frames_b, uint32_t min_len, uint32_t max_len) {
  std::string err;
  auto s = parse_scenario(default_scenario_toml(), &err);
  EXPECT_TRUE(s) << err;
  EXPECT_EQ(s->hosts, "driver");
  s->nic_side("a").host.count = frames_a;
  s->nic_side("b").host.count = frames_b;
  for (auto* h : {&s->nic_side("a").host, &s->nic_side("b").host}) {
    h->pattern.min_len = min_len;
    h->pattern.max_len = max_len;
  }
  return *s;
}

inline void run() { sc_core::sc_start(); }
inline void run_for(model::Duration d) { sc_core::sc_start(sc_core::sc_time::from_value(static_cast<uint64_t>(d.ps()))); }

// sent == delivered + every drop counter, every direction, with the device counters as the
// drivers read them (ethtool -S), as Platform::run() does at its end.
inline void expect_conservation(Platform& p) {
  for (unsigned i = 0; i < p.num_hosts(); ++i) p.host(i).finish();
  run();
  for (const PortId port : p.ports()) {
    std::string detail;
    EXPECT_EQ(p.unaccounted(port, &detail), 0) << p.label(port) << ": " << detail;
  }
}

inline uint64_t ethtool_stat(DriverHost& h, const std::string& name) {
  for (const auto& [k, v] : h.driver().get_ethtool_stats()) {
    if (k == name) return v;
  }
  ADD_FAILURE() << "no ethtool stat " << name;
  return 0;
}

// Sends n frames of `pat` (sequence numbers from *seq) through start_xmit, waiting while the
// queue is stopped or the interface down; *sent counts what the driver accepted.
inline stack::Co<void> send(DriverHost& h, TrafficPattern pat, uint64_t* seq, int n, uint64_t* sent = nullptr) {
  auto& d = h.driver();
  for (int k = 0; k < n; ++k) {
    while (d.netif_xmit_stopped() || !d.up) co_await stack::sleep(h.cpus(), model::Duration::us(5));
    stack::SkBuff* skb = h.skbs().alloc(frame_len(pat, *seq));
    if (skb == nullptr) co_return;
    fill_frame(pat, *seq, skb->bytes());
    if (d.start_xmit(skb, false) == stack::NetdevTx::Ok) {
      ++*seq;
      if (sent) ++*sent;
    } else {
      stack::kfree_skb(skb);
    }
  }
}

}  // namespace vnic::tb::testing
