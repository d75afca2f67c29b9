// Journey implementation: sampling, attaching per-interrupt steps, the latency breakdown.
#include "vnic/tb/journey.hpp"

#include "vnic/stack/skb.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace vnic::tb {

namespace {

using model::Step;
using model::TraceKind;

// The egress step a per-interrupt event stands for when it serves a TX completion.
Step completion_step(TraceKind k) {
  switch (k) {
    case TraceKind::Irq: return model::egress(17);
    case TraceKind::HardIrq: return model::egress(18);
    case TraceKind::NapiSchedule:
    case TraceKind::SoftirqRaise: return model::egress(19);
    case TraceKind::IrqEnable: return model::egress(14);
    case TraceKind::TxWake: return model::egress(13);
    default: return model::default_step(k);
  }
}

// After a per-interrupt step, the one that follows it on the same path.
TraceKind next_after(TraceKind k) {
  switch (k) {
    case TraceKind::Irq: return TraceKind::HardIrq;
    case TraceKind::HardIrq: return TraceKind::NapiSchedule;
    case TraceKind::NapiSchedule: return TraceKind::SoftirqRaise;
    default: return TraceKind::kCount;  // the chain of interrupt steps ends here
  }
}

std::string label(const JourneyStep& s) {
  const std::string_view step = s.kind == TraceKind::TxWire ? std::string_view("wire") : model::step_name(s.step);
  return fmt::format("{} {}", step, model::trace_kind_name(s.kind));
}

std::string us(uint64_t ps) { return fmt::format("{}.{:06}", ps / 1000'000u, ps % 1000'000u); }
std::string ns(uint64_t ps) { return fmt::format("{}.{:03}", ps / 1000u, ps % 1000u); }

// Nearest-rank percentile of sorted values.
uint64_t percentile(const std::vector<uint64_t>& v, unsigned p) {
  if (v.empty()) return 0;
  const std::size_t rank = (v.size() * p + 99) / 100;
  return v[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

std::string_view journey_context(TraceKind k) {
  switch (k) {
    case TraceKind::TxLaunch:
    case TraceKind::TxWire:
    case TraceKind::TxDone:
    case TraceKind::TxDropped:
    case TraceKind::RxArrive:
    case TraceKind::RxAccept:
    case TraceKind::RxDma:
    case TraceKind::RxComplete:
    case TraceKind::Irq:
      return "device";
    case TraceKind::HardIrq:
    case TraceKind::NapiSchedule:
    case TraceKind::SoftirqRaise:
      return "hardirq";
    case TraceKind::PacketMade:
    case TraceKind::TxMap:
    case TraceKind::TxRing:
    case TraceKind::SockSend:  // the system calls: the application's task (the IP steps a
    case TraceKind::SockWmem:  // sendmsg goes through also run there, but a forwarded packet's
    case TraceKind::L4Header:  // run in softirq: the kind alone cannot tell, they say softirq)
    case TraceKind::AppRecv:
      return "task";
    default:
      return "softirq";
  }
}

std::vector<const JourneyStep*> Journey::branch(Branch b) const {
  std::vector<const JourneyStep*> out;
  for (const JourneyStep& s : steps) {
    if (s.branch == b) out.push_back(&s);
  }
  std::stable_sort(out.begin(), out.end(), [](const JourneyStep* x, const JourneyStep* y) { return x->t_ps < y->t_ps; });
  return out;
}

bool JourneyRecorder::sampled(uint64_t packet) const {
  const uint64_t seq = packet & 0xFFFF'FFFFu;  // ids are a host's base + 1, 2, ...
  if (seq == 0 || cfg_.every == 0 || (seq - 1) % cfg_.every != 0) return false;
  if (cfg_.from_host.empty()) return true;
  // Port k's packets are k * 2^32 + 1, 2, ...; an IPv4 fragment's id carries its offset above
  // bit 48 (model::fragment_id): it follows its datagram's sampling and sender.
  const uint64_t prefix = model::datagram_of(packet) >> 32;
  if (const auto it = sender_of_.find(prefix); it != sender_of_.end()) return cfg_.from_host == it->second;
  return cfg_.from_host == (prefix == 0 ? "a" : prefix == 1 ? "b" : "");
}

std::string JourneyRecorder::host_of(const std::string& source) const {
  if (const auto it = host_of_.find(source); it != host_of_.end()) return it->second;
  if (source.rfind("nic_", 0) == 0) return "host_" + source.substr(4);
  return source;
}

void JourneyRecorder::add(Journey& j, const char* source, const model::TraceEvent& e, Branch b, Step step) {
  JourneyStep s;
  s.t_ps = e.t_ps;
  s.step = step;
  s.kind = e.kind;
  s.branch = b;
  s.source = source;
  s.lane = e.lane;
  if (e.kind == TraceKind::RxDrop || e.kind == TraceKind::TxDropped) s.drop = model::drop_counter_name(e.b);
  if (e.kind == TraceKind::Drop) {  // the stack's: Linux's drop reason, and a host counter if one counts it
    s.drop = stack::drop_reason_name(static_cast<stack::SkbDropReason>(e.a));
    if (e.b != 0) s.drop += fmt::format(" ({})", model::drop_counter_name(e.b));
  }
  j.steps.push_back(std::move(s));
}

void JourneyRecorder::trace(const char* source, const model::TraceEvent& e) {
  if (next_ != nullptr) next_->trace(source, e);
  if (e.packet == 0) {
    attach(source, e);
    return;
  }
  if (!sampled(e.packet) || e.kind == TraceKind::RingLevel) return;
  auto it = journeys_.find(e.packet);
  if (it == journeys_.end()) {
    if (journeys_.size() >= cfg_.max_packets) {
      ++dropped_journeys_;
      return;
    }
    it = journeys_.emplace(e.packet, Journey{}).first;
    it->second.packet = e.packet;
  }
  Journey& j = it->second;
  const bool completion = e.kind == TraceKind::TxDone || e.kind == TraceKind::TxClean;
  add(j, source, e, completion ? Branch::Completion : Branch::Forward, e.step);
  auto& here = waiting_[source];
  // The packet's own next step ends any wait for interrupt steps it no longer needs (NAPI was
  // already running and picked it up without a new interrupt).
  auto drop_waits = [&](Branch b) {
    for (auto& [src, list] : waiting_) {
      std::erase_if(list, [&](const Wait& w) {
        return w.packet == e.packet && w.branch == b && w.next != TraceKind::IrqEnable;
      });
    }
  };
  switch (e.kind) {
    case TraceKind::RxComplete: here.push_back(Wait{e.packet, Branch::Forward, TraceKind::Irq, e.t_ps}); break;
    case TraceKind::TxDone: here.push_back(Wait{e.packet, Branch::Completion, TraceKind::Irq, e.t_ps}); break;
    case TraceKind::RxPoll: drop_waits(Branch::Forward); break;
    case TraceKind::TxClean:
      drop_waits(Branch::Completion);
      here.push_back(Wait{e.packet, Branch::Completion, TraceKind::IrqEnable, e.t_ps});
      break;
    case TraceKind::Consumed: j.ended = true; break;
    case TraceKind::RxDrop:
    case TraceKind::TxDropped:
    case TraceKind::Drop:
      j.ended = true;
      j.dropped_at = j.steps.back().drop;
      drop_waits(Branch::Forward);
      break;
    default: break;
  }
}

void JourneyRecorder::attach(const char* source, const model::TraceEvent& e) {
  switch (e.kind) {
    case TraceKind::NapiSchedule:
    case TraceKind::SoftirqRaise:
      inside_irq_[source].push_back(e);  // attached when the hard IRQ that ran them is seen
      return;
    case TraceKind::Irq:
    case TraceKind::IrqEnable:
    case TraceKind::TxWake:
      advance(source, e);
      return;
    case TraceKind::HardIrq: {
      advance(source, e);
      // Then the steps the handler ran, in their order; the next handler starts afresh.
      std::vector<model::TraceEvent> inner = std::move(inside_irq_[source]);
      inside_irq_[source].clear();
      for (const model::TraceEvent& x : inner) {
        if (x.t_ps >= e.t_ps && x.t_ps <= e.t_end_ps && x.lane == e.lane) advance(source, x);
      }
      return;
    }
    default:
      return;
  }
}

void JourneyRecorder::advance(const char* source, const model::TraceEvent& e) {
  // Every packet waiting at `source` for this kind of step gets it, and waits for the next one
  // (the interrupt message's next step is on the host that takes it).
  const auto it = waiting_.find(source);
  if (it == waiting_.end() || it->second.empty()) return;
  const std::string onward = e.kind == TraceKind::Irq ? host_of(source) : std::string(source);
  std::vector<Wait> moved;
  std::erase_if(it->second, [&](Wait& w) {
    const bool wanted = w.next == e.kind || (e.kind == TraceKind::TxWake && w.next == TraceKind::IrqEnable);
    if (!wanted || e.t_ps < w.since_ps) return false;
    const auto jt = journeys_.find(w.packet);
    if (jt == journeys_.end()) return true;
    add(jt->second, source, e, w.branch, w.branch == Branch::Completion ? completion_step(e.kind) : model::default_step(e.kind));
    if (e.kind == TraceKind::TxWake) return false;  // still waits for the re-enable
    const TraceKind next = next_after(e.kind);
    if (next == TraceKind::kCount) return true;
    moved.push_back(Wait{w.packet, w.branch, next, e.t_ps});
    return true;
  });
  auto& dest = waiting_[onward];
  dest.insert(dest.end(), moved.begin(), moved.end());
}

std::vector<SegmentStats> JourneyRecorder::breakdown() const {
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> seg;
  for (const auto& [id, j] : journeys_) {
    if (!j.ended || !j.dropped_at.empty()) continue;
    const auto fwd = j.branch(Branch::Forward);
    if (fwd.size() < 2) continue;
    for (std::size_t k = 1; k < fwd.size(); ++k) {
      seg[{label(*fwd[k - 1]), label(*fwd[k])}].push_back(fwd[k]->t_ps - fwd[k - 1]->t_ps);
    }
    seg[{"end to end: " + label(*fwd.front()), label(*fwd.back())}].push_back(fwd.back()->t_ps - fwd.front()->t_ps);
  }
  std::vector<SegmentStats> out;
  for (auto& [key, v] : seg) {
    std::sort(v.begin(), v.end());
    SegmentStats s;
    s.from = key.first;
    s.to = key.second;
    s.count = v.size();
    s.p50_ps = percentile(v, 50);
    s.p99_ps = percentile(v, 99);
    s.max_ps = v.back();
    for (uint64_t x : v) s.total_ps += x;
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(), [](const SegmentStats& a, const SegmentStats& b) { return a.total_ps > b.total_ps; });
  return out;
}

std::string JourneyRecorder::format(const Journey& j) const {
  std::string out = fmt::format("packet {}{}\n", j.packet,
                                !j.ended ? " (journey not ended)" : j.dropped_at.empty() ? "" : " dropped: " + j.dropped_at);
  for (const Branch b : {Branch::Forward, Branch::Completion}) {
    const auto steps = j.branch(b);
    if (steps.empty()) continue;
    out += b == Branch::Forward ? "  forward chain\n" : "  completion branch (sender)\n";
    out += fmt::format("    {:<11}{:>16} {:>12}  {:<15}{:<8} {:<26} {}\n", "step", "t (us)", "+ns", "where", "context",
                       "function", "what");
    uint64_t prev = steps.front()->t_ps;
    for (const JourneyStep* s : steps) {
      const model::StepInfo* info = model::step_info(s->step);
      // Packets the stack makes (ARP, ICMP, sends) carry bit 31 in their ids (NetStack's
      // next_packet_id); pktgen's do not.
      const bool by_stack = (model::datagram_of(j.packet) & (uint64_t{1} << 31)) != 0;
      const std::string_view fn = info ? info->function
                                  : s->kind == TraceKind::PacketMade ? (by_stack ? "alloc_skb" : "pktgen")
                                  : s->kind == TraceKind::TxWire ? "Nic::tx_wire_end"
                                  : s->kind == TraceKind::Consumed ? "RxChecker::rx" : "";
      std::string what = info ? std::string(info->words) : std::string(model::trace_kind_name(s->kind));
      if (s->kind == TraceKind::TxWire) what = "on the wire (preamble to last bit)";
      if (s->kind == TraceKind::PacketMade) what = by_stack ? "the stack made the packet" : "pktgen made the packet";
      if (s->kind == TraceKind::Consumed) what = "consumed by the receiver";
      if (!s->drop.empty()) what = "dropped: " + s->drop;
      const std::string where = fmt::format("{} {}{}", s->source, journey_context(s->kind) == "device" ? "q" : "cpu", s->lane);
      out += fmt::format("    {:<11}{:>16} {:>12}  {:<15}{:<8} {:<26} {} [{}]\n",
                         s->kind == TraceKind::TxWire ? "wire" : model::step_name(s->step), us(s->t_ps),
                         ns(s->t_ps - prev), where, journey_context(s->kind), fn, what, model::trace_kind_name(s->kind));
      prev = s->t_ps;
    }
  }
  return out;
}

std::string JourneyRecorder::format_breakdown() const {
  const auto b = breakdown();
  std::string out = fmt::format("latency breakdown over {} sampled packets (forward chain, ns)\n",
                                b.empty() ? 0 : std::max_element(b.begin(), b.end(), [](const auto& x, const auto& y) {
                                                  return x.count < y.count;
                                                })->count);
  out += fmt::format("  {:<40} {:<34} {:>8} {:>12} {:>12} {:>12} {:>7}\n", "from", "to", "count", "p50", "p99", "max",
                     "share");
  uint64_t e2e = 0;
  for (const auto& s : b) {
    if (s.from.rfind("end to end", 0) == 0) e2e = s.total_ps;
  }
  for (const auto& s : b) {
    const bool total = s.from.rfind("end to end", 0) == 0;
    out += fmt::format("  {:<40} {:<34} {:>8} {:>12} {:>12} {:>12} {:>6.1f}%\n", s.from, s.to, s.count, ns(s.p50_ps),
                       ns(s.p99_ps), ns(s.max_ps),
                       total || e2e == 0 ? 100.0 : 100.0 * static_cast<double>(s.total_ps) / static_cast<double>(e2e));
  }
  if (dropped_journeys_ > 0) out += fmt::format("  ({} sampled packets over the limit were not kept)\n", dropped_journeys_);
  return out;
}

std::string JourneyRecorder::json() const {
  nlohmann::json j;
  j["journeys"] = nlohmann::json::array();
  for (const auto& [id, jr] : journeys_) {
    nlohmann::json steps = nlohmann::json::array();
    for (const JourneyStep& s : jr.steps) {
      const model::StepInfo* info = model::step_info(s.step);
      steps.push_back({{"t_ps", s.t_ps},
                       {"step", s.kind == TraceKind::TxWire ? "wire" : std::string(model::step_name(s.step))},
                       {"kind", std::string(model::trace_kind_name(s.kind))},
                       {"branch", s.branch == Branch::Forward ? "forward" : "completion"},
                       {"source", s.source},
                       {"lane", s.lane},
                       {"context", std::string(journey_context(s.kind))},
                       {"function", info ? std::string(info->function) : ""},
                       {"words", info ? std::string(info->words) : ""},
                       {"drop", s.drop}});
    }
    j["journeys"].push_back({{"packet", id}, {"ended", jr.ended}, {"dropped_at", jr.dropped_at}, {"steps", steps}});
  }
  j["breakdown"] = nlohmann::json::array();
  for (const auto& s : breakdown()) {
    j["breakdown"].push_back({{"from", s.from},
                              {"to", s.to},
                              {"count", s.count},
                              {"p50_ps", s.p50_ps},
                              {"p99_ps", s.p99_ps},
                              {"max_ps", s.max_ps},
                              {"total_ps", s.total_ps}});
  }
  return j.dump(1) + "\n";
}

}  // namespace vnic::tb
