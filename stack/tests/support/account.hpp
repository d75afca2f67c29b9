// The per-packet account of a traced run: a packet's journey (its events as "source step kind"
// lines) and the check that every packet ends exactly once (Consumed or Drop, its last event).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/net_rig.hpp"

namespace vnic::stack::testing {

inline std::vector<std::string> journey(const RecordingSink& sink, uint64_t id) {
  std::vector<std::string> v;
  for (const auto& r : sink.events) {
    if (r.e.packet == id) {
      v.push_back(r.source + " " + std::string(model::step_name(r.e.step)) + " " +
                  std::string(model::trace_kind_name(r.e.kind)));
    }
  }
  return v;
}

// Every packet of a run has exactly one end (Consumed or Drop), its last event; packets the
// rig's wire lost (`lost`) have none.
inline void expect_account(const RecordingSink& sink, const std::set<uint64_t>& lost) {
  std::map<uint64_t, int> ends;
  std::map<uint64_t, TraceKind> last;
  for (const auto& r : sink.events) {
    if (r.e.packet == 0) continue;
    last[r.e.packet] = r.e.kind;
    if (r.e.kind == TraceKind::Consumed || r.e.kind == TraceKind::Drop) ++ends[r.e.packet];
  }
  for (const auto& [id, kind] : last) {
    if (lost.count(id) != 0) {
      EXPECT_EQ(ends[id], 0) << std::hex << id;
      continue;
    }
    EXPECT_EQ(ends[id], 1) << std::hex << id << "\n" << ::testing::PrintToString(journey(sink, id));
    EXPECT_TRUE(kind == TraceKind::Consumed || kind == TraceKind::Drop) << std::hex << id;
  }
}

}  // namespace vnic::stack::testing
