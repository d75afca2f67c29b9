// DriverHost implementation.
#include "vnic/tb/driver_host.hpp"

#include <fmt/format.h>

namespace vnic::tb {

DriverHost::DriverHost(const std::string& name, hw::EventQueue& q, HostMemory& mem, const DriverHostConfig& cfg,
                       const std::string& bus_info)
    : name_(name),
      mem_(mem),
      cfg_(cfg),
      cpus_(q, cfg.cpus == 0 ? 1 : cfg.cpus, cfg.costs),
      bus_(std::make_unique<PciHostBus>((name + "_bus").c_str(), q, cpus_, mem, bus_info)),
      skbs_(*bus_, 2048 + stack::SkbPool::kHeadroom, cfg.skb_pool) {
  for (unsigned i = 0; i < cpus_.size(); ++i) {
    softnet_.push_back(std::make_unique<stack::Softnet>(cpus_.core(i), cfg.sysctl));
    softnet_.back()->set_rx_handler(&RxChecker::rx, &checker_);
  }
  drv_ = std::make_unique<driver::VnicDriver>(*bus_, cpus_, *softnet_[0], skbs_, cfg.drv);
  drv_->mtu = cfg.mtu;
  gen_ = std::make_unique<PktGen>(cpus_.core(cpus_.size() - 1), *drv_, skbs_, cfg.gen);
}

stack::SoftnetStats DriverHost::softnet_total() const {
  stack::SoftnetStats t;
  for (const auto& sd : softnet_) {
    const auto& s = sd->stats();
    t.processed += s.processed;
    t.dropped += s.dropped;
    t.time_squeeze += s.time_squeeze;
    t.received_rps += s.received_rps;
    t.flow_limit_count += s.flow_limit_count;
    t.net_rx_action += s.net_rx_action;
    t.squeeze_budget += s.squeeze_budget;
    t.squeeze_time += s.squeeze_time;
    t.rx_nohandler += s.rx_nohandler;
  }
  return t;
}

DriverHost::~DriverHost() = default;

void DriverHost::connect(hw::Nic& nic, uint64_t bar0_base) {
  nic_ = &nic;
  bus_->connect(nic, bar0_base);
}

void DriverHost::set_trace(stack::TraceSink* sink, uint64_t id_base) {
  for (unsigned i = 0; i < cpus_.size(); ++i) {
    cpus_.core(i).set_trace(sink, name_.c_str());
    softnet_[i]->set_trace(sink, name_.c_str());
  }
  model::PacketTags* tags = sink != nullptr ? &tags_ : nullptr;
  drv_->set_trace(sink, name_.c_str(), tags);
  gen_->set_trace(sink, name_.c_str(), id_base);
  checker_.set_trace(sink, name_.c_str(), &cpus_.core(0));
  if (nic_ != nullptr) nic_->set_trace(sink, id_base, tags);
}

stack::Co<void> DriverHost::bring_up_task() {
  probe_rc_ = co_await drv_->probe();
  if (probe_rc_ != 0) co_return;
  open_rc_ = co_await drv_->open();
  if (open_rc_ != 0) co_return;
  gen_->start();
}

void DriverHost::bring_up() {
  struct Start {
    static void run(void* ctx, uint64_t) {
      auto& h = *static_cast<DriverHost*>(ctx);
      h.tasks_.spawn(h.bring_up_task());
    }
  };
  cpus_.core(0).call_at(cpus_.core(0).now(), &Start::run, this);
}

stack::Co<void> DriverHost::refresh_task() { co_await drv_->update_hw_stats(); }

void DriverHost::refresh_stats() {
  struct Start {
    static void run(void* ctx, uint64_t) {
      auto& h = *static_cast<DriverHost*>(ctx);
      h.tasks_.spawn(h.refresh_task());
    }
  };
  cpus_.core(0).call_at(cpus_.core(0).now(), &Start::run, this);
}

std::string DriverHost::ethtool_s() const {
  std::string s = "NIC statistics:\n";
  for (const auto& [k, v] : drv_->get_ethtool_stats()) s += fmt::format("     {}: {}\n", k, v);
  return s;
}

std::string DriverHost::ethtool_c() const {
  const auto c = drv_->get_coalesce();
  return fmt::format("Coalesce parameters for {}:\nAdaptive RX: off  TX: off\nrx-usecs: {}\nrx-frames: {}\n"
                     "tx-usecs: {}\ntx-frames: {}\n",
                     drv_->name, c.rx_coalesce_usecs, c.rx_max_coalesced_frames, c.tx_coalesce_usecs,
                     c.tx_max_coalesced_frames);
}

std::string DriverHost::ethtool_g() const {
  const auto r = drv_->get_ringparam();
  return fmt::format("Ring parameters for {}:\nPre-set maximums:\nRX:\t\t{}\nRX Mini:\tn/a\nRX Jumbo:\tn/a\n"
                     "TX:\t\t{}\nCurrent hardware settings:\nRX:\t\t{}\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t{}\n",
                     drv_->name, r.rx_max_pending, r.tx_max_pending, r.rx_pending, r.tx_pending);
}

std::string DriverHost::ethtool_link() const {
  const auto l = drv_->get_link_ksettings();
  return fmt::format("Settings for {}:\n\tSpeed: {}\n\tDuplex: {}\n\tAuto-negotiation: off\n\tPort: {}\n"
                     "\tLink detected: {}\n",
                     drv_->name, l.link ? fmt::format("{}Mb/s", l.speed_mbps) : std::string("Unknown!"),
                     l.link ? "Full" : "Unknown! (255)", l.port, l.link ? "yes" : "no");
}

std::string DriverHost::bql_sysfs() const {
  const std::string dir = fmt::format("/sys/class/net/{}/queues/tx-0/byte_queue_limits/", drv_->name);
  if (!drv_->bql_enabled) return dir + "limit: (BQL off)\n";
  return fmt::format("{0}limit:{1}\n{0}inflight:{2}\n{0}limit_max:{3}\n", dir, drv_->bql_limit(),
                     drv_->bql_inflight(), drv_->dql.max_limit);
}

std::string DriverHost::softnet_stat() const {
  std::string s;
  for (const auto& sd : softnet_) s += sd->softnet_stat_line() + "\n";
  return s;
}

std::string DriverHost::cpu_usage(uint64_t elapsed_ps) const {
  std::string out;
  for (unsigned i = 0; i < cpus_.size(); ++i) out += core_usage(cpus_.core(i), elapsed_ps);
  return out;
}

std::string DriverHost::core_usage(const HostCpu& cpu, uint64_t elapsed_ps) {
  const auto& st = cpu.stats();
  const double e = elapsed_ps > 0 ? static_cast<double>(elapsed_ps) : 1.0;
  auto pct = [&](uint64_t ps) { return 100.0 * static_cast<double>(ps) / e; };
  const uint64_t busy = st.busy_hardirq_ps + st.busy_softirq_ps + st.busy_process_ps;
  return fmt::format("cpu{}: hardirq {:.1f}%  softirq {:.1f}%  process {:.1f}%  idle {:.1f}%  "
                     "(hard IRQs {}, softirq runs {}, ksoftirqd wake-ups {}, tasks {})\n",
                     cpu.id(), pct(st.busy_hardirq_ps), pct(st.busy_softirq_ps), pct(st.busy_process_ps),
                     busy >= elapsed_ps ? 0.0 : 100.0 - pct(busy), st.hardirqs, st.softirq_runs, st.ksoftirqd_wakeups,
                     st.tasks);
}

}  // namespace vnic::tb
