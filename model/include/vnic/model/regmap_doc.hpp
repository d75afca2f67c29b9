// Renders the register table as Markdown (docs/regmap.md is this function's output).
#pragma once

#include <string>

namespace vnic::model::regs {

std::string regmap_markdown();

}  // namespace vnic::model::regs
