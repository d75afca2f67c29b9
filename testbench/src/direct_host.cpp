// DirectHost implementation.
#include "vnic/tb/direct_host.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "vnic/model/regs.hpp"

namespace vnic::tb {

using model::regs::Stat;
using json = nlohmann::ordered_json;

namespace {
double per_s(uint64_t n, double sim_s) { return sim_s > 0 ? static_cast<double>(n) / sim_s : 0.0; }

int64_t sum_of(std::span<const Stat> which, const hw::Nic& nic) {
  uint64_t n = 0;
  for (Stat st : which) n += nic.stat(st);
  return static_cast<int64_t>(n);
}
}  // namespace

std::string ethtool_stats(hw::Nic& nic) {
  std::string s = "NIC statistics:\n";
  for (unsigned i = 0; i < model::regs::kNumStats; ++i) {
    s += fmt::format("     {}: {}\n", model::regs::kStatInfo[i].name, nic.stat(static_cast<Stat>(i)));
  }
  return s;
}

DirectHost::DirectHost(const std::string& name, hw::EventQueue& q, HostMemory& mem, const TestHostConfig& cfg,
                       std::string host_name, unsigned nics)
    : host_name_(std::move(host_name)), mem_(mem) {
  if (nics != 1) {
    throw std::invalid_argument(fmt::format("host {}: a direct host (scenario.hosts = \"direct\") has one NIC, not {}",
                                            host_name_, nics));
  }
  th_ = std::make_unique<TestHost>(name.c_str(), q, mem, cfg);
}

DirectHost::~DirectHost() = default;

void DirectHost::check_port(unsigned port) const {
  if (port != 0) throw std::out_of_range(fmt::format("host {}: a direct host has one NIC", host_name_));
}

void DirectHost::connect(unsigned port, hw::Nic& nic) {
  check_port(port);
  nic_ = &nic;
  th_->connect(nic);
}

void DirectHost::expect(unsigned port, const TrafficPattern& p) {
  check_port(port);
  th_->expect(p);
}

void DirectHost::expect_also(unsigned port, const TrafficPattern& p, const model::MacAddr& me) {
  check_port(port);
  th_->expect_also(p, me);
}

void DirectHost::set_trace(model::TraceSink* sink, const std::vector<uint64_t>& id_base) {
  // The test host makes no trace events of its own; its NIC's frames carry the port's ids.
  if (nic_ != nullptr) nic_->set_trace(sink, id_base.empty() ? 0 : id_base[0]);
}

bool DirectHost::finish() {
  th_->service();  // whatever the NIC completed after the last interrupt is still collected
  return false;
}

uint64_t DirectHost::sent(unsigned port) const {
  check_port(port);
  return th_->stats().tx_posted;
}

uint64_t DirectHost::delivered(unsigned port) const {
  check_port(port);
  return th_->stats().rx_frames;
}

bool DirectHost::rx_clean(unsigned port) const {
  check_port(port);
  const auto& h = th_->stats();
  return h.rx_bad_bytes == 0 && h.rx_out_of_order == 0;
}

std::vector<ConservationTerm> DirectHost::tx_drops(unsigned port) const {
  check_port(port);
  return {{"nic_tx_drops", "tx drops", sum_of(model::regs::kTxDropStats, *nic_)}};
}

std::vector<ConservationTerm> DirectHost::rx_drops(unsigned port) const {
  check_port(port);
  return {{"nic_rx_drops", "rx drops", sum_of(model::regs::kRxDropStats, *nic_)}};
}

std::string DirectHost::port_header(unsigned port) const {
  check_port(port);
  return fmt::format("{}, {}", nic_->name(), nic_->config().perm_mac.str());
}

std::vector<ReportView> DirectHost::views(uint64_t, const std::vector<std::string>& conservation) const {
  std::vector<ReportView> v;
  const auto& hs = th_->stats();
  v.push_back({"ethtool-S.txt", fmt::format("ethtool -S eth_{}", host_name_), ethtool_stats(*nic_)});
  v.push_back({"host.txt", "",
               fmt::format("host: tx_posted {} tx_completed {} rx_frames {} rx_ok {} rx_bad_bytes {} "
                           "rx_out_of_order {} rx_gap_frames {} rx_err_flagged {} irqs {}\n",
                           hs.tx_posted, hs.tx_completed, hs.rx_frames, hs.rx_ok, hs.rx_bad_bytes, hs.rx_out_of_order,
                           hs.rx_gap_frames, hs.rx_err_flagged, hs.irqs)});
  std::string cons;
  for (const auto& line : conservation) cons += line;
  v.push_back({"conservation.txt", "", cons});
  return v;
}

json DirectHost::port_summary(unsigned port, double sim_s) const {
  check_port(port);
  const auto& s = th_->stats();
  json j;
  j["mac"] = nic_->config().perm_mac.str();
  j["sent"] = s.tx_posted;
  j["received"] = s.rx_frames;
  json dev = json::object();
  for (unsigned k = 0; k < model::regs::kNumStats; ++k) {
    dev[std::string(model::regs::kStatInfo[k].name)] = nic_->stat(static_cast<Stat>(k));
  }
  j["device"] = std::move(dev);
  j["test_host"] = json{{"tx_posted", s.tx_posted},       {"tx_completed", s.tx_completed},
                        {"tx_ring_full", s.tx_ring_full}, {"tx_desc_errors", s.tx_desc_errors},
                        {"rx_frames", s.rx_frames},       {"rx_ok", s.rx_ok},
                        {"rx_bad_bytes", s.rx_bad_bytes}, {"rx_out_of_order", s.rx_out_of_order},
                        {"rx_gap_frames", s.rx_gap_frames}, {"rx_err_flagged", s.rx_err_flagged},
                        {"irqs", s.irqs}};
  j["rates"] = json{{"irq_per_s", per_s(s.irqs, sim_s)},
                    {"rx_packets_per_s", per_s(s.rx_frames, sim_s)},
                    {"tx_packets_per_s", per_s(s.tx_posted, sim_s)}};
  return j;
}

json DirectHost::host_summary(double) const { return json::object(); }

}  // namespace vnic::tb
