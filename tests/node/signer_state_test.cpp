#include "node/signer_state.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace baton::node {
namespace {

TEST(FileSignerStateStore, LoadsNothingBeforeTheFirstSave) {
  testing::TempDir dir;
  FileSignerStateStore store(dir / "signer_state");
  auto loaded = store.load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
}

TEST(FileSignerStateStore, ReloadsTheLastSavedRecordInANewInstance) {
  testing::TempDir dir;
  consensus::pb::SignerState s;
  s.set_height(42);
  s.set_round(3);
  s.set_step(2);
  s.set_block_id(std::string(32, '\x07'));
  {
    FileSignerStateStore store(dir / "signer_state");
    ASSERT_TRUE(store.save(s).ok());
    s.set_step(3);
    ASSERT_TRUE(store.save(s).ok());
  }
  FileSignerStateStore again(dir / "signer_state");
  auto loaded = again.load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->height(), 42u);
  EXPECT_EQ((*loaded)->step(), 3u);
  EXPECT_FALSE(std::filesystem::exists(dir / "signer_state.tmp"));
}

TEST(FileSignerStateStore, RefusesADamagedRecordInsteadOfStartingFresh) {
  testing::TempDir dir;
  FileSignerStateStore store(dir / "signer_state");
  consensus::pb::SignerState s;
  s.set_height(9);
  ASSERT_TRUE(store.save(s).ok());
  {
    std::fstream f(dir / "signer_state", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(33);
    f.put('\xff');
  }
  auto loaded = store.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("damaged"), std::string::npos);
}

TEST(FileSignerStateStore, SaveFailsWithASentenceWhenTheDirectoryIsGone) {
  testing::TempDir dir;
  FileSignerStateStore store(dir / "missing" / "signer_state");
  auto saved = store.save(consensus::pb::SignerState{});
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().message.find("cannot create"), std::string::npos);
}

}  // namespace
}  // namespace baton::node
