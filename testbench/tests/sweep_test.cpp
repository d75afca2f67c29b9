// vnic sweep's pieces: grid arguments, the order of the points, metric paths, CSV cells.
#include <gtest/gtest.h>

#include "vnic/tb/sweep.hpp"

namespace {
using nlohmann::json;

TEST(Sweep, GridArgumentsAreKeyAndValues) {
  std::string err;
  const auto g = vnic::tb::parse_grid("host.b.rx-usecs=0,8,64", &err);
  ASSERT_TRUE(g) << err;
  EXPECT_EQ(g->key, "host.b.rx-usecs");
  EXPECT_EQ(g->values, (std::vector<std::string>{"0", "8", "64"}));
  for (const char* bad : {"host.b.rx-usecs", "=1,2", "k=", "k=1,,2", "k=1,"}) {
    err.clear();
    EXPECT_FALSE(vnic::tb::parse_grid(bad, &err)) << bad;
    EXPECT_NE(err.find(std::string("--grid ") + bad), std::string::npos) << err;
  }
}

TEST(Sweep, TheLastAxisVariesFastest) {
  const auto p = vnic::tb::grid_assignments({{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}});
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0], (std::vector<std::string>{"a=1", "b=x"}));
  EXPECT_EQ(p[2], (std::vector<std::string>{"a=1", "b=z"}));
  EXPECT_EQ(p[3], (std::vector<std::string>{"a=2", "b=x"}));
  EXPECT_EQ(vnic::tb::grid_assignments({}).size(), 1u);  // no axis: the one scenario
}

TEST(Sweep, MetricsAreDottedPathsIntoTheSummary) {
  const json j = json::parse(R"({"hosts": {"b": {"rates": {"irq_per_s": 1234.5}, "received": 7}}, "ok": true})");
  const json* v = vnic::tb::find_metric(j, "hosts.b.rates.irq_per_s");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(vnic::tb::csv_cell(v), "1234.5");
  EXPECT_EQ(vnic::tb::table_cell(v), "1234.5");
  EXPECT_EQ(vnic::tb::csv_cell(vnic::tb::find_metric(j, "hosts.b.received")), "7");
  EXPECT_EQ(vnic::tb::csv_cell(vnic::tb::find_metric(j, "ok")), "true");
  EXPECT_EQ(vnic::tb::find_metric(j, "hosts.c.received"), nullptr);
  EXPECT_EQ(vnic::tb::find_metric(j, "ok.more"), nullptr);
  EXPECT_EQ(vnic::tb::csv_cell(nullptr), "");
  EXPECT_EQ(vnic::tb::csv_cell(vnic::tb::find_metric(j, "hosts")), "");  // a table is no cell
  const json third = 1.0 / 3.0;
  EXPECT_EQ(vnic::tb::table_cell(&third), "0.333333");
  EXPECT_EQ(json::parse(vnic::tb::csv_cell(&third)).get<double>(), 1.0 / 3.0);  // full precision
  const json s = "a,\"b\"";
  EXPECT_EQ(vnic::tb::csv_cell(&s), "\"a,\"\"b\"\"\"");
  for (const auto& m : vnic::tb::default_metrics()) EXPECT_FALSE(m.empty());
}
}  // namespace
