// TraceWriter implementation: each event becomes one JSON object (nlohmann::json) or one text line.
#include "vnic/tb/trace_writer.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace vnic::tb {

namespace {

using model::TraceKind;

// Picoseconds as microseconds with 6 decimals (exact, no floating point): Chrome's unit.
std::string us(uint64_t ps) { return fmt::format("{}.{:06}", ps / 1000'000u, ps % 1000'000u); }
// The same as a JSON number written exactly (nlohmann would print a double).
nlohmann::json us_json(uint64_t ps) { return nlohmann::json::parse(us(ps)); }

bool is_tx_kind(TraceKind k) {
  switch (k) {
    case TraceKind::TxLaunch:
    case TraceKind::TxWire:
    case TraceKind::TxDropped:
    case TraceKind::TxDone:
      return true;
    default:
      return false;
  }
}

bool is_nic_source(const model::TraceEvent& e) {
  switch (e.kind) {
    case TraceKind::TxLaunch:
    case TraceKind::TxWire:
    case TraceKind::TxDone:
    case TraceKind::RxArrive:
    case TraceKind::RxAccept:
    case TraceKind::RxDma:
    case TraceKind::RxComplete:
    case TraceKind::Irq:
    case TraceKind::DmaError:
    case TraceKind::RingLevel:
      return true;
    case TraceKind::RxDrop:
    case TraceKind::TxDropped:
      return (e.b & model::kHostDropBit) == 0;  // the NIC's counters are regs::Stat indexes
    default:
      return false;
  }
}

// The track an event goes on: a NIC's queue direction or vector, a host's CPU.
std::string track(const model::TraceEvent& e) {
  if (e.kind == TraceKind::Irq) return fmt::format("irq{}", e.lane);
  if (e.kind == TraceKind::RingLevel) return fmt::format("qp{}.{}", e.lane, e.b != 0 ? "tx" : "rx");
  if (e.kind == TraceKind::TcpCwnd) return fmt::format(":{}", e.lane);  // the socket's local port
  if (is_nic_source(e)) return fmt::format("qp{}.{}", e.lane, is_tx_kind(e.kind) ? "tx" : "rx");
  return fmt::format("cpu{}", e.lane);
}

// Named arguments: what a and b mean for each kind.
nlohmann::json args(const model::TraceEvent& e) {
  nlohmann::json j;
  if (e.packet != 0) j["packet"] = e.packet;
  j["step"] = std::string(model::step_name(e.step));
  switch (e.kind) {
    case TraceKind::PacketMade: j["bytes"] = e.a; j["seq"] = e.b; break;
    case TraceKind::TxMap: j["bytes"] = e.a; j["bus_addr"] = fmt::format("{:#x}", e.b); break;
    case TraceKind::TxRing: j["bytes"] = e.a; j["slot"] = e.b; break;
    case TraceKind::TxDoorbell: j["tail"] = e.a; break;
    case TraceKind::TxLaunch: j["bytes"] = e.a; j["ready_us"] = us_json(e.t_end_ps); break;
    case TraceKind::TxWire: j["bytes"] = e.a; break;
    case TraceKind::TxDropped:
    case TraceKind::RxDrop:
      j["n"] = e.a;
      j["counter"] = std::string(model::drop_counter_name(e.b));
      break;
    case TraceKind::TxDone: j["descriptors"] = e.a; break;
    case TraceKind::TxClean: j["bytes"] = e.a; j["errors"] = e.b; break;
    case TraceKind::RxArrive:
    case TraceKind::RxAccept:
    case TraceKind::SkbAlloc:
    case TraceKind::ReceiveSkb:
    case TraceKind::Consumed:
      j["bytes"] = e.a;
      break;
    case TraceKind::RxDma: j["bytes"] = e.a; j["descriptor"] = e.b; j["lands_us"] = us_json(e.t_end_ps); break;
    case TraceKind::RxComplete:
    case TraceKind::RxPoll:
      j["bytes"] = e.a;
      j["descriptor"] = e.b;
      break;
    case TraceKind::EthTypeTrans: j["protocol"] = fmt::format("{:#06x}", e.a); break;
    case TraceKind::NetifRx: j["backlog"] = e.a; break;
    case TraceKind::Irq: j["vector"] = e.lane; j["address"] = fmt::format("{:#x}", e.b); break;
    case TraceKind::HardIrq:
    case TraceKind::NapiSchedule:
    case TraceKind::IrqEnable:
      j["vector"] = e.a;
      break;
    case TraceKind::NapiPoll: j["work"] = e.a; j["budget"] = e.b; break;
    case TraceKind::DmaError: j["cause"] = e.a; j["address"] = fmt::format("{:#x}", e.b); break;
    case TraceKind::RingLevel: j["descriptors"] = e.a; break;
    case TraceKind::BacklogLevel: j["backlog"] = e.a; break;
    case TraceKind::TxTimeout: j["stalled_ms"] = e.b; break;
    case TraceKind::QdiscDequeue: j["sojourn_us"] = static_cast<double>(e.a) / 1000.0; j["qlen"] = e.b; break;
    case TraceKind::NfHook: j["hook"] = e.a; j["rule"] = e.b; break;
    case TraceKind::IpForward: j["ttl"] = e.a; j["oif"] = e.b; break;
    case TraceKind::IpFragment: j["offset"] = e.a; j["bytes"] = e.b; break;
    case TraceKind::IpDefrag: j["offset"] = e.a; j["ip_id"] = e.b; break;
    case TraceKind::IpReasm: j["bytes"] = e.a; j["fragments"] = e.b; break;
    case TraceKind::TcpRetransmit: j["seq"] = e.a; j["original"] = fmt::format("{:#x}", e.b); break;
    case TraceKind::TcpInput: j["state"] = e.a; j["seq"] = e.b; break;
    case TraceKind::GsoSegment: j["index"] = e.a; j["gso"] = fmt::format("{:#x}", e.b); break;
    case TraceKind::GroMerge: j["bytes"] = e.a; j["gro"] = fmt::format("{:#x}", e.b); break;
    case TraceKind::GroFlush: j["segments"] = e.a; j["bytes"] = e.b; break;
    case TraceKind::EcnMark: j["sojourn_us"] = static_cast<double>(e.a) / 1000.0; break;
    case TraceKind::TcpCwnd:
      j["cwnd"] = e.a;
      j["ssthresh"] = e.b >> 32;
      j["srtt_us"] = e.b & 0xFFFFFFFFu;
      break;
    case TraceKind::LinkReorder: j["behind"] = e.a; break;
    case TraceKind::LinkDuplicate: j["bytes"] = e.a; j["original"] = fmt::format("{:#x}", e.b); break;
    default:
      if (e.a != 0) j["a"] = e.a;
      if (e.b != 0) j["b"] = e.b;
      break;
  }
  return j;
}

}  // namespace

