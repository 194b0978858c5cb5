#include "learning/dataset.h"

#include <gtest/gtest.h>

namespace baton::learning {
namespace {

Dataset three_rows() {
  Dataset d;
  d.rows = 3;
  d.features = 2;
  d.x = {0, 1, 10, 11, 20, 21};
  d.y = {0, 1, 1};
  d.feature_names = {"a", "b"};
  d.class_names = {"no", "yes"};
  return d;
}

TEST(Dataset, SubsetKeepsRequestedRowsInOrder) {
  const Dataset d = three_rows();
  const std::vector<std::size_t> pick = {2, 0, 2};
  const Dataset s = d.subset(pick);
  EXPECT_EQ(s.rows, 3u);
  EXPECT_EQ(s.x, (std::vector<float>{20, 21, 0, 1, 20, 21}));
  EXPECT_EQ(s.y, (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(s.feature_names, d.feature_names);
  EXPECT_TRUE(s.valid());
}

TEST(Dataset, ClassCountsCountEachClass) {
  EXPECT_EQ(three_rows().class_counts(), (std::vector<std::size_t>{1, 2}));
}

TEST(Dataset, ValidRejectsLabelOutOfRangeAndShapeMismatch) {
  Dataset d = three_rows();
  d.y[1] = 2;
  EXPECT_FALSE(d.valid());
  d = three_rows();
  d.image_shape = {1, 3, 3};
  EXPECT_FALSE(d.valid());
  d = three_rows();
  d.x.pop_back();
  EXPECT_FALSE(d.valid());
}

TEST(DatasetDeathTest, SubsetAbortsOnIndexOutOfRange) {
  const Dataset d = three_rows();
  const std::vector<std::size_t> pick = {3};
  EXPECT_DEATH((void)d.subset(pick), "");
}

}  // namespace
}  // namespace baton::learning
