// The NIC's trace events are the model's one vocabulary (model/include/vnic/model/trace.hpp):
// handed to a sink only when one is installed (a single predictable branch otherwise), each
// tagged with its step of the reference flow and with the packet's id.
#pragma once

#include "vnic/model/trace.hpp"

namespace vnic::hw {

using model::TraceEvent;
using model::TraceKind;
using model::TraceSink;

}  // namespace vnic::hw
