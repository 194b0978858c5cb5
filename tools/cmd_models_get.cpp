// `baton models get` (issue 13): a run's final model, fetched from the object
// store, checked against the ledger and opened with a member's key, written
// as the plaintext model file.
//
// The data key comes from the final SaveRequest's wrapped key for the key's
// member (a partner or voter), else, for the run's sponsor, from a KeyGrant
// on the ledger (docs/PROTOCOL.md §19.8): each grant is opened in turn with
// the sponsor's X25519 secret and the first whose key matches the
// SaveRequest's key commitment is used, so one granter that sealed garbage
// cannot keep the model from the sponsor. Then the blob is downloaded, its
// SHA-256 checked against the ledger's, every chunk authenticated with the
// blob's binding (chain, run, model, parent) and the plaintext's SHA-256
// checked against the ledger's model hash; the output file appears only
// when all of that held.
//
// Before the sponsor's release (or without any grant yet) it fails with a
// sentence that says what is missing and what to do; nothing the sponsor
// holds opens the blob before a grant.
#include <filesystem>
#include <iostream>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/training_json.h"
#include "chain/crypto.h"
#include "chain/keys.h"
#include "storage/envelope.h"
#include "storage/object_store.h"
#include "storage/s3_options.h"
#include "storage/vault.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/node_connect.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct GetOptions {
  std::string data_dir;
  std::string node;
  std::string run_id;           // empty: the last started
  std::string model = "final";  // or the 64-hex id of one of the run's models
  std::string key_file;
  std::string store;
  std::string endpoint;
  std::string out;
  bool overwrite = false;
  bool json = false;
};

const json& pick_run(const json& status, const std::string& run_id) {
  const json* chosen = nullptr;
  for (const auto& r : status["runs"]) {
    if (!run_id.empty()) {
      if (r["run_id"] == run_id) return r;
      continue;
    }
    if (chosen == nullptr ||
        r["start_height"].get<std::uint64_t>() >= (*chosen)["start_height"].get<std::uint64_t>())
      chosen = &r;
  }
  if (!run_id.empty()) fail("the ledger has no run \"" + run_id + "\"", Exit::usage);
  if (chosen == nullptr) fail("no training run has been started on this ledger", Exit::failure);
  return *chosen;
}

chain::Hash hash_field(const json& j, const char* field) {
  auto h = chain::Hash::from_hex(j.value(field, ""));
  if (!h) {
    fail(std::string("the ledger's ") + field + " of the final model is not a hash",
         Exit::verify_failed);
  }
  return *h;
}

