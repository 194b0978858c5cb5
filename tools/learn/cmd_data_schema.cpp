// `baton data summarize` and `baton data schema` (issue 17, docs/PROTOCOL.md
// §23): a consortium schema without pooling rows.
//
//   summarize  a hospital's summary statistics of its training file
//              (learning/data_summary.h), signed with its member key and
//              posted as a DataSummary; --dry-run prints them instead.
//   schema     a schema's encoded width and columns: a baton-preprocessor/1
//              file (--file), or the schema a node derives from the ledger's
//              summaries of a schema id (--schema-id with --node, GET /schema/ID).
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "api/datasets_config.h"
#include "chain/consortium_schema.h"
#include "chain/crypto.h"
#include "chain/genesis.h"
#include "learning/data_summary.h"
#include "learning/preprocess.h"
#include "tools/cli.h"
#include "tools/learn/commands.h"
#include "tools/node_connect.h"
#include "tools/signed_submit.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct SummarizeArgs {
  std::string schema_id;
  std::string config;
  std::string dataset = std::string(api::kDefaultDataset);
  std::string train;
  std::string label;
  std::string positive = "1";
  std::vector<std::string> features;
  std::vector<std::string> categorical;
  std::vector<std::string> na_values;
  std::string genesis, key, node;
  bool dry_run = false;
  bool json = false;
};

std::string micro_text(std::int64_t v) { return chain::micro_decimal(v); }

json summary_json(const std::string& schema_id, const chain::DataSummaryRecord& r) {
  json cols = json::array();
  for (const auto& c : r.columns) {
    json j{{"name", c.name}, {"missing", c.missing}};
    if (c.kind == chain::SummaryKind::numeric) {
      j["kind"] = "numeric";
      j["count"] = c.numeric.count;
      j["sum"] = micro_text(c.numeric.sum_micro);
      j["min"] = micro_text(c.numeric.min_micro);
      j["max"] = micro_text(c.numeric.max_micro);
    } else {
      j["kind"] = "categorical";
      j["levels"] = c.levels;
    }
    cols.push_back(std::move(j));
  }
  return {{"schema_id", schema_id},
          {"positive_value", r.positive_value},
          {"rows", r.rows},
          {"columns", std::move(cols)}};
}

void summarize(const SummarizeArgs& a) {
  if (!chain::validate_chain_id(a.schema_id))
    fail("--schema-id must be 1..64 characters of [A-Za-z0-9._-]", Exit::usage);
  learning::SummaryOptions o;
  o.label_column = a.label;
  o.positive_value = a.positive;
  o.feature_columns = a.features;
  o.na_values = a.na_values;
  for (const auto& c : a.categorical) o.column_kinds[c] = learning::ColumnKind::categorical;
  if (!a.config.empty()) {
    auto datasets = api::load_datasets(a.config);
    if (!datasets) fail(datasets.error().message, Exit::usage);
    const auto it = datasets->find(a.dataset);
    if (it == datasets->end())
      fail(a.config + " declares no dataset '" + a.dataset + "' ([datasets." + a.dataset + "])",
           Exit::usage);
    o.file = it->second.train_csv;
    if (o.na_values.empty() && it->second.na_values) o.na_values = *it->second.na_values;
  } else if (!a.train.empty()) {
    o.file = a.train;
  } else {
    fail("give the training file: --config agent.toml [--dataset NAME], or --train FILE",
         Exit::usage);
  }
  auto record = learning::summarize_csv(o);
  if (!record) fail(record.error().message);
  json out = summary_json(a.schema_id, *record);
  if (!a.dry_run) {
    if (a.genesis.empty() || a.key.empty() || a.node.empty())
      fail("posting needs --genesis, --key (this hospital's member key) and --node; or --dry-run",
           Exit::usage);
    const MemberSigner signer = load_member_signer(a.genesis, a.key);
    const std::string payload = chain::summary_to_proto(a.schema_id, *record).SerializeAsString();
    out["submitted"] = submit_signed(signer, a.node, chain::pb::TX_DATA_SUMMARY, payload);
    out["member"] = signer.member;
  }
  if (a.json) {
    print_json(out);
    return;
  }
  std::cout << "summary of " << o.file.string() << " for schema " << a.schema_id << ": "
            << record->rows << " rows, " << record->columns.size() << " columns\n";
  for (const auto& c : out["columns"]) {
    std::cout << "  " << c["name"].get<std::string>() << " (" << c["kind"].get<std::string>()
              << "), missing " << c["missing"].get<std::uint64_t>();
    if (c.contains("levels")) std::cout << ", " << c["levels"].size() << " levels";
    std::cout << "\n";
  }
  if (a.dry_run) {
    std::cout << "not posted (--dry-run)\n";
  } else {
    std::cout << "posted as " << out["member"].get<std::string>() << ": transaction "
              << out["submitted"]["hash"].get<std::string>() << "\n";
  }
}

struct SchemaArgs {
  std::string file;
  std::string schema_id;
  std::string node;
  bool json = false;
};

