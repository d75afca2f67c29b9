// The kernel side's trace events are the model's one vocabulary
// (model/include/vnic/model/trace.hpp), next to the NIC's, written by the platform's writer.
#pragma once

#include "vnic/model/trace.hpp"

namespace vnic::stack {

using model::TraceEvent;
using model::TraceKind;
using model::TraceSink;

}  // namespace vnic::stack
