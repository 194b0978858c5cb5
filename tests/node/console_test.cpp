// The web console (node/console.h) against an in-memory node: what a hostile
// ledger string becomes on a page, which requests it answers without the
// token, the pages' bounds, and the AUC chart for 0, 1 and many turns. The
// console on a real network, in a real browser: tests/integration/
// console_browser_test.cpp.
#include <gtest/gtest.h>

#include <regex>

#include "api/training_json.h"
#include "chain/block.h"
#include "chain/training.h"
#include "node/admin_api.h"
#include "node/console.h"
#include "node/console_html.h"
#include "node/console_pages.h"
#include "storage/block_store_memory.h"

namespace baton::node {
namespace {

using nlohmann::json;

const std::string kToken(64, 'b');
const std::string kScript = "<script>alert(1)</script>";
const std::string kAttr = "\"'><img src=x onerror=alert(1)>";

class ConsoleNode final : public AdminNode {
 public:
  NodeSnapshot snap;
  storage::MemoryBlockStore store{chain::Hash{}};
  std::shared_ptr<chain::LedgerState> state =
      std::make_shared<chain::LedgerState>(chain::initial_state(chain::Hash{}));

  NodeSnapshot snapshot() const override { return snap; }
  std::vector<PeerStatus> peers() const override {
    return {{"hospital-b", "127.0.0.1:1", false, kScript}};
  }
  std::string metrics_text() const override { return ""; }
  const storage::BlockStore& ledger() const override { return store; }
  std::shared_ptr<const chain::LedgerState> committed_state() const override { return state; }
  AgentView agent_view() const override { return {state->height, state}; }
  // A member and a pending change whose names are the script (names are
  // validated by the chain; the console escapes all the same).
  MembersView members_view() const override {
    MembersView v;
    chain::GenesisMember m;
    m.name = kScript;
    m.ed25519 = *chain::PublicKey::from_hex(std::string(64, 'e'));  // no block's key
    m.roles = {kAttr};
    v.members.push_back(m);
    PendingMemberChange c;
    c.kind = "add";
    c.name = kScript;
    c.approvers = {kAttr};
    c.id_hex = kAttr;
    v.pending.push_back(c);
    return v;
  }
  std::optional<std::string> pending_transaction(const chain::Hash&) override {
    return std::nullopt;
  }
  std::optional<std::uint64_t> next_nonce(const chain::PublicKey&) override { return 1; }
  SubmitOutcome submit_transaction(std::string) override { return {}; }
  SubmitOutcome sign_and_submit(chain::pb::TxType, std::string) override { return {}; }
};

chain::ModelVoteRecord vote(bool approve, std::uint32_t cand, std::uint32_t head,
                            std::string reason = "") {
  chain::ModelVoteRecord v;
  v.approve = approve;
  v.auc_candidate_ppm = cand;
  v.auc_head_ppm = head;
  v.validation_size = 50;
  v.reason = std::move(reason);
  return v;
}

// A finished run whose every free-text field is an attack.
chain::Run hostile_run(const std::string& run_id) {
  chain::Run run;
  run.plan.run_id = run_id;
  run.plan.partners = {"hospital-a", "hospital-b"};
  run.plan.model_spec = R"({"architecture":"mlp"})";
  run.status = chain::RunStatus::finished;
  chain::Turn t0;
  t0.index = 0;
  t0.partner = "hospital-a";
  t0.phase = chain::TurnPhase::done;
  t0.outcome = chain::TurnOutcome::approved;
  t0.save_request_id = chain::sha256(std::string_view("model-0"));
  t0.save_token_id = t0.save_request_id;
  t0.save = chain::SaveRecord{};
  t0.save->metrics_json = "{\"auc\":\"" + kAttr + "\"}";
  t0.model_votes["hospital-b"] = vote(true, 910'000, 880'000, kScript);
  chain::Turn t1;
  t1.index = 1;
  t1.partner = "hospital-b";
  t1.phase = chain::TurnPhase::done;
  t1.outcome = chain::TurnOutcome::abandoned;
  t1.abandon = chain::AbandonRecord{chain::LoadFailure::training_failed, kAttr};
  run.turns = {t0, t1};
  chain::ModelRecord m;
  m.id = *t0.save_token_id;
  m.contributor = "hospital-a";
  run.models = {m};
  run.head = m.id;
  run.contributivity_ppm = {{"hospital-a", 30'000}, {"hospital-b", 0}};
  return run;
}

AdminApiSettings settings() {
  AdminApiSettings s;
  s.node_name = "hospital-a";
  s.chain_id = "console-chain";
  s.admin_listen = api::HostPort{"127.0.0.1", 26680};
  s.token = kToken;
  return s;
}

api::HttpRequest get(std::string target, bool logged_in = true) {
  api::HttpRequest r;
  r.method = "GET";
  r.target = std::move(target);
  r.host = "127.0.0.1:26680";
  if (logged_in) r.cookie = "other=1; baton_console=" + console_session(kToken);
  return r;
}

api::HttpResponse answer(AdminApi& api, const api::HttpRequest& r) {
  auto a = api.handle(r);
  EXPECT_TRUE(std::holds_alternative<api::HttpResponse>(a));
  return std::get<api::HttpResponse>(a);
}

std::string header(const api::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

// No tag or attribute an attack could have opened survives.
void expect_inert(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("onerror=alert(1)>"), std::string::npos);
  EXPECT_EQ(html.find("\"'>"), std::string::npos);
}

TEST(ConsoleHtml, EscapesTextAndAttributeBreakers) {
  EXPECT_EQ(console::escape(kScript), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(console::escape(kAttr), "&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;");
  // Not UTF-8, and control characters: replaced, never passed through.
  EXPECT_EQ(console::escape(std::string("a\xff\x01"
                                        "b",
                                        4)),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  // Long ledger strings are cut.
  EXPECT_EQ(console::escape(std::string(10'000, 'x')).size(), console::kMaxShownChars + 3);
  EXPECT_EQ(console::url_component("a b/\"<"), "a%20b%2F%22%3C");
  EXPECT_EQ(console::query_param("/console/search?q=%3Cb%3E+x&z=1", "q"), "<b> x");
}

TEST(ConsoleHtml, TablesCapLongListsWithACount) {
  std::vector<std::vector<std::string>> rows(console::kMaxListRows + 7, {"r"});
  const std::string html = console::table({"h"}, rows);
  EXPECT_NE(html.find("7 more"), std::string::npos);
  std::size_t cells = 0;
  for (std::size_t p = html.find("<td>r</td>"); p != std::string::npos;
       p = html.find("<td>r</td>", p + 1))
    ++cells;
  EXPECT_EQ(cells, console::kMaxListRows);
}

TEST(Console, HostileLedgerStringsAreEscapedOnTheRunPages) {
  ConsoleNode node;
  const std::string run_id = "r1" + kAttr;
  node.state->training.runs[run_id] = hostile_run(run_id);
  AdminApi api(node, settings());

  const auto run = answer(api, get("/console/run/" + console::url_component(run_id)));
  ASSERT_EQ(run.status, 200) << run.body;
  expect_inert(run.body);
  EXPECT_NE(run.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(run.body.find("&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  // The lineage graph marks the head; the chart has the turn's mark.
  EXPECT_NE(run.body.find("class=\"head-label\""), std::string::npos);
  EXPECT_NE(run.body.find("class=\"turn-mark\""), std::string::npos);

  const auto runs = answer(api, get("/console/runs"));
  ASSERT_EQ(runs.status, 200);
  expect_inert(runs.body);
  // The link to the run carries its id percent-encoded.
  EXPECT_NE(runs.body.find("/console/run/r1%22%27%3E%3Cimg"), std::string::npos);

  const auto members = answer(api, get("/console/members"));
  expect_inert(
      members.body);  // the peer's last error, a member and a pending change are the script
  EXPECT_NE(members.body.find("Pending membership changes"), std::string::npos);
  EXPECT_NE(members.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(Console, TheTrainersLossIsShownAndItsOtherMetricsStayInert) {
  ConsoleNode node;
  chain::Run run = hostile_run("r2");
  nlohmann::json metrics{{"final_train_loss", 0.5}, {"epoch_losses", {1.0, 0.5}}, {"note", kAttr}};
  run.turns[0].save->metrics_json = metrics.dump();
  node.state->training.runs["r2"] = run;
  AdminApi api(node, settings());

  const auto page = answer(api, get("/console/run/r2"));
  ASSERT_EQ(page.status, 200) << page.body;
  expect_inert(page.body);
  EXPECT_NE(page.body.find(">loss 0.5000 after 2 epochs<"), std::string::npos);
  // A loss that is not a number: the raw text, escaped.
  run.turns[0].save->metrics_json = R"({"final_train_loss":")" + kAttr + "\"}";
  node.state->training.runs["r2"] = run;
  const auto raw = answer(api, get("/console/run/r2"));
  expect_inert(raw.body);
  EXPECT_EQ(raw.body.find(">loss "), std::string::npos);
}

TEST(Console, AQueryStringNeverReachesThePageUnescaped) {
  ConsoleNode node;
  AdminApi api(node, settings());
  const auto r = answer(api, get("/console/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"));
  EXPECT_EQ(r.status, 404);
  expect_inert(r.body);
  EXPECT_NE(r.body.find("&lt;script&gt;"), std::string::npos);
  const auto unknown_run = answer(api, get("/console/run/%22%27%3E%3Cimg%20src%3Dx%3E"));
  EXPECT_EQ(unknown_run.status, 404);
  expect_inert(unknown_run.body);
  // The login form's `next` comes from the request too.
  const auto login = answer(api, get("/console/login?next=%22%3E%3Cimg%20src%3Dx%3E", false));
  expect_inert(login.body);
}

TEST(Console, UnknownHashesAndHeightsAnswerA404Page) {
  ConsoleNode node;
  AdminApi api(node, settings());
  for (const std::string& target :
       {"/console/tx/" + std::string(64, 'a'), std::string("/console/block/5"),
        std::string("/console/block/x"), "/console/search?q=" + std::string(64, 'c'),
        std::string("/console/run/none"), std::string("/console/nothing")}) {
    const auto r = answer(api, get(target));
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("Not found"), std::string::npos) << target;
  }
}

TEST(Console, NeedsTheTokenOrItsSessionAndSendsTheSecurityHeaders) {
  ConsoleNode node;
  AdminApi api(node, settings());
  const auto anonymous = answer(api, get("/console/runs", false));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.body.find("name=\"token\""), std::string::npos);
  auto wrong = get("/console/runs", false);
  wrong.cookie = "baton_console=" + console_session(std::string(64, 'c'));
  EXPECT_EQ(answer(api, wrong).status, 401);
  wrong.cookie = "baton_console=" + kToken;  // the token itself is not the session
  EXPECT_EQ(answer(api, wrong).status, 401);
  auto bearer = get("/console/runs", false);
  bearer.authorization = "Bearer " + kToken;
  EXPECT_EQ(answer(api, bearer).status, 200);

  const auto page = answer(api, get("/console/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(header(page, "Content-Security-Policy").rfind("default-src 'none'", 0), 0u);
  EXPECT_EQ(header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(anonymous, "X-Content-Type-Options"), "nosniff");
}

TEST(Console, LoginSetsAnHttpOnlyStrictCookieAndRedirectsOnlyInsideTheConsole) {
  ConsoleNode node;
  AdminApi api(node, settings());
  const auto bad = answer(api, get("/console/login?token=" + std::string(64, 'c'), false));
  EXPECT_EQ(bad.status, 401);
  EXPECT_TRUE(header(bad, "Set-Cookie").empty());

  const auto ok =
      answer(api, get("/console/login?token=" + kToken + "&next=%2Fconsole%2Fruns", false));
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(header(ok, "Location"), "/console/runs");
  const std::string cookie = header(ok, "Set-Cookie");
  EXPECT_NE(cookie.find("baton_console=" + console_session(kToken)), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find(kToken), std::string::npos);

  for (const std::string_view next : {"https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example",
                                      "%2Fconsole%2F..%2Fagent%2Ftx", "%2Fconsole%0d%0aX:1"}) {
    const auto r =
        answer(api, get("/console/login?token=" + kToken + "&next=" + std::string(next), false));
    EXPECT_EQ(header(r, "Location"), "/console/") << next;
  }

  // The form's POST: form-encoded, which other POSTs may not be.
  api::HttpRequest post = get("/console/login", false);
  post.method = "POST";
  post.content_type = "application/x-www-form-urlencoded";
  post.origin = "http://127.0.0.1:26680";
  post.body = "next=%2Fconsole%2Fmembers&token=" + kToken;
  const auto form = answer(api, post);
  EXPECT_EQ(form.status, 303);
  EXPECT_EQ(header(form, "Location"), "/console/members");
  post.origin = "http://evil.example";  // a cross-site form is still refused
  EXPECT_EQ(answer(api, post).status, 403);
}

// Appends `n` empty blocks (no commit signatures: the store does not check them).
void append_blocks(storage::MemoryBlockStore& store, int n) {
  for (int i = 0; i < n; ++i) {
    const storage::Tip tip = store.tip();
    chain::HeaderFields f;
    f.chain_id = "console-chain";
    f.height = tip.height + 1;
    f.time_unix_ms = 1'800'000'000'000 + static_cast<std::int64_t>(f.height) * 1000;
    f.previous_block_hash = tip.block_id;
    chain::pb::CommittedBlock committed;
    *committed.mutable_block() = chain::assemble_block(f, {}, {});
    committed.mutable_commit()->set_height(f.height);
    const chain::Hash id = chain::block_id(committed.block());
    committed.mutable_commit()->set_block_id(std::string(id.bytes.begin(), id.bytes.end()));
    ASSERT_TRUE(store.append(chain::encode_committed_block(committed)).ok());
  }
}

std::size_t block_links(const std::string& html) {
  std::size_t n = 0;
  for (std::size_t p = html.find("<td><a href=\"/console/block/"); p != std::string::npos;
       p = html.find("<td><a href=\"/console/block/", p + 1))
    ++n;
  return n;
}

TEST(Console, BlockPagesAreBoundedAndPaginated) {
  ConsoleNode node;
  AdminApi api(node, settings());
  // No blocks: an empty page, not an error.
  EXPECT_EQ(answer(api, get("/console/blocks")).status, 200);
  append_blocks(node.store, 60);
  const auto first = answer(api, get("/console/blocks"));
  EXPECT_EQ(block_links(first.body), console::kBlocksPerPage);
  EXPECT_NE(first.body.find("/console/blocks?top=35"), std::string::npos);  // older
  EXPECT_EQ(first.body.find(">newer<"), std::string::npos);
  const auto last = answer(api, get("/console/blocks?top=10"));
  EXPECT_EQ(block_links(last.body), 10u);
  EXPECT_EQ(last.body.find(">older<"), std::string::npos);
  EXPECT_NE(last.body.find("/console/blocks?top=35"), std::string::npos);  // newer
  // Past the tip: the tip's page; not a height: refused.
  EXPECT_EQ(block_links(answer(api, get("/console/blocks?top=1000")).body),
            console::kBlocksPerPage);
  EXPECT_EQ(answer(api, get("/console/blocks?top=99999999999999999999999")).status, 400);
  EXPECT_EQ(block_links(answer(api, get("/console/")).body), console::kOverviewBlocks);
  // Search by height and by block hash lead to the block.
  const auto by_height = answer(api, get("/console/search?q=42"));
  EXPECT_EQ(by_height.status, 303);
  EXPECT_EQ(header(by_height, "Location"), "/console/block/42");
  const auto by_hash = answer(api, get("/console/search?q=" + node.store.tip().block_id.hex()));
  EXPECT_EQ(header(by_hash, "Location"), "/console/block/60");
  const auto block = answer(api, get("/console/block/60"));
  EXPECT_EQ(block.status, 200);
  EXPECT_NE(block.body.find(node.store.tip().block_id.hex()), std::string::npos);
}

TEST(ConsoleSvg, AucChartForNoneOneAndManyTurns) {
  EXPECT_NE(console::auc_chart_svg(json::array()).find("no votes yet"), std::string::npos);
  const auto turn = [](int i, int cand, const char* decision) {
    return json{
        {"turn", i},
        {"decision", decision},
        {"votes",
         {{{"validation_size", 40}, {"auc_candidate_ppm", cand}, {"auc_head_ppm", 900'000}},
          {{"validation_size", 40}, {"auc_candidate_ppm", cand + 2000}, {"auc_head_ppm", 900'000}},
          {{"validation_size", 0}, {"auc_candidate_ppm", 0}, {"auc_head_ppm", 0}}}}};
  };
  const std::string one = console::auc_chart_svg(json::array({turn(0, 950'000, "approved")}));
  EXPECT_NE(one.find("class=\"turn-mark\""), std::string::npos);
  // The median of the measured votes only (the 0-row vote claims nothing).
  EXPECT_NE(one.find("candidate 0.9510, head 0.9000"), std::string::npos);
  EXPECT_NE(one.find(">turn</text>"), std::string::npos);
  EXPECT_NE(one.find("validation AUC"), std::string::npos);
  EXPECT_EQ(one.find("nan"), std::string::npos);

  json many = json::array();
  for (int i = 0; i < 300; ++i)
    many.push_back(turn(i, 800'000 + i * 500, i % 3 ? "approved" : "rejected"));
  const std::string svg = console::auc_chart_svg(many);
  std::size_t marks = 0;
  for (std::size_t p = svg.find("turn-mark"); p != std::string::npos;
       p = svg.find("turn-mark", p + 1))
    ++marks;
  EXPECT_EQ(marks, console::kMaxChartTurns);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(ConsoleSvg, LineageDrawsEveryModelAndMarksTheHead) {
  json models = json::array();
  std::string parent;
  for (int i = 0; i < 3; ++i) {
    const std::string id = chain::sha256(std::to_string(i)).hex();
    models.push_back({{"id", id}, {"parent", parent}, {"contributor", kScript}, {"turn", i}});
    parent = id;
  }
  const std::string svg = console::lineage_svg(models, parent);
  expect_inert(svg);
  EXPECT_NE(svg.find("initial model"), std::string::npos);
  std::size_t edges = 0;
  for (std::size_t p = svg.find("marker-end"); p != std::string::npos;
       p = svg.find("marker-end", p + 1))
    ++edges;
  EXPECT_EQ(edges, 3u);
  EXPECT_NE(svg.find("class=\"model head\""), std::string::npos);
}

}  // namespace
}  // namespace baton::node
