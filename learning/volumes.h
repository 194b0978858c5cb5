// Image volumes for the image models (cnn2d, resnet3d): NumPy .npy files and
// the CSV manifests that list them with their labels. Torch-free.
//
// A volume is a .npy file, format version 1.0, dtype '<f4' (little-endian
// float32), C order, whose shape is the model spec's input_shape, e.g.
// (1, 16, 120, 160) for the paper's 3D ResNet-18 or (1, 28, 28) for cnn2d.
// File layout (numpy's NEP 1):
//   "\x93NUMPY"  6 bytes magic
//   u8 1, u8 0   format version 1.0
//   u16 HLEN     little-endian length of the header text
//   HLEN bytes   a Python dict literal, e.g.
//                {'descr': '<f4', 'fortran_order': False, 'shape': (1, 8, 16, 16), }
//                padded with spaces and ended by '\n'
//   the values   float32 little-endian, C order, exactly prod(shape) of them
//
// A manifest is a CSV file with a header row: one column holds the volume
// paths (relative to the manifest's own directory, or absolute), another the
// label. Readers never trust the bytes: every malformed file gives an error
// sentence that names it; nothing aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "learning/dataset.h"

namespace baton::learning {

// The longest header text (HLEN) a reader accepts. numpy writes ~120 bytes.
inline constexpr std::size_t kMaxNpyHeaderBytes = 4096;
// The most values one volume may hold: 2^26 float32 values, 256 MiB (the
// paper's 1×16×120×160 volume holds 307,200).
inline constexpr std::size_t kMaxVolumeValues = std::size_t{1} << 26;

// The bytes before the values of a '<f4' C-order array of `shape`: magic,
// version 1.0, HLEN and the header dict as numpy 1.x writes it (keys in the
// order descr, fortran_order, shape; padded with spaces so that the values
// start at a multiple of 64 bytes; ended by '\n').
// Precondition: shape non-empty, every dimension >= 1.
std::string npy_preamble(std::span<const int> shape);

// Writes `values` as a .npy file (npy_preamble + the values little-endian),
// through a temporary file in the same directory renamed into place.
// Precondition: values.size() == product of shape, every dimension >= 1.
// Error: the file cannot be written.
Status write_npy(const std::filesystem::path& file, std::span<const int> shape,
                 std::span<const float> values);

// What a .npy preamble says.
struct NpyHeader {
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;  // 10 + HLEN: where the values start
  std::size_t values = 0;       // product of shape
};

// Parses the preamble at the start of `bytes` (which may go on past it).
// Accepts only: the magic, version 1.0, HLEN <= kMaxNpyHeaderBytes, a dict
// with exactly the keys 'descr' ('<f4'), 'fortran_order' (False) and 'shape'
// (a tuple of 1 to 8 integers, each >= 1, whose product is at most
// kMaxVolumeValues), in any order, with numpy's literal syntax. `source`
// names the input in error sentences.
Result<NpyHeader> parse_npy_header(std::string_view bytes, std::string_view source);

// Reads a volume of exactly `expected_shape` into `out` (size = its
// product), straight from the file. Error (naming the file): unreadable, a
// malformed preamble, another shape, a truncated file or bytes after the
// values.
Status read_npy_into(const std::filesystem::path& file, std::span<const int> expected_shape,
                     std::span<float> out);

// A whole .npy file of any shape the reader accepts.
struct NpyArray {
  std::vector<int> shape;
  std::vector<float> values;
};
Result<NpyArray> read_npy(const std::filesystem::path& file);

// How to read a manifest.
struct VolumeManifestSchema {
  std::string volume_column;   // cells: .npy paths, relative to the manifest's directory
  std::string label_column;    // cells: label text, none empty
  std::string positive_value;  // label == this -> class 1, any other value -> class 0
  std::vector<int> shape;      // every volume's shape: the model's input_shape
};

// Loads every row of a manifest (in file order) into a binary Dataset:
// x = the volumes' values, row-major (rows × product(shape)), read straight
// into place and used as stored (no rescaling); y = 1 where the label is
// positive_value; image_shape = shape; feature_names empty; class_names
// {the other label value, positive_value} when exactly one other value occurs,
// else {"not <positive_value>", positive_value}. The file may hold a single
// class.
// Error (naming the manifest, its line and the volume): an unreadable or
// malformed CSV, a missing column, an empty path or label, no rows, and every
// read_npy_into error.
Result<Dataset> load_volume_manifest(const std::filesystem::path& manifest,
                                     const VolumeManifestSchema& schema);

}  // namespace baton::learning
