// The LibTorch this program was compiled against, for `--version`
// (api/version.h). Torch-free header; defined in model.cpp.
#pragma once

#include <string_view>

namespace baton::learning {

// E.g. "1.13.0" (torch/version.h's TORCH_VERSION).
std::string_view libtorch_version();

}  // namespace baton::learning
