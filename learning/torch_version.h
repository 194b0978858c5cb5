// The LibTorch this program was compiled against, for `--version`
// (api/version.h). Torch-free header; defined in model.cpp.
#pragma once

#include <string_view>

namespace baton::learning {

// E.g. "1.13.0" (torch/version.h's TORCH_VERSION).
std::string_view libtorch_version();

// How many CUDA devices this LibTorch can use: 0 when it was built without
// CUDA (Debian's libtorch-dev) or no GPU is present (torch::cuda::is_available
// false). For [training] device = "cuda:N" (issue 16).
int cuda_device_count();

}  // namespace baton::learning
