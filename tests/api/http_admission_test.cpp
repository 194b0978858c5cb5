// Which connection gives way when a new one arrives at the admin API's
// limits (api/http_admission.h): one row per situation.
#include <gtest/gtest.h>

#include "api/http_admission.h"

namespace baton::api {
namespace {

using P = ConnectionPhase;
constexpr AdmissionLimits kLimits{4, 3};

struct Row {
  const char* situation;
  std::vector<OpenConnection> open;
  std::string client;
  bool accept;
  std::optional<std::uint64_t> evict;
};

TEST(HttpAdmission, DecidesWhichConnectionGivesWay) {
  const std::vector<Row> rows = {
      {"room left: taken, nobody evicted",
       {{1, "10.0.0.1", P::idle, 5}},
       "10.0.0.2",
       true,
       std::nullopt},
      {"full: the least recently active idle connection gives way",
       {{1, "10.0.0.1", P::idle, 30},
        {2, "10.0.0.2", P::idle, 10},
        {3, "10.0.0.3", P::reading, 1},
        {4, "10.0.0.1", P::busy, 0}},
       "10.0.0.9",
       true,
       2},
      {"full with no idle one: a parked long-poll gives way before a request being read",
       {{1, "10.0.0.1", P::reading, 1},
        {2, "10.0.0.2", P::waiting, 30},
        {3, "10.0.0.3", P::waiting, 10},
        {4, "10.0.0.1", P::busy, 0}},
       "10.0.0.9",
       true,
       3},
      {"full: an idle connection gives way before a parked long-poll",
       {{1, "10.0.0.1", P::waiting, 1},
        {2, "10.0.0.2", P::idle, 30},
        {3, "10.0.0.3", P::waiting, 2},
        {4, "10.0.0.4", P::reading, 0}},
       "10.0.0.9",
       true,
       2},
      {"full with no idle one: the oldest request still being read gives way",
       {{1, "10.0.0.1", P::reading, 30},
        {2, "10.0.0.2", P::reading, 10},
        {3, "10.0.0.3", P::busy, 1},
        {4, "10.0.0.1", P::busy, 0}},
       "10.0.0.9",
       true,
       2},
      {"full and every connection is writing an answer nobody takes: the one writing the "
       "longest gives way",
       {{1, "10.0.0.1", P::busy, 3},
        {2, "10.0.0.2", P::busy, 1},
        {3, "10.0.0.3", P::busy, 2},
        {4, "10.0.0.4", P::busy, 4}},
       "10.0.0.9",
       true,
       2},
      {"a client at its own limit gives way from its own connections, not another's",
       {{1, "10.0.0.2", P::idle, 1},
        {2, "10.0.0.1", P::idle, 20},
        {3, "10.0.0.1", P::idle, 10},
        {4, "10.0.0.1", P::reading, 5}},
       "10.0.0.1",
       true,
       3},
      {"a client at its own limit with all of them busy: its own oldest gives way, not "
       "another's idle one",
       {{1, "10.0.0.2", P::idle, 0},
        {2, "10.0.0.1", P::busy, 2},
        {3, "10.0.0.1", P::busy, 1},
        {4, "10.0.0.1", P::busy, 3}},
       "10.0.0.1",
       true,
       3},
      {"no limit binds: nobody gives way, whatever the phases",
       {{1, "10.0.0.1", P::busy, 1}, {2, "10.0.0.2", P::reading, 2}},
       "10.0.0.3",
       true,
       std::nullopt},
      {"ties on activity: the lower id (the older connection) gives way",
       {{7, "10.0.0.1", P::idle, 5},
        {3, "10.0.0.2", P::idle, 5},
        {9, "10.0.0.3", P::idle, 5},
        {8, "10.0.0.4", P::idle, 5}},
       "10.0.0.5",
       true,
       3},
  };
  for (const Row& row : rows) {
    const Admission a = admit_connection(row.open, row.client, kLimits);
    EXPECT_EQ(a.accept, row.accept) << row.situation;
    EXPECT_EQ(a.evict, row.evict) << row.situation;
  }
}

TEST(HttpAdmission, TwoHundredIdleConnectionsNeverHoldMoreThanTheLimit) {
  // Simulates 200 idle connections arriving one after the other, then a
  // request from the CLI: the table never grows past the limit and the CLI
  // is admitted.
  std::vector<OpenConnection> open;
  const AdmissionLimits limits{64, 32};
  for (std::uint64_t id = 1; id <= 200; ++id) {
    const Admission a = admit_connection(open, "127.0.0.1", limits);
    ASSERT_TRUE(a.accept);
    if (a.evict) std::erase_if(open, [&](const OpenConnection& c) { return c.id == *a.evict; });
    open.push_back({id, "127.0.0.1", P::idle, id});
    ASSERT_LE(open.size(), 32u);
  }
  const Admission cli = admit_connection(open, "127.0.0.1", limits);
  EXPECT_TRUE(cli.accept);
  EXPECT_EQ(cli.evict, 169u);  // the oldest of the 32 left
}

}  // namespace
}  // namespace baton::api
