// Dataset: encoded, model-ready rows. The boundary between the data side of
// learning/ (CSV, preprocessing, splits: torch-free) and the model side
// (LibTorch, inside .cpp files only). Everything here is plain C++.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "chain/crypto.h"

namespace baton::learning {

// Encoded, model-ready data: every row already imputed, one-hot encoded and
// standardised with statistics fitted on the TRAINING rows only (see
// preprocess.h), or for images, pixels scaled to [0, 1].
//
// Invariants (checked by valid(); producers in learning/ guarantee them):
//   x.size() == rows * features, y.size() == rows,
//   0 <= y[i] < num_classes, num_classes >= 2,
//   feature_names.size() == features (may be empty for images),
//   class_names.size() == num_classes,
//   image_shape empty, or its product == features.
struct Dataset {
  std::vector<float> x;  // row-major, rows × features
  std::vector<int> y;    // class index per row; binary: 1 = positive class
  std::size_t rows = 0;
  std::size_t features = 0;
  int num_classes = 2;
  std::vector<int> image_shape;  // empty for tabular; {1, 28, 28} for breastmnist
  std::vector<std::string> feature_names;
  std::vector<std::string> class_names;  // class_names[k] names class index k

  // The listed rows, in the given order (an index may repeat). Everything but
  // x, y and rows is copied unchanged.
  // Precondition: every index < rows (a bug otherwise: aborts).
  Dataset subset(std::span<const std::size_t> row_indices) const;

  // Features of row i. Precondition: i < rows.
  std::span<const float> row(std::size_t i) const;

  // Number of rows of each class (size num_classes).
  std::vector<std::size_t> class_counts() const;

  // True when the invariants above hold.
  bool valid() const;
};

// A data set ready for an experiment: the training rows (the partners of the
// paper's scenarios are drawn from these), an optional validation part, and
// the common held-out test set. All three are encoded with one preprocessor
// fitted on `train` alone, so they have the same features in the same order.
struct PreparedData {
  std::string name;  // "lung1", "breast_cancer", … or the CSV's file name
  Dataset train;
  Dataset validation;  // rows == 0 except for breastmnist's official split
  Dataset test;
  std::string positive_class;      // binary: what label 1 means; empty for multi-class
  std::vector<std::string> notes;  // how the data was derived (for reports)
  // The fitted feature schema (Preprocessor::to_json, see preprocess.h) that
  // encoded these rows, so that other data can be encoded the same way;
  // empty for images.
  std::string feature_schema;
};

// SHA-256 of the rows a partner trains on (the reproducibility record's
// train_rows_sha256, issue 16, docs/PROTOCOL.md §18.1), over
//   u64be rows || u64be features || x as IEEE-754 binary32 little-endian,
//   row-major (rows × features values) || y as int32 little-endian (rows)
// in the dataset's row order (the order training shuffles from). The same
// function at the save and at `baton models replay`.
chain::Hash training_rows_sha256(const Dataset& data);

}  // namespace baton::learning
