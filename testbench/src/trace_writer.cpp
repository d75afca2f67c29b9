// TraceWriter implementation.
#include "vnic/tb/trace_writer.hpp"

#include <fmt/format.h>

#include "vnic/model/regs.hpp"

namespace vnic::tb {

const char* trace_kind_name(hw::TraceKind k) {
  switch (k) {
    case hw::TraceKind::TxLaunch: return "tx.launch";
    case hw::TraceKind::TxWire: return "tx.wire";
    case hw::TraceKind::TxDropped: return "tx.dropped";
    case hw::TraceKind::TxDone: return "tx.done";
    case hw::TraceKind::RxArrive: return "rx.arrive";
    case hw::TraceKind::RxDrop: return "rx.drop";
    case hw::TraceKind::RxDeliver: return "rx.deliver";
    case hw::TraceKind::Irq: return "irq";
    case hw::TraceKind::DmaError: return "dma.error";
  }
  return "?";
}

namespace {
// Picoseconds as microseconds with 6 decimals (exact, no floating point).
std::string us(uint64_t ps) { return fmt::format("{}.{:06}", ps / 1000'000u, ps % 1000'000u); }

std::string args(const hw::TraceEvent& e) {
  using K = hw::TraceKind;
  switch (e.kind) {
    case K::TxLaunch: return fmt::format("\"frame\":{},\"bytes\":{},\"ready_us\":{}", e.frame_id, e.a, us(e.t_end_ps));
    case K::TxWire: return fmt::format("\"frame\":{},\"bytes\":{}", e.frame_id, e.a);
    case K::TxDropped:
    case K::RxDrop:
      return fmt::format("\"frame\":{},\"n\":{},\"counter\":\"{}\"", e.frame_id, e.a,
                         model::regs::kStatInfo[e.b < model::regs::kNumStats ? e.b : 0].name);
    case K::TxDone: return fmt::format("\"frame\":{},\"descriptors\":{}", e.frame_id, e.a);
    case K::RxArrive: return fmt::format("\"frame\":{},\"bytes\":{}", e.frame_id, e.a);
    case K::RxDeliver:
      return fmt::format("\"frame\":{},\"bytes\":{},\"descriptor\":{},\"lands_us\":{}", e.frame_id, e.a, e.b,
                         us(e.t_end_ps));
    case K::Irq: return fmt::format("\"vector\":{},\"address\":\"{:#x}\"", e.a, e.b);
    case K::DmaError: return fmt::format("\"cause\":{},\"address\":\"{:#x}\"", e.a, e.b);
  }
  return {};
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
  pids_.clear();
  if (json_) std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f_);
  return true;
}

int TraceWriter::pid_of(const char* source) {
  const auto [it, fresh] = pids_.emplace(source, static_cast<int>(pids_.size()) + 1);
  if (fresh && json_) {
    std::fputs(fmt::format("{}{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{},\"args\":{{\"name\":\"{}\"}}}}\n",
                           written_ == 0 && pids_.size() == 1 ? "" : ",", it->second, source)
                   .c_str(),
               f_);
  }
  return it->second;
}

void TraceWriter::trace(const char* source, const hw::TraceEvent& e) {
  if (f_ == nullptr) return;
  if (written_ >= max_) {
    ++dropped_;
    return;
  }
  const char* name = trace_kind_name(e.kind);
  const int pid = pid_of(source);
  const bool tx = e.kind == hw::TraceKind::TxLaunch || e.kind == hw::TraceKind::TxWire ||
                  e.kind == hw::TraceKind::TxDropped || e.kind == hw::TraceKind::TxDone;
  if (json_) {
    const std::string tid = e.kind == hw::TraceKind::Irq ? fmt::format("\"irq{}\"", e.qp)
                                                         : fmt::format("\"qp{}.{}\"", e.qp, tx ? "tx" : "rx");
    if (e.t_end_ps > e.t_ps && e.kind == hw::TraceKind::TxWire) {
      std::fputs(fmt::format(",{{\"name\":\"{}\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{},\"tid\":{},\"args\":{{{}}}}}\n",
                             name, us(e.t_ps), us(e.t_end_ps - e.t_ps), pid, tid, args(e))
                     .c_str(),
                 f_);
    } else {
      std::fputs(fmt::format(",{{\"name\":\"{}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{},\"pid\":{},\"tid\":{},\"args\":{{{}}}}}\n",
                             name, us(e.t_ps), pid, tid, args(e))
                     .c_str(),
                 f_);
    }
  } else {
    std::fputs(fmt::format("{:>16} us  {:<8} qp{} {:<10} {}\n", us(e.t_ps), source, e.qp, name, args(e)).c_str(), f_);
  }
  ++written_;
}

void TraceWriter::host_trace(const char* source, const stack::HostTraceEvent& e) {
  if (f_ == nullptr) return;
  if (written_ >= max_) {
    ++dropped_;
    return;
  }
  const char* name = stack::host_trace_kind_name(e.kind);
  const uint64_t t = static_cast<uint64_t>(e.t_ps);
  const std::string args = fmt::format("\"a\":{},\"b\":{}", e.a, e.b);
  if (json_) {
    const int pid = pid_of(source);
    if (e.t_end_ps > e.t_ps) {
      std::fputs(fmt::format(",{{\"name\":\"{}\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":{},\"tid\":\"cpu{}\",\"args\":{{{}}}}}\n",
                             name, us(t), us(static_cast<uint64_t>(e.t_end_ps - e.t_ps)), pid, e.cpu, args)
                     .c_str(),
                 f_);
    } else {
      std::fputs(fmt::format(",{{\"name\":\"{}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{},\"pid\":{},\"tid\":\"cpu{}\",\"args\":{{{}}}}}\n",
                             name, us(t), pid, e.cpu, args)
                     .c_str(),
                 f_);
    }
  } else {
    std::fputs(fmt::format("{:>16} us  {:<8} cpu{} {:<10} a={} b={}\n", us(t), source, e.cpu, name, e.a, e.b).c_str(), f_);
  }
  ++written_;
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
