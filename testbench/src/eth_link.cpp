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

// The copies duplication makes. One pool for every link of the process, and never destroyed
// before exit: a copy may still sit in a station (a NIC's DMA) when its link is destroyed.
model::FramePool& copy_pool() {
  static model::FramePool pool;
  return pool;
}

// The copy's id: the next copy number after the original's own (a copy of a copy is the 2nd).
uint64_t copy_id(uint64_t original) {
  if (original == 0) return 0;
  const uint32_t n = (original >> 62 & 1) != 0 ? static_cast<uint32_t>(original >> 40 & 0xFF) + 1 : 1;
  return model::duplicate_id(original, n);
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
  bool dup = false, hold = false, corrupted = false;
  if (faulted_[dir]) {
    FaultInjector& fi = faults_[dir];
    switch (fi.apply(frame.bytes())) {
      case FaultVerdict::Drop:
        ++st.dropped_fault;
        lost(frame.id, model::HostDrop::LinkFault);
        frame.release();
        return true;  // lost on the wire; the sender saw it leave
      case FaultVerdict::Corrupted:
        ++st.corrupted;
        corrupted = true;
        break;
      case FaultVerdict::Pass:
        break;
    }
    dup = fi.duplicate();
    hold = fi.hold();
  }
  // The last bit arrives after preamble + SFD + frame, plus the propagation delay. A station
  // that reports a start too early still cannot be heard in the past or overtake its own
  // previous frame.
  uint64_t arrive = start +
                    static_cast<uint64_t>(cfg_.rate.time_for_bytes(hw::kPreambleBytes + hw::kSfdBytes + n).ps()) +
                    static_cast<uint64_t>(cfg_.propagation.ps());
  arrive = std::max({arrive, now, last_arrive_ps_[dir]});
  last_arrive_ps_[dir] = arrive;
  model::Frame copy;
  if (dup) {
    copy = copy_of(frame);
    ++st.duplicated;
    if (corrupted) ++st.corrupted;
  }
  if (hold) {
    const uint32_t k = faults_[dir].config().reorder_depth;
    const uint64_t token = ++next_token_;
    const uint64_t deadline = arrive + faults_[dir].config().reorder_max_ns * 1000;
    ++st.reordered;
    emit(model::TraceKind::LinkReorder, frame.id, k, 0);
    held_[dir].push_back(Held{std::move(frame), std::move(copy), deadline, token, k});
    schedule(dir, deadline, true, token);
    return true;
  }
  flight_[dir].push_back(InFlight{std::move(frame), arrive});
  schedule(dir, arrive, false, epoch_);
  if (copy) {
    flight_[dir].push_back(InFlight{std::move(copy), arrive});
    schedule(dir, arrive, false, epoch_);
  }
  // This frame passes the frames held before it; the ones it is the last for go right after it
  // (same time, scheduled later), unless their deadline comes first (that callback is set).
  for (Held& h : held_[dir]) {
    if (h.waiting == 0 || --h.waiting != 0) continue;
    if (arrive < h.deadline_ps) schedule(dir, arrive, true, h.token);
  }
  return true;
}

void EthLink::schedule(unsigned dir, uint64_t at_ps, bool is_release, uint64_t arg) {
  if (is_release) {
    if (dir == 0) {
      q_.at_ps<&EthLink::release_dir0>(at_ps, this, arg);
    } else {
      q_.at_ps<&EthLink::release_dir1>(at_ps, this, arg);
    }
  } else if (dir == 0) {
    q_.at_ps<&EthLink::deliver_dir0>(at_ps, this, arg);
  } else {
    q_.at_ps<&EthLink::deliver_dir1>(at_ps, this, arg);
  }
}

model::Frame EthLink::copy_of(const model::Frame& f) {
  model::Frame c = copy_pool().copy_of(f.bytes());
  c.id = copy_id(f.id);
  emit(model::TraceKind::LinkDuplicate, c.id, static_cast<uint32_t>(f.size()), f.id);
  return c;
}

std::size_t EthLink::in_flight(unsigned dir) const {
  std::size_t n = flight_[dir & 1].size();
  for (const Held& h : held_[dir & 1]) n += h.copy ? 2 : 1;
  return n;
}

void EthLink::receive(unsigned dir, model::Frame&& f, uint64_t at_ps) {
  ++stats_[dir].delivered;
  if (pcap_.is_open()) pcap_.write(at_ps, f.bytes());
  hw::EthEndpoint* rx = ep_[dir ^ 1];
  if (rx != nullptr) rx->eth_receive(std::move(f));
}

void EthLink::deliver(unsigned dir, uint64_t epoch) {
  // Callbacks run in arrival order (same-time ones in scheduling order), so the front is ours.
  if (epoch != epoch_ || flight_[dir].empty()) return;  // lost when the link went down
  InFlight f = flight_[dir].take_front();
  receive(dir, std::move(f.frame), f.arrive_ps);
}

void EthLink::release(unsigned dir, uint64_t token) {
  // Each held frame has two callbacks (its deadline, and the frame that passed it last); the
  // first delivers it, the second finds it gone (as does either after the link went down).
  auto& hv = held_[dir];
  const auto it = std::find_if(hv.begin(), hv.end(), [token](const Held& h) { return h.token == token; });
  if (it == hv.end()) return;
  Held h = std::move(*it);
  hv.erase(it);
  const uint64_t now = q_.now_ps();
  receive(dir, std::move(h.frame), now);
  if (h.copy) receive(dir, std::move(h.copy), now);
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
      for (Held& h : held_[d]) {
        ++stats_[d].dropped_link_down;
        lost(h.frame.id, model::HostDrop::LinkDown);
        if (h.copy) {
          ++stats_[d].dropped_link_down;
          lost(h.copy.id, model::HostDrop::LinkDown);
        }
      }
      held_[d].clear();
      free_at_ps_[d] = 0;
    }
  }
  q_.after<&EthLink::notify_change>(sc_core::SC_ZERO_TIME, this, up ? 1 : 0);
}

void EthLink::emit(model::TraceKind kind, uint64_t id, uint32_t a, uint64_t b) {
  if (trace_ == nullptr || id == 0) return;
  const uint64_t t = q_.now_ps();
  trace_->trace(name(), model::TraceEvent{t, t, kind, model::kNoStep, 0, a, b, id});
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