std::array<std::uint8_t, storage::kWrappedKeySize> sealed_box(const std::string& hex,
                                                              const std::string& whose) {
  auto bytes = chain::from_hex(hex);
  if (!bytes || bytes->size() != storage::kWrappedKeySize)
    fail("the ledger's wrapped key " + whose + " is not an 80-byte sealed box",
         Exit::verify_failed);
  std::array<std::uint8_t, storage::kWrappedKeySize> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// Opens one sealed box with `keys` and checks it against the commitment.
Result<storage::DataKey> open_box(const std::array<std::uint8_t, storage::kWrappedKeySize>& box,
                                  const chain::MemberSecretKeys& keys,
                                  const chain::Hash& commitment) {
  storage::Envelope envelope;
  std::copy(commitment.bytes.begin(), commitment.bytes.end(), envelope.key_commitment.begin());
  storage::WrappedKey w;
  w.member = keys.name;
  w.recipient = keys.x25519.public_key();
  w.sealed = box;
  envelope.recipients.push_back(std::move(w));
  return storage::unwrap(envelope, keys.x25519);
}

// Why `keys` holds no key for the final model of `run`, and what to do.
[[noreturn]] void no_key(const json& run, const chain::MemberSecretKeys& keys,
                         std::size_t grants_tried) {
  const std::string run_id = run["run_id"];
  const std::string& me = keys.name;
  if (!run.contains("escrow") || run["escrow"]["sponsor"] != me) {
    fail("the final model of run " + run_id + " is not sealed for " + me +
             " and no key grant names it: only the members its SaveRequest names and, after "
             "the release, the run's sponsor can open it; give --key of one of them",
         Exit::failure);
  }
  const json& e = run["escrow"];
  const std::string state = e["state"];
  if (state == "open") {
    fail("run " + run_id +
             "'s escrow is not released yet, so no member may grant its final "
             "model's key to the sponsor " +
             me + ": release it with `baton run release --run " + run_id +
             "` (after the run finished and its gains settled), then try again once a "
             "member's agent has granted the key (a few blocks)",
         Exit::failure);
  }
  if (state == "paid_at_deadline" || state == "refunded") {
    fail("run " + run_id + "'s escrow was " +
             (state == "refunded" ? std::string("refunded (the run was never funded)")
                                  : std::string("paid out at its deadline without the sponsor's "
                                                "release")) +
             ": the ledger accepts no key grant for it, and the sponsor gets no model",
         Exit::failure);
  }
  if (grants_tried == 0) {
    fail("run " + run_id +
             "'s escrow is released, but no member has granted the final model's "
             "key to the sponsor " +
             me +
             " yet: the partner agents send the grant within a few "
             "blocks of the release; try again (`baton run status --run " +
             run_id + " --json` shows escrow.key_grants)",
         Exit::failure);
  }
  fail("none of the " + std::to_string(grants_tried) + " key grants of run " + run_id +
           " opens with the key of " + me + " to the final model's committed key: check that " +
           "--key is the sponsor's key of this genesis, or wait for another member's grant",
       Exit::verify_failed);
}

std::unique_ptr<storage::ObjectStore> open_store(const GetOptions& o) {
  storage::S3Options base;
  base.endpoint = o.endpoint;
  auto options = base;
  if (o.store.rfind("s3://", 0) == 0) {
    auto resolved = storage::resolve_s3_options(base, storage::process_environment());
    if (!resolved) fail(resolved.error().message, Exit::usage);
    options = *resolved;
  }
  auto store = storage::open_object_store(o.store, options);
  if (!store) fail("cannot open the store " + o.store + ": " + store.error().message, Exit::usage);
  return std::move(*store);
}

// Downloads the blob of `turn`'s SaveRequest, checks its SHA-256, opens it
// with `key` and the binding of docs/PROTOCOL.md §13.1 (chain, run/turn-N,
// parent hex), checks the plaintext's SHA-256 and only then leaves --out.
void fetch_open_and_write(const GetOptions& o, const json& status, const json& run,
                          const json& turn, const std::string& model_id,
                          const storage::DataKey& key, const std::string& key_from,
                          const chain::MemberSecretKeys& keys) {
  const std::string run_id = run["run_id"];
  const json& sv = turn["save"];
  const chain::Hash blob_sha256 = hash_field(sv, "ciphertext_sha256");
  const chain::Hash model_sha256 = hash_field(sv, "model_sha256");
  std::error_code ec;
  auto store = open_store(o);
  const std::string object_key = sv["object_key"];
  const fs::path out = o.out;
  const fs::path blob =
      out.parent_path().empty()
          ? fs::path(".baton-get-" + std::to_string(::getpid()) + ".blob")
          : out.parent_path() / (".baton-get-" + std::to_string(::getpid()) + ".blob");
  if (auto st = store->get_file(object_key, blob, true); !st) {
    const bool missing = st.error().code == static_cast<int>(storage::StoreErrc::not_found);
    fail("cannot download the model " + object_key + " from " + o.store + ": " +
             st.error().message +
             (missing ? std::string("; run `baton models repair --run ") + run_id + "`"
                      : std::string()),
         missing ? Exit::failure : Exit::unavailable);
  }
  storage::OpenOptions open_options;
  open_options.overwrite = o.overwrite;
  open_options.expected_blob_sha256 = blob_sha256;
  const chain::Bytes ad = storage::model_associated_data(
      status["chain_id"].get<std::string>(), run_id + "/" + api::candidate_model_id(run, turn),
      sv.value("parent_model_id", ""));
  auto opened = storage::open_file(blob, out, key, chain::ByteView(ad), open_options);
  fs::remove(blob, ec);
  if (!opened) {
    if (opened.error().code == static_cast<int>(storage::VaultErrc::io))
      fail("cannot write " + o.out + ": " + opened.error().message, Exit::failure);
    fail("the model " + object_key + " in " + o.store +
             " is not the one the ledger names: " + opened.error().message +
             "; run `baton models repair --run " + run_id + "` and try again",
         Exit::verify_failed);
  }
  auto plaintext = read_file(out, "the opened model");
  if (chain::sha256(chain::as_bytes(plaintext)) != model_sha256) {
    fs::remove(out, ec);
    fail("the opened model's SHA-256 is not the ledger's model hash " + model_sha256.hex() +
             ": it was not written",
         Exit::verify_failed);
  }
  const json result{{"run_id", run_id},
                    {"model_id", model_id},
                    {"member", keys.name},
                    {"key", key_from},
                    {"object_key", object_key},
                    {"ciphertext_sha256", blob_sha256.hex()},
                    {"model_sha256", model_sha256.hex()},
                    {"bytes", plaintext.size()},
                    {"out", o.out}};
  if (o.json) {
    print_json(result);
  } else {
    std::cout << "run " << run_id << ": " << (o.model == "final" ? "final model " : "model ")
              << model_id.substr(0, 12) << " (turn " << turn["turn"].get<std::uint64_t>()
              << ") written to " << o.out << ", " << plaintext.size() << " bytes, SHA-256 "
              << model_sha256.hex() << " as on the ledger; key: " << key_from << "\n";
  }
}

// --model ID: any model of the run whose SaveRequest (tx hash ID) wraps a key
// for this member: an approved one, the head, or a candidate the voters
// rejected. The sponsor's key grants are for the final model only.
void get_model(const GetOptions& o, const json& status, const json& run,
               const chain::MemberSecretKeys& keys) {
  const std::string run_id = run["run_id"];
  auto id = chain::Hash::from_hex(o.model);
  if (!id)
    fail("--model must be final or a model id (64 hex characters), got \"" + o.model + "\"",
         Exit::usage);
  const json* turn = nullptr;
  for (const auto& t : run["turns"])
    if (t.value("save_request_id", "") == id->hex() && t.contains("save")) turn = &t;
  if (turn == nullptr) {
    fail("run " + run_id + " has no model " + id->hex() +
             " (no SaveRequest of its turns has that id); `baton models lineage` lists them",
         Exit::failure);
  }
  const json& sv = (*turn)["save"];
  if (!sv["wrapped_keys"].contains(keys.name)) {
    fail("model " + id->hex().substr(0, 12) + " of run " + run_id + " is not sealed for " +
             keys.name +
             ": only the members its SaveRequest names can open it (a sponsor "
             "gets the final model only, with --model final)",
         Exit::failure);
  }
  const chain::Hash commitment = hash_field(sv, "key_commitment");
  auto k =
      open_box(sealed_box(sv["wrapped_keys"][keys.name].get<std::string>(), "for " + keys.name),
               keys, commitment);
  if (!k) {
    fail("the wrapped key for " + keys.name + " of model " + id->hex().substr(0, 12) +
             " does not open with " + o.key_file + ": " + k.error().message,
         Exit::verify_failed);
  }
  fetch_open_and_write(o, status, run, *turn, id->hex(), *k, "own", keys);
}

void get(const GetOptions& o) {
  std::error_code ec;
  if (!o.overwrite && fs::exists(o.out, ec)) {
    fail(o.out + " exists already; pass --overwrite to replace it, or another --out",
         Exit::failure);
  }
  auto keys = chain::parse_secret_keys(read_secret_file(o.key_file, "key file").view());
  if (!keys) fail("key file " + o.key_file + " is not a Baton key: " + keys.error().message);
  const json status = training_status_or_exit(o.data_dir, o.node);
  const json& run = pick_run(status, o.run_id);
  const std::string run_id = run["run_id"];
  if (o.model != "final") return get_model(o, status, run, *keys);
  if (run["status"] != "finished") {
    fail("run " + run_id + " is " + run["status"].get<std::string>() +
             ", not finished: its final model is known only after its last turn",
         Exit::failure);
  }
  const std::string head = run.value("head", "");
  if (head.empty()) {
    fail("run " + run_id +
             " approved no model: its final model is the plan's initial model, "
             "which every member builds from the plan; nothing is stored",
         Exit::failure);
  }
  const json* turn = nullptr;
  for (const auto& t : run["turns"])
    if (t.value("save_token_id", "") == head && t.contains("save")) turn = &t;
  if (turn == nullptr)
    fail("the ledger names head " + head + " but no turn saved it", Exit::verify_failed);
  const json& sv = (*turn)["save"];
  const chain::Hash commitment = hash_field(sv, "key_commitment");

  // This member's own wrapped key, else a grant to it as the sponsor.
  std::optional<storage::DataKey> key;
  std::string key_from;
  std::size_t grants_tried = 0;
  if (sv["wrapped_keys"].contains(keys->name)) {
    auto k =
        open_box(sealed_box(sv["wrapped_keys"][keys->name].get<std::string>(), "for " + keys->name),
                 *keys, commitment);
    if (!k) {
      fail("the final model's wrapped key for " + keys->name + " does not open with " + o.key_file +
               ": " + k.error().message,
           Exit::verify_failed);
    }
    key = std::move(*k);
    key_from = "own";
  } else if (run.contains("escrow") && run["escrow"]["sponsor"] == keys->name &&
             run["escrow"]["state"] == "released") {
    const json grants = run["escrow"].value("key_grants", json::object());
    for (const auto& [granter, hex] : grants.items()) {
      ++grants_tried;
      auto k =
          open_box(sealed_box(hex.get<std::string>(), "granted by " + granter), *keys, commitment);
      if (!k) {
        std::cerr << "baton: the key grant of " << granter
                  << " does not open to the committed key (" << k.error().message
                  << "); trying the next\n";
        continue;
      }
      key = std::move(*k);
      key_from = "granted by " + granter;
      break;
    }
  }
  if (!key) no_key(run, *keys, grants_tried);

  fetch_open_and_write(o, status, run, *turn, head, *key, key_from, *keys);
}

}  // namespace

