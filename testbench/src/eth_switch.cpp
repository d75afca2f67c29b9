// EthSwitch implementation: three queue callbacks per frame (taken in, last bit out, at the
// station), frames moved through rings per port; flood copies from the switch's own pool.
#include "vnic/tb/eth_switch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace vnic::tb {

namespace {
uint64_t mac_key(const uint8_t* p) {
  uint64_t k = 0;
  for (int i = 0; i < 6; ++i) k = k << 8 | p[i];
  return k;
}
model::MacAddr key_mac(uint64_t k) {
  model::MacAddr m;
  for (int i = 5; i >= 0; --i) {
    m.b[static_cast<std::size_t>(i)] = static_cast<uint8_t>(k);
    k >>= 8;
  }
  return m;
}
uint64_t ps_of(model::Duration d) { return static_cast<uint64_t>(d.ps()); }
}  // namespace

EthSwitch::EthSwitch(sc_core::sc_module_name name, hw::EventQueue& q, const EthSwitchConfig& cfg)
    : sc_core::sc_module(name), q_(q), cfg_(cfg) {
  if (cfg_.rates.empty() || cfg_.rates.size() > kMaxPorts) {
    throw std::invalid_argument(fmt::format("switch {}: {} ports (1..{})", this->name(), cfg_.rates.size(), kMaxPorts));
  }
  for (unsigned i = 0; i < cfg_.rates.size(); ++i) {
    auto p = std::make_unique<Port>();
    p->sw = this;
    p->index = i;
    p->rate_ = cfg_.rates[i];
    p->up_ = cfg_.start_up;
    ports_.push_back(std::move(p));
  }
}

EthSwitch::~EthSwitch() = default;

void EthSwitch::Port::attach(unsigned, hw::EthEndpoint* e) { ep = e; }

bool EthSwitch::Port::transmit(unsigned, model::Frame&& frame, uint64_t start_ps) {
  return sw->ingress(*this, std::move(frame), start_ps);
}

void EthSwitch::capture_to(unsigned p, const std::string& path) {
  std::string err;
  if (!ports_.at(p)->pcap.open(path, &err)) throw std::runtime_error(err);
}

void EthSwitch::close_captures() {
  for (auto& p : ports_) p->pcap.close();
}

bool EthSwitch::ingress(Port& p, model::Frame&& frame, uint64_t start_ps) {
  if (!p.up_) {
    frame.release();  // gone; the station counts it
    return false;
  }
  const uint64_t now = q_.now_ps();
  const uint64_t start = std::min(start_ps, now);
  if (p.pcap.is_open()) p.pcap.write(now, frame.bytes());
  // The last bit is in after preamble + SFD + frame and the cable; never in the past, never
  // before the port's previous frame.
  uint64_t in = start + ps_of(p.rate_.time_for_bytes(hw::kPreambleBytes + hw::kSfdBytes + frame.size())) +
                ps_of(cfg_.propagation);
  in = std::max({in, now, p.last_in_ps});
  p.last_in_ps = in;
  const uint64_t serial = ++serial_;
  p.rx.push_back(Held{std::move(frame), serial, in});
  q_.at_ps<&EthSwitch::ready>(in + ps_of(cfg_.latency), this, arg(p.index, serial));
  return true;
}