void show_schema(const SchemaArgs& a) {
  std::string text;
  json out;
  if (!a.file.empty()) {
    text = read_file(a.file, "schema file");
    out["file"] = a.file;
  } else {
    if (a.schema_id.empty() || a.node.empty())
      fail("give --file schema.json, or --schema-id ID with --node URL", Exit::usage);
    auto client = connect_node(a.node, std::chrono::seconds(10));
    if (!client) fail(client.error().message, Exit::usage);
    auto r = (*client)->request("GET", "/schema/" + a.schema_id, {}, "application/json");
    if (!r) fail(r.error().message, Exit::unavailable);
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) fail("the node at " + a.node + " sent no JSON", Exit::unavailable);
    if (r->status != 200) fail(j.value("error", "the node refused"), Exit::failure);
    if (!j.contains("schema")) fail(j.value("error", "the node derives no schema"));
    text = j["schema"].get<std::string>();
    out["schema_id"] = a.schema_id;
    out["frozen"] = j["frozen"];
    out["summaries"] = j["summaries"];
  }
  auto pre = learning::Preprocessor::from_json(text);
  if (!pre) fail(pre.error().message);
  out["sha256"] = chain::sha256(text).hex();
  out["width"] = pre->feature_count();
  // Positions follow the fitted column order (numeric and categorical
  // interleaved as in the JSON's "columns").
  const json doc = json::parse(text);
  std::map<std::string, const learning::NumericEncoding*> numeric;
  for (const auto& e : pre->numeric()) numeric[e.name] = &e;
  std::map<std::string, const learning::CategoricalEncoding*> categorical;
  for (const auto& e : pre->categorical()) categorical[e.name] = &e;
  json cols = json::array();
  std::size_t position = 0;
  for (const auto& c : doc["columns"]) {
    const std::string name = c["name"].get<std::string>();
    json col{{"name", name}};
    if (const auto it = numeric.find(name); it != numeric.end()) {
      col["kind"] = "numeric";
      col["positions"] = {position, position};
      col["fill"] = it->second->median;
      col["mean"] = it->second->mean;
      col["scale"] = it->second->scale;
      position += 1;
    } else {
      const auto* e = categorical.at(name);
      col["kind"] = "categorical";
      col["positions"] = {position, position + e->levels.size() - 1};
      col["levels"] = e->levels;
      col["fill"] = e->most_frequent;
      position += e->levels.size();
    }
    cols.push_back(std::move(col));
  }
  out["columns"] = std::move(cols);
  if (a.json) {
    print_json(out);
    return;
  }
  std::cout << "encoded width " << out["width"].get<std::size_t>()
            << " (the plan's model input_shape)\nsha256 " << out["sha256"].get<std::string>()
            << "\n";
  if (out.contains("summaries")) {
    std::cout << "schema id " << a.schema_id << (out["frozen"].get<bool>() ? " (frozen)" : "")
              << ", from the summaries of";
    for (const auto& s : out["summaries"]) std::cout << " " << s["member"].get<std::string>();
    std::cout << "\n";
  }
  for (const auto& c : out["columns"]) {
    const auto first = c["positions"][0].get<std::size_t>();
    const auto last = c["positions"][1].get<std::size_t>();
    std::cout << "  [" << first << (last > first ? ".." + std::to_string(last) : "") << "] "
              << c["name"].get<std::string>() << " " << c["kind"].get<std::string>();
    if (c["kind"] == "numeric") {
      // 12 digits: a consortium schema's micro-unit values print in full.
      std::cout << std::setprecision(12) << " mean " << c["mean"].get<double>() << " scale "
                << c["scale"].get<double>() << "\n";
    } else {
      std::cout << " levels";
      for (const auto& l : c["levels"]) std::cout << " " << l.get<std::string>();
      std::cout << "\n";
    }
  }
}

}  // namespace

void register_data_schema_commands(CLI::App* data) {
  auto a = std::make_shared<SummarizeArgs>();
  auto* sum = data->add_subcommand(
      "summarize",
      "Post this hospital's summary statistics of its training file (a DataSummary) for a "
      "consortium schema, without sharing any row");
  sum->add_option("--schema-id", a->schema_id, "the consortium schema's id")->required();
  sum->add_option("--config", a->config, "agent.toml: its datasets ([datasets.NAME], [training])");
  sum->add_option("--dataset", a->dataset, "the dataset of --config (default: \"default\")");
  sum->add_option("--train", a->train, "the training CSV (instead of --config)");
  sum->add_option("--label", a->label, "the label column (not summarised)")->required();
  sum->add_option("--positive", a->positive, "the label value of the positive class (default 1)");
  sum->add_option("--features", a->features,
                  "feature columns in the schema's order, comma-separated (default: all but "
                  "the label)")
      ->delimiter(',');
  sum->add_option("--categorical", a->categorical,
                  "columns to summarise as categorical whatever their cells look like")
      ->delimiter(',');
  sum->add_option("--na-values", a->na_values, "cells that mean no value (default: \"\" and NA)")
      ->delimiter(',');
  sum->add_option("--genesis", a->genesis, "the genesis file (the network signed for)");
  sum->add_option("--key", a->key, "this hospital's member key file (NAME.key)");
  sum->add_option("--node", a->node, "a node's admin API URL");
  add_node_cert_option(sum);
  sum->add_flag("--dry-run", a->dry_run, "print the summary; post nothing");
  sum->add_flag("--json", a->json, "print JSON");
  sum->callback([a] { summarize(*a); });

  auto s = std::make_shared<SchemaArgs>();
  auto* schema = data->add_subcommand(
      "schema",
      "Print a feature schema's encoded width and columns (a file, or a schema id's "
      "consortium schema from a node)");
  auto* f = schema->add_option("--file", s->file, "a baton-preprocessor/1 JSON file");
  auto* id =
      schema->add_option("--schema-id", s->schema_id, "a consortium schema id (with --node)");
  f->excludes(id);
  schema->add_option("--node", s->node, "a node's admin API URL");
  schema->add_flag("--json", s->json, "print JSON");
  schema->callback([s] { show_schema(*s); });
}

}  // namespace baton::tools
