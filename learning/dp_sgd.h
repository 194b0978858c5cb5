// DP-SGD (Abadi et al. 2016; docs/PROTOCOL.md §20.3): the training loop
// train() runs when TrainSettings::dp_sgd is set, and the per-sample
// gradients it clips. Torch-free header; the code is learning/dp_sgd.cpp.
//
// Per-sample gradients come two ways:
//  - traced (MLP, 2D CNN): one batched forward that records each layer's
//    input a and output z, one backward of the summed loss to every z, then
//    per row i: a Linear layer's weight gradient is dz_i ⊗ a_i, whose squared
//    norm is |dz_i|² |a_i|² (never materialised; the clipped sum is one
//    matrix product (f ∘ dz)ᵀ a); a Conv2d's is dz_i · unfold(a_i)ᵀ, the
//    correlation of a_i with dz_i, materialised (a few thousand values per
//    row) by one grouped convolution over the batch (Rochette et al. 2019).
//    The cost is about one ordinary step plus that convolution (Opacus's
//    method; Goodfellow 2015); BENCHMARKS.md measures 1.3x (MLP) and 1.6x
//    (CNN) the plain epoch.
//  - loop (3D ResNet-18, and the reference in tests): one forward and
//    backward per row, each gradient clipped and added as it comes. Slow
//    (a volume's batch of one runs off oneDNN's fast path) but exact for any
//    network whose rows do not interact, which is why the ResNet needs group
//    norm under DP (model_spec.h, Normalization).
#pragma once

#include <vector>

#include "chain/result.h"
#include "learning/dataset.h"
#include "learning/model.h"
#include "learning/train.h"

namespace baton::learning {

enum class PerSampleMethod { traced, loop };

// True for the architectures with a traced forward (mlp, cnn2d).
bool has_traced_gradients(const ModelSpec& spec);

// The DP-SGD loop of train(): settings.epochs epochs of
// chain::dp_steps_per_epoch(q) steps. Each step takes each row with
// probability q = sampling_rate_nano / 10^9 (an exact integer draw,
// SplitMix64 from settings.seed), sums the rows' gradients each clipped to
// L2 norm `clip` over all parameters, adds N(0, (σ·clip)²) to every value
// (a LibTorch CPU generator seeded from settings.seed), divides by q × rows
// and steps the optimizer; a step with no row still adds noise and steps.
// With class weighting, each row's loss is weighted before clipping. Pre:
// train()'s checks passed (settings valid with dp_sgd set, data matching the
// model, at least one row, no batch norm) and LibTorch is initialised.
Result<TrainReport> train_dp_sgd(Model& model, const Dataset& data, const TrainSettings& settings);

// For tests: each row's gradient of its (optionally class-weighted) loss,
// flattened over the parameters in the model's order. `traced` needs
// has_traced_gradients(spec). The model is not changed.
Result<std::vector<std::vector<float>>> per_sample_gradients(Model& model, const Dataset& data,
                                                             bool class_weighting,
                                                             PerSampleMethod method);

// For tests: the sum over the rows of each row's gradient clipped to L2 norm
// `clip` (no noise), flattened as above: what one DP-SGD step adds before
// the noise.
Result<std::vector<float>> clipped_gradient_sum(Model& model, const Dataset& data, double clip,
                                                bool class_weighting, PerSampleMethod method);

}  // namespace baton::learning
