// Synthetic CT-like volumes with a learnable "nodule" signal, for running the
// paper's image models between real nodes without shipping patient scans
// (`baton data synth-volumes`). Torch-free.
//
// One volume of shape (C, D, H, W) (or (C, H, W) for 2D models):
//   - every voxel: independent Gaussian noise, mean 0, sd 1;
//   - a positive volume: plus one "nodule", a Gaussian blob added to every
//     channel, peak amplitude × U(0.8, 1.2), centred at U(0.2, 0.8) × (n − 1)
//     along each spatial axis of n voxels, with a standard deviation of
//     U(0.08, 0.16) × n voxels along that axis (at least 0.5);
//   - a negative volume: with probability 1/2 a "decoy" blob drawn the same
//     way but of peak amplitude × U(0.2, 0.4), else nothing; so a model must
//     judge a blob's strength, not merely find one.
// Value of voxel (c, z, y, x) = noise + a · g_z(z) · g_y(y) · g_x(x), with
// g_k(i) = exp(−((i − centre_k) / sd_k)² / 2).
//
// Random numbers (so that the files can be re-derived from the parameters):
//   - each volume has its own engine, make_engine(seed, stream, index)
//     (learning/splits.h: std::mt19937_64 through std::seed_seq), with stream
//     0 for the test set, 1 + 2p and 2 + 2p for hospital p's training and
//     validation volumes (p counted from 0 in the --hospitals order);
//   - a uniform u in (0, 1) is ((x >> 12) + 0.5) · 2^−52 of one 64-bit draw x;
//     U(a, b) = a + (b − a) · u;
//   - draws in this order: [negatives only] u < 0.5 decides the decoy; then,
//     when there is a blob, its amplitude factor, and per spatial axis (in
//     D, H, W order) its centre and its sd; then the noise, voxel by voxel in
//     C order, in pairs by Box–Muller: from u1, u2,
//     r = sqrt(−2 ln u1), n1 = r cos(2π u2), n2 = r sin(2π u2) (an odd count
//     drops the last n2);
//   - which volumes of a set are positive: round(count × positive_fraction)
//     of them (half up), placed by a Fisher–Yates shuffle (splits.h
//     shuffle_indices) of [1]*k + [0]*(count − k) with
//     make_engine(seed, stream, 0xFFFFFFFF).
// The arithmetic is IEEE double, rounded to float32 at the end; the values
// depend on the C library's log, sqrt, sin, cos and exp, which glibc computes
// identically on every x86-64 machine. synth.json's hashes tell whether two
// machines agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "chain/result.h"

namespace baton::learning {

struct SynthVolumeOptions {
  std::filesystem::path out;                // created; files in it are replaced
  std::vector<std::string> hospitals;       // directory names, unique
  std::size_t train = 0;                    // training volumes per hospital (>= 1)
  std::size_t validation = 0;               // validation volumes per hospital (>= 1)
  std::size_t test = 0;                     // held-out test volumes in all (>= 1)
  std::vector<int> shape{1, 16, 120, 160};  // (C, D, H, W) or (C, H, W)
  std::uint64_t seed = 1;
  double positive_fraction = 0.5;  // in (0, 1)
  double amplitude = 1.0;          // a positive nodule's peak, in noise sd (> 0)
};

// Checks the options; the error names the field.
Status validate(const SynthVolumeOptions& options);

// One volume (see the file comment), C order, product(shape) values.
// Precondition: shape of rank 3 or 4, every dimension >= 1.
std::vector<float> synth_volume(std::span<const int> shape, bool positive, double amplitude,
                                std::uint64_t seed, std::uint32_t stream, std::uint32_t index);

// The positive (1) / negative (0) label of each of `count` volumes of one set.
std::vector<int> synth_labels(std::size_t count, double positive_fraction, std::uint64_t seed,
                              std::uint32_t stream);

// Writes the whole layout (the same as `baton data split`'s):
//   OUT/NAME/train.csv, OUT/NAME/validation.csv   manifests "volume,label"
//   OUT/NAME/volumes/{train,validation}-NNNN.npy   that hospital's volumes
//   OUT/test.csv, OUT/volumes/test-NNNN.npy        the held-out test set
//   OUT/synth.json                                 parameters, counts and, per
//                                                  manifest, its SHA-256 and
//                                                  volumes_sha256 (below)
// Manifest paths are relative to the manifest's directory; labels are "0"/"1".
// volumes_sha256 is the SHA-256 of the text formed by each listed volume
// file's SHA-256 in lower-case hex followed by '\n', in manifest order (what
// `tail -n +2 M | cut -d, -f1 | xargs sha256sum | cut -c1-64 | sha256sum`
// prints, run in the manifest's directory).
// Deterministic: the same options give byte-identical files.
// Returns synth.json's text. Error: invalid options, a file that cannot be
// written.
Result<std::string> write_synthetic_volumes(const SynthVolumeOptions& options);

}  // namespace baton::learning