void register_models_get_command(CLI::App& models) {
  auto o = std::make_shared<GetOptions>();
  auto* sub = models.add_subcommand(
      "get",
      "Fetch a run's model (by default a finished run's final one), check it against the ledger "
      "and open it with a member's key (a sponsor's: the final model, after its release and a "
      "member's key grant)");
  auto* d = sub->add_option("--data-dir", o->data_dir,
                            "ledger directory, or a node's data directory (read from disk)");
  auto* n = sub->add_option("--node", o->node, "a node's admin API URL (GET /training)");
  add_node_cert_option(sub);
  d->excludes(n);
  n->excludes(d);
  sub->add_option("--run", o->run_id, "run id (default: the last started)");
  sub->add_option("--model", o->model,
                  "final (default: the run's final model) or a model id (64 hex: the tx hash of "
                  "its SaveRequest, as `baton models lineage` lists them)");
  sub->add_option("--key", o->key_file, "the member's or sponsor's NAME.key")->required();
  sub->add_option("--store", o->store, "the object store (file:///DIR or s3://BUCKET/PREFIX)")
      ->required();
  sub->add_option("--endpoint", o->endpoint, "S3 endpoint URL for --store");
  sub->add_option("--out", o->out, "where to write the plaintext model")->required();
  sub->add_flag("--overwrite", o->overwrite, "replace --out if it exists");
  sub->add_flag("--json", o->json, "print JSON for scripts");
  sub->callback([o] { get(*o); });
}

}  // namespace baton::tools