void EthSwitch::ready(uint64_t a) {
  Port& in = *ports_[a & 0xFF];
  if (in.rx.empty() || in.rx.front().serial != a >> 8) return;  // lost when the port went down
  model::Frame f = in.rx.take_front().frame;
  ++in.stats.rx_frames;
  in.stats.rx_bytes += f.size();
  const uint64_t now = q_.now_ps();
  // No addresses (a NIC never sends one), or a source no station can have (br_handle_frame:
  // !is_valid_ether_addr(h_source), multicast or all zeros): nothing to learn or forward by.
  const uint8_t* d = f.data();
  if (f.size() < 12 || (d[6] & 1u) != 0 || mac_key(d + 6) == 0) {
    ++in.stats.dropped_filtered;
    lost(f, model::HostDrop::SwitchFiltered);
    return;
  }
  // br_handle_frame_finish: learn the source (br_fdb_update), then look the destination up.
  learn(mac_key(d + 6), in.index, now);
  int out = -1;
  if ((d[0] & 1u) == 0) {
    const auto it = table_.find(mac_key(d));
    if (it != table_.end()) {
      if (now - it->second.seen_ps < ps_of(cfg_.ageing)) {
        out = static_cast<int>(it->second.port);
      } else {
        table_.erase(it);  // aged out: unknown again
      }
    }
  }
  if (out >= 0) {
    if (static_cast<unsigned>(out) == in.index) {  // both stations on this port: not forwarded
      ++in.stats.dropped_filtered;
      lost(f, model::HostDrop::SwitchFiltered);
      return;
    }
    enqueue(static_cast<unsigned>(out), std::move(f));
    return;
  }
  // Flood: every other port that is up with a station on it; the first gets the frame, each
  // other one a copy (a packet of its own).
  std::vector<unsigned> to;
  to.reserve(ports_.size());
  for (const auto& p : ports_) {
    if (p->index != in.index && p->up_ && p->ep != nullptr) to.push_back(p->index);
  }
  if (to.empty()) {
    ++in.stats.dropped_filtered;
    lost(f, model::HostDrop::SwitchFiltered);
    return;
  }
  in.stats.flood_copies += to.size() - 1;
  for (std::size_t i = 1; i < to.size(); ++i) {
    model::Frame c = pool_.copy_of(f.bytes());
    c.id = f.id != 0 ? (cfg_.id_prefix << 32) + ++copies_ : 0;
    enqueue(to[i], std::move(c));
  }
  enqueue(to[0], std::move(f));
}

void EthSwitch::learn(uint64_t mac, unsigned port, uint64_t now) {
  if (const auto it = table_.find(mac); it != table_.end()) {
    it->second = Learned{port, now};
    return;
  }
  if (table_.size() >= cfg_.fdb_max) {
    const uint64_t ageing = ps_of(cfg_.ageing);
    std::erase_if(table_, [&](const auto& e) { return now - e.second.seen_ps >= ageing; });
    if (table_.size() >= cfg_.fdb_max) {
      ++fdb_full_;
      return;
    }
  }
  table_.emplace(mac, Learned{port, now});
}

void EthSwitch::enqueue(unsigned port, model::Frame&& f) {
  Port& p = *ports_[port];
  if (!p.up_ || p.ep == nullptr) {
    ++p.stats.tx_dropped_link_down;
    lost(f, model::HostDrop::SwitchLinkDown);
    return;
  }
  if (p.queue_bytes + f.size() > cfg_.queue_bytes) {
    ++p.stats.dropped_queue_full;
    lost(f, model::HostDrop::SwitchQueueFull);
    return;
  }
  p.queue_bytes += f.size();
  p.stats.queue_max_bytes = std::max(p.stats.queue_max_bytes, p.queue_bytes);
  p.queue.push_back(Held{std::move(f), ++serial_, 0});
  if (p.queue.size() == 1) start_next(p);
}

void EthSwitch::start_next(Port& p) {
  Held& h = p.queue.front();
  h.at_ps = std::max(q_.now_ps(), p.free_at_ps);
  p.free_at_ps = h.at_ps + ps_of(hw::wire_time(p.rate_, h.frame.size()));
  const uint64_t last_bit = h.at_ps + ps_of(p.rate_.time_for_bytes(hw::kPreambleBytes + hw::kSfdBytes + h.frame.size()));
  q_.at_ps<&EthSwitch::tx_done>(last_bit, this, arg(p.index, h.serial));
}

void EthSwitch::tx_done(uint64_t a) {
  Port& p = *ports_[a & 0xFF];
  if (p.queue.empty() || p.queue.front().serial != a >> 8) return;  // lost when the port went down
  Held h = p.queue.take_front();
  p.queue_bytes -= h.frame.size();
  h.at_ps = q_.now_ps() + ps_of(cfg_.propagation);
  q_.at_ps<&EthSwitch::deliver>(h.at_ps, this, arg(p.index, h.serial));
  p.cable.push_back(std::move(h));
  if (!p.queue.empty()) start_next(p);
}

