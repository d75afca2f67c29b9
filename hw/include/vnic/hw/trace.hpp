// Typed trace events of the NIC: one enum and one struct, handed to a sink only when one is
// installed (a single predictable branch otherwise). testbench/ writes them as Chrome/Perfetto
// JSON; a frame's id follows it across the wire, so one frame's journey can be read end to end.
#pragma once

#include <cstdint>

namespace vnic::hw {

enum class TraceKind : uint8_t {
  TxLaunch,     // a frame's descriptors are checked and its data fetch issued (a: length)
  TxWire,       // the frame is on the wire from t_ps to t_end_ps
  TxDropped,    // a malformed descriptor chain was dropped (a: descriptors)
  TxDone,       // its write-back landed in host memory (t_ps)
  RxArrive,     // a frame's last bit arrived (a: length)
  RxDrop,       // dropped; b: the index of the counter it was counted in (regs::Stat)
  RxDeliver,    // data and write-back issued; t_end_ps: the write-back lands (a: length)
  Irq,          // an interrupt message was sent (a: vector)
  DmaError,     // a DMA transfer was refused (b: the address)
};

struct TraceEvent {
  uint64_t t_ps = 0;
  uint64_t t_end_ps = 0;  // for events with a duration, else == t_ps
  TraceKind kind{};
  uint8_t qp = 0;
  uint32_t a = 0;
  uint64_t b = 0;
  uint64_t frame_id = 0;  // 0: no frame
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // `source` is the NIC instance's name.
  virtual void trace(const char* source, const TraceEvent& e) = 0;
};

}  // namespace vnic::hw