TraceWriter::~TraceWriter() { close(); }

bool TraceWriter::open(const std::string& path, uint64_t max_events, std::string* error) {
  close();
  f_ = std::fopen(path.c_str(), "w");
  if (f_ == nullptr) {
    if (error) *error = fmt::format("trace: cannot open '{}' for writing", path);
    return false;
  }
  json_ = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  max_ = max_events;
  written_ = dropped_ = 0;
  first_ = true;
  pids_.clear();
  irq_windows_.clear();
  if (json_) std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f_);
  return true;
}

void TraceWriter::put(const std::string& line) {
  if (json_ && !first_) std::fputc(',', f_);
  first_ = false;
  std::fputs(line.c_str(), f_);
  std::fputc('\n', f_);
}

int TraceWriter::pid_of(const char* source) {
  const auto [it, fresh] = pids_.emplace(source, static_cast<int>(pids_.size()) + 1);
  if (fresh && json_) {
    put(nlohmann::json{{"name", "process_name"}, {"ph", "M"}, {"pid", it->second}, {"args", {{"name", source}}}}.dump());
  }
  return it->second;
}

void TraceWriter::irq_rate(int pid, const model::TraceEvent& e) {
  // Interrupts per second per vector, one counter sample per 100 us window that had any.
  const uint64_t w = e.t_ps / kRateWindowPs;
  auto& [win, n] = irq_windows_[{pid, e.lane}];
  if (n > 0 && w != win) {
    put(nlohmann::json{{"name", fmt::format("irq/s vec{}", e.lane)},
                       {"ph", "C"},
                       {"ts", us_json(win * kRateWindowPs)},
                       {"pid", pid},
                       {"args", {{"rate", n * (1000'000'000'000ull / kRateWindowPs)}}}}
            .dump());
    n = 0;
  }
  win = w;
  ++n;
}

bool TraceWriter::set_kinds(const std::vector<std::string>& names, std::string* error) {
  kinds_.clear();
  if (names.empty()) return true;
  std::vector<bool> k(static_cast<std::size_t>(TraceKind::kCount), false);
  for (const std::string& n : names) {
    bool found = false;
    for (unsigned i = 0; i < k.size(); ++i) {
      if (model::trace_kind_name(static_cast<TraceKind>(i)) == n) {
        k[i] = true;
        found = true;
      }
    }
    if (!found) {
      if (error) *error = fmt::format("--trace-kinds: '{}' is no event kind (vnic steps lists the steps; docs/journey.md the kinds)", n);
      return false;
    }
  }
  kinds_ = std::move(k);
  return true;
}

void TraceWriter::trace(const char* source, const model::TraceEvent& e) {
  if (f_ == nullptr) return;
  if (!kinds_.empty() && !kinds_[static_cast<std::size_t>(e.kind)]) return;
  if (written_ >= max_) {
    ++dropped_;
    return;
  }
  ++written_;
  const std::string_view name = model::trace_kind_name(e.kind);
  if (!json_) {
    std::string line = fmt::format("{:>16} us  {:<8} {:<6} {:<18} {:<10}", us(e.t_ps), source, track(e), name,
                                   model::step_name(e.step));
    if (e.packet != 0) line += fmt::format(" packet={}", e.packet);
    const nlohmann::json named = args(e);  // kept alive for the loop (items() is a view)
    for (const auto& [k, v] : named.items()) {
      if (k == "packet" || k == "step") continue;
      line += fmt::format(" {}={}", k, v.is_string() ? v.get<std::string>() : v.dump());
    }
    std::fputs(line.c_str(), f_);
    std::fputc('\n', f_);
    return;
  }
  const int pid = pid_of(source);
  if (e.kind == TraceKind::RingLevel || e.kind == TraceKind::BacklogLevel) {
    const std::string counter = e.kind == TraceKind::RingLevel
                                    ? fmt::format("ring qp{}.{}", e.lane, e.b != 0 ? "tx" : "rx")
                                    : fmt::format("backlog cpu{}", e.lane);
    put(nlohmann::json{{"name", counter}, {"ph", "C"}, {"ts", us_json(e.t_ps)}, {"pid", pid}, {"args", {{"n", e.a}}}}
            .dump());
    return;
  }
  if (e.kind == TraceKind::TcpCwnd) {  // a counter track per socket: "cwnd :5201" (its local port)
    put(nlohmann::json{{"name", fmt::format("cwnd :{}", e.lane)}, {"ph", "C"}, {"ts", us_json(e.t_ps)}, {"pid", pid},
                       {"args", {{"cwnd", e.a}}}}
            .dump());
    return;
  }
  if (e.kind == TraceKind::Irq) irq_rate(pid, e);
  nlohmann::json j{{"name", std::string(name)}, {"cat", std::string(model::step_name(e.step))}, {"ts", us_json(e.t_ps)}, {"pid", pid},
                   {"tid", track(e)}, {"args", args(e)}};
  if (e.t_end_ps > e.t_ps && e.kind != TraceKind::TxLaunch && e.kind != TraceKind::RxDma) {
    j["ph"] = "X";
    j["dur"] = us_json(e.t_end_ps - e.t_ps);
  } else if (e.packet != 0) {
    j["ph"] = "X";  // a flow binds to slices: a packet's step is a 1 ns slice
    j["dur"] = us_json(1000);
  } else {
    j["ph"] = "i";
    j["s"] = "t";
  }
  if (e.packet != 0) {  // flow events (Perfetto's v2): one flow per packet id, through its slices
    j["bind_id"] = fmt::format("{:#x}", e.packet);
    j["flow_in"] = true;
    j["flow_out"] = true;
  }
  put(j.dump());
}

void TraceWriter::close() {
  if (f_ == nullptr) return;
  if (json_) {
    std::fputs(fmt::format("],\"otherData\":{{\"events\":{},\"dropped_over_limit\":{}}}}}\n", written_, dropped_).c_str(),
               f_);
  }
  std::fclose(f_);
  f_ = nullptr;
}

}  // namespace vnic::tb
