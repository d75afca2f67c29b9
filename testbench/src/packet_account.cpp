// PacketAccount implementation.
#include "vnic/tb/packet_account.hpp"

#include <fmt/format.h>

#include "vnic/stack/skb.hpp"

namespace vnic::tb {

using model::TraceKind;

namespace {
// What a Drop event names: Linux's drop reason, and the host counter that counted it, if any.
std::string drop_name(const model::TraceEvent& e) {
  std::string s(stack::drop_reason_name(static_cast<stack::SkbDropReason>(e.a)));
  if (e.b != 0) s += fmt::format(" ({})", model::drop_counter_name(e.b));
  return s;
}
}  // namespace

void PacketAccount::trace(const char* source, const model::TraceEvent& e) {
  if (e.packet != 0) {
    switch (e.kind) {
      case TraceKind::Consumed: {
        const bool app = e.b == model::kConsumedByApplication || e.step == model::ingress(24);
        end(e.packet, app ? End::Delivered : End::Consumed, {});
        break;
      }
      case TraceKind::Drop:
        end(e.packet, End::Dropped, drop_name(e));
        break;
      case TraceKind::RxDrop:
      case TraceKind::TxDropped:
        end(e.packet, End::Dropped, std::string(model::drop_counter_name(e.b)));
        break;
      case TraceKind::TxDone:
      case TraceKind::TxClean:
        // The sender's completion branch: its copy freed after the frame left, which may come
        // after the packet's end at the receiver; not a step of the packet's way.
        packets_.try_emplace(e.packet);
        break;
      default: {
        auto [it, fresh] = packets_.try_emplace(e.packet);
        if (!fresh && it->second.end != End::None) {
          ++after_end_;
          error(e.packet);
        }
        break;
      }
    }
  }
  if (next_ != nullptr) next_->trace(source, e);
}

void PacketAccount::end(uint64_t id, End how, std::string counter) {
  Entry& p = packets_[id];
  if (p.end != End::None) {
    ++ended_twice_;
    error(id);
    return;
  }
  p.end = how;
  p.counter = std::move(counter);
}

void PacketAccount::error(uint64_t id) {
  if (errors_.size() < 20) errors_.push_back(id);
}

PacketAccount::Totals PacketAccount::totals() const {
  Totals t;
  t.made = packets_.size();
  for (const auto& [id, p] : packets_) {
    switch (p.end) {
      case End::None: ++t.in_flight; break;
      case End::Delivered: ++t.delivered; break;
      case End::Consumed: ++t.consumed; break;
      case End::Dropped:
        ++t.dropped;
        ++t.by_counter[p.counter];
        break;
    }
  }
  t.ended_twice = ended_twice_;
  t.after_end = after_end_;
  t.errors = errors_;
  return t;
}

bool PacketAccount::exact() const { return ended_twice_ == 0 && after_end_ == 0; }

bool PacketAccount::complete() const { return exact() && totals().in_flight == 0; }

std::string PacketAccount::report() const {
  const Totals t = totals();
  std::string s = fmt::format(
      "packets made: {}\n  delivered to an application: {}\n  consumed by the stack: {}\n  dropped: {}\n", t.made,
      t.delivered, t.consumed, t.dropped);
  for (const auto& [name, n] : t.by_counter) s += fmt::format("    {}: {}\n", name, n);
  s += fmt::format("  in flight at the end: {}\n", t.in_flight);
  if (t.ended_twice != 0 || t.after_end != 0) {
    s += fmt::format("  ERRORS: {} ended twice, {} with an event after their end (ids:", t.ended_twice, t.after_end);
    for (uint64_t id : t.errors) s += fmt::format(" {:#x}", id);
    s += ")\n";
  }
  return s;
}

}  // namespace vnic::tb