void EthSwitch::deliver(uint64_t a) {
  Port& p = *ports_[a & 0xFF];
  if (p.cable.empty() || p.cable.front().serial != a >> 8) return;  // lost when the port went down
  model::Frame f = p.cable.take_front().frame;
  ++p.stats.tx_frames;
  p.stats.tx_bytes += f.size();
  if (p.pcap.is_open()) p.pcap.write(q_.now_ps(), f.bytes());
  if (p.ep != nullptr) p.ep->eth_receive(std::move(f));
}

void EthSwitch::set_port_up(unsigned port, bool up) {
  Port& p = *ports_.at(port);
  if (up == p.up_) return;
  p.up_ = up;
  if (!up) {
    p.stats.rx_dropped_link_down += p.rx.size();
    for (std::size_t i = 0; i < p.rx.size(); ++i) lost(p.rx[i].frame, model::HostDrop::SwitchLinkDown);
    p.stats.tx_dropped_link_down += p.queue.size() + p.cable.size();
    for (std::size_t i = 0; i < p.queue.size(); ++i) lost(p.queue[i].frame, model::HostDrop::SwitchLinkDown);
    for (std::size_t i = 0; i < p.cable.size(); ++i) lost(p.cable[i].frame, model::HostDrop::SwitchLinkDown);
    p.rx.clear();  // the buffers go back to their pools now
    p.queue.clear();
    p.cable.clear();
    p.queue_bytes = 0;
    p.free_at_ps = 0;
    p.last_in_ps = 0;
    // br_fdb_delete_by_port: a disabled port's addresses are forgotten.
    std::erase_if(table_, [&](const auto& e) { return e.second.port == port; });
  }
  q_.after<&EthSwitch::notify>(sc_core::SC_ZERO_TIME, this, arg(port, up ? 1 : 0));
}

void EthSwitch::notify(uint64_t a) {
  Port& p = *ports_[a & 0xFF];
  if (p.ep != nullptr) p.ep->eth_link_changed((a >> 8) != 0, p.rate_);
}

void EthSwitch::schedule_port_change(unsigned p, const sc_core::sc_time& at, bool up) {
  q_.at<&EthSwitch::change_event>(at, this, arg(p, up ? 1 : 0));
}

void EthSwitch::change_event(uint64_t a) { set_port_up(static_cast<unsigned>(a & 0xFF), (a >> 8) != 0); }

void EthSwitch::lost(const model::Frame& f, model::HostDrop why) {
  if (trace_ == nullptr || f.id == 0) return;
  const uint64_t t = q_.now_ps();
  trace_->trace(name(), model::TraceEvent{t, t, model::TraceKind::RxDrop, model::kNoStep, 0,
                                          static_cast<uint32_t>(f.size()), model::host_drop(why), f.id});
}

std::vector<EthSwitch::FdbEntry> EthSwitch::fdb(uint64_t now_ps) const {
  std::vector<FdbEntry> v;
  for (const auto& [k, e] : table_) {
    const uint64_t age = now_ps - std::min(now_ps, e.seen_ps);
    if (age < ps_of(cfg_.ageing)) v.push_back(FdbEntry{key_mac(k), e.port, age});
  }
  std::sort(v.begin(), v.end(), [](const FdbEntry& x, const FdbEntry& y) {
    return x.port != y.port ? x.port < y.port : x.mac < y.mac;
  });
  return v;
}

int EthSwitch::lookup(const model::MacAddr& mac, uint64_t now_ps) const {
  const auto it = table_.find(mac_key(mac.b.data()));
  if (it == table_.end() || now_ps - std::min(now_ps, it->second.seen_ps) >= ps_of(cfg_.ageing)) return -1;
  return static_cast<int>(it->second.port);
}

}  // namespace vnic::tb
