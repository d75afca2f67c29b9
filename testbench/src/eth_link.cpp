// EthLink implementation: one queue callback per frame, frames moved through a ring per direction.
#include "vnic/tb/eth_link.hpp"

#include <algorithm>
#include <stdexcept>

namespace vnic::tb {

namespace {
FaultConfig with_seed(FaultConfig f, uint64_t seed) {
  f.seed = seed;
  return f;
}
}  // namespace

EthLink::EthLink(sc_core::sc_module_name name, hw::EventQueue& q, const EthLinkConfig& cfg)
    : sc_core::sc_module(name),
      q_(q),
      cfg_(cfg),
      faults_{FaultInjector(with_seed(cfg.faults, cfg.seed), 0), FaultInjector(with_seed(cfg.faults, cfg.seed), 1)},
      up_(cfg.start_up) {
  const FaultDirection d = cfg.faults.direction;
  faulted_[0] = d != FaultDirection::BToA && faults_[0].active();
  faulted_[1] = d != FaultDirection::AToB && faults_[1].active();
}

EthLink::~EthLink() = default;

void EthLink::attach(unsigned side, hw::EthEndpoint* ep) { ep_[side & 1] = ep; }

void EthLink::capture_to(const std::string& path) {
  std::string err;
  if (!pcap_.open(path, &err)) throw std::runtime_error(err);
}

bool EthLink::transmit(unsigned side, model::Frame&& frame, uint64_t start_ps) {
  const unsigned dir = side & 1;
  if (!up_) {
    frame.release();  // gone; the sender counts it
    return false;
  }
  LinkDirStats& st = stats_[dir];
  const uint64_t now = q_.now_ps();
  const uint64_t start = std::min(start_ps, now);
  const std::size_t n = frame.size();
  if (start < free_at_ps_[dir]) ++st.tx_overlap_errors;  // started inside the previous frame or its IFG
  free_at_ps_[dir] = std::max(free_at_ps_[dir], start + static_cast<uint64_t>(hw::wire_time(cfg_.rate, n).ps()));
  ++st.frames;
  st.bytes += n;
  if (faulted_[dir]) {
    switch (faults_[dir].apply(frame.bytes())) {
      case FaultVerdict::Drop:
        ++st.dropped_fault;
        lost(frame.id, model::HostDrop::LinkFault);
        frame.release();
        return true;  // lost on the wire; the sender saw it leave
      case FaultVerdict::Corrupted:
        ++st.corrupted;
        break;
      case FaultVerdict::Pass:
        break;
    }
  }
  // The last bit arrives after preamble + SFD + frame, plus the propagation delay. A station
  // that reports a start too early still cannot be heard in the past or overtake its own
  // previous frame.
  uint64_t arrive = start +
                    static_cast<uint64_t>(cfg_.rate.time_for_bytes(hw::kPreambleBytes + hw::kSfdBytes + n).ps()) +
                    static_cast<uint64_t>(cfg_.propagation.ps());
  arrive = std::max({arrive, now, last_arrive_ps_[dir]});
  last_arrive_ps_[dir] = arrive;
  flight_[dir].push_back(InFlight{std::move(frame), arrive});
  if (dir == 0) {
    q_.at_ps<&EthLink::deliver_dir0>(arrive, this, epoch_);
  } else {
    q_.at_ps<&EthLink::deliver_dir1>(arrive, this, epoch_);
  }
  return true;
}

void EthLink::deliver(unsigned dir, uint64_t epoch) {
  // Callbacks run in arrival order (same-time ones in scheduling order), so the front is ours.
  if (epoch != epoch_ || flight_[dir].empty()) return;  // lost when the link went down
  InFlight f = flight_[dir].take_front();
  ++stats_[dir].delivered;
  if (pcap_.is_open()) pcap_.write(f.arrive_ps, f.frame.bytes());
  hw::EthEndpoint* rx = ep_[dir ^ 1];
  if (rx != nullptr) rx->eth_receive(std::move(f.frame));
}

void EthLink::set_up(bool up) {
  if (up == up_) return;
  up_ = up;
  if (!up) {
    ++epoch_;
    for (unsigned d = 0; d < 2; ++d) {
      stats_[d].dropped_link_down += flight_[d].size();
      for (std::size_t i = 0; i < flight_[d].size(); ++i) lost(flight_[d][i].frame.id, model::HostDrop::LinkDown);
      flight_[d].clear();  // the buffers go back to the senders' pools now
      free_at_ps_[d] = 0;
    }
  }
  q_.after<&EthLink::notify_change>(sc_core::SC_ZERO_TIME, this, up ? 1 : 0);
}

void EthLink::lost(uint64_t id, model::HostDrop why) {
  if (trace_ == nullptr || id == 0) return;
  const uint64_t t = q_.now_ps();
  trace_->trace(name(), model::TraceEvent{t, t, model::TraceKind::RxDrop, model::kNoStep, 0, 0,
                                          model::host_drop(why), id});
}

void EthLink::notify_change(uint64_t up) {
  for (hw::EthEndpoint* ep : ep_) {
    if (ep != nullptr) ep->eth_link_changed(up != 0, cfg_.rate);
  }
}

void EthLink::schedule_link_change(const sc_core::sc_time& at, bool up) {
  q_.at<&EthLink::change_event>(at, this, up ? 1 : 0);
}

void EthLink::change_event(uint64_t up) { set_up(up != 0); }

}  // namespace vnic::tb
