// Scenarios for the system tests as the vnic CLI resolves them: a base layer (a built-in by
// "builtin:NAME", or TOML text) with --set style settings on top. Anything that does not parse or
// resolve is a test failure (EXPECT), and the test goes on with what is left.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vnic/tb/scenario.hpp"

namespace vnic::tb::testing {

// `sets` ("host.a.frames=3000", as --set takes them) parsed; one that does not parse is left out.
inline std::vector<ScenarioSetting> parse_settings(const std::vector<std::string>& sets) {
  std::string err;
  std::vector<ScenarioSetting> ss;
  for (const auto& a : sets) {
    auto s = parse_setting(a, &err);
    EXPECT_TRUE(s) << a << ": " << err;
    if (s) ss.push_back(*s);
  }
  return ss;
}

// The layer `base` names: "builtin:NAME" as --scenario takes it, anything else TOML text (called
// `source` in error messages).
inline ScenarioLayer layer_of(const std::string& base, const std::string& source = "test") {
  if (!base.starts_with("builtin:")) return ScenarioLayer{base, source};
  std::string err;
  auto layer = scenario_layer(base, &err);
  EXPECT_TRUE(layer) << err;
  return layer ? *layer : ScenarioLayer{};
}

// The scenario of `base` (as layer_of) with `sets` on top; Scenario{} if it does not resolve.
inline Scenario resolve(const std::string& base, const std::vector<std::string>& sets = {},
                        const std::string& source = "test") {
  const ScenarioLayer layer = layer_of(base, source);
  const std::vector<ScenarioSetting> ss = parse_settings(sets);
  std::string err;
  auto r = resolve_scenario({layer}, ss, &err);
  EXPECT_TRUE(r) << err;
  return r ? r->scenario : Scenario{};
}

// The built-in scenario `name` with `sets` on top.
inline Scenario builtin(const std::string& name, const std::vector<std::string>& sets = {}) {
  return resolve("builtin:" + name, sets);
}

}  // namespace vnic::tb::testing
