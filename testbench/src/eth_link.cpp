// EthLink implementation.
#include "vnic/tb/eth_link.hpp"

#include <algorithm>
#include <stdexcept>

namespace vnic::tb {

EthLink::EthLink(sc_core::sc_module_name name, hw::EventQueue& q, const EthLinkConfig& cfg)
    : sc_core::sc_module(name),
      q_(q),
      cfg_(cfg),
      faults_{FaultInjector(cfg.faults, 0), FaultInjector(cfg.faults, 1)},
      up_(cfg.start_up) {}

EthLink::~EthLink() = default;

void EthLink::attach(unsigned side, hw::EthEndpoint* ep) { ep_[side & 1] = ep; }

void EthLink::capture_to(const std::string& path) {
  std::string err;
  if (!pcap_.open(path, &err)) throw std::runtime_error(err);
}

bool EthLink::transmit(unsigned side, model::Frame&& frame, uint64_t start_ps) {
  const unsigned dir = side & 1;
  if (!up_) return false;  // the sender counts it
  LinkDirStats& st = stats_[dir];
  const uint64_t now = std::min(start_ps, q_.now_ps());
  const std::size_t n = frame.size();
  if (now < free_at_ps_[dir]) ++st.tx_overlap_errors;  // started inside the previous frame or IFG
  free_at_ps_[dir] = now + static_cast<uint64_t>(hw::wire_time(cfg_.rate, n).ps());
  ++st.frames;
  st.bytes += n;
  if (faults_[dir].active()) {
    switch (faults_[dir].apply(frame.bytes())) {
      case FaultVerdict::Drop:
        ++st.dropped_fault;
        return true;  // gone on the wire; the sender saw it leave
      case FaultVerdict::Corrupted:
        ++st.corrupted;
        break;
      case FaultVerdict::Pass:
        break;
    }
  }
  // The last bit arrives after preamble + SFD + frame, plus the propagation delay.
  const uint64_t arrive = now + static_cast<uint64_t>(cfg_.rate.time_for_bytes(hw::kPreambleBytes + hw::kSfdBytes + n).ps()) +
                          static_cast<uint64_t>(cfg_.propagation.ps());
  flight_[dir].push_back(InFlight{std::move(frame), arrive});
  if (dir == 0) {
    q_.at_ps<&EthLink::deliver0>(arrive, this, epoch_);
  } else {
    q_.at_ps<&EthLink::deliver1>(arrive, this, epoch_);
  }
  return true;
}

void EthLink::deliver(unsigned dir, uint64_t epoch) {
  if (epoch != epoch_ || flight_[dir].empty()) return;  // lost when the link went down
  InFlight f = std::move(flight_[dir].front());
  flight_[dir].pop_front();
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
      flight_[d].clear();
      free_at_ps_[d] = 0;
    }
  }
  q_.after<&EthLink::notify_change>(sc_core::SC_ZERO_TIME, this);
}

void EthLink::notify_change(uint64_t) {
  for (hw::EthEndpoint* ep : ep_) {
    if (ep != nullptr) ep->eth_link_changed(up_, cfg_.rate);
  }
}

void EthLink::schedule_link_change(const sc_core::sc_time& at, bool up) {
  q_.at<&EthLink::change_event>(at, this, up ? 1 : 0);
}

void EthLink::change_event(uint64_t up) { set_up(up != 0); }

}  // namespace vnic::tb
