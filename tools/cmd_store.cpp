// `baton store put|get|ls|rm`: the object store where sealed model blobs live
// (storage/object_store.h). Credentials for s3:// come from the AWS
// environment variables or the shared credentials file; the endpoint from
// --endpoint or BATON_S3_ENDPOINT.
#include <filesystem>
#include <iostream>

#include "storage/object_store.h"
#include "storage/s3_options.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace baton::tools {
namespace {

namespace fs = std::filesystem;
using storage::StoreErrc;

struct StoreFlags {
  std::string uri;
  std::string key;
  std::string file;
  std::string prefix;
  std::string endpoint;
  std::string region;
  bool force = false;
  bool json = false;
};

Exit exit_for(const Error& e) {
  switch (static_cast<StoreErrc>(e.code)) {
    case StoreErrc::unavailable:
      return Exit::unavailable;
    case StoreErrc::invalid_key:
    case StoreErrc::invalid_uri:
      return Exit::usage;
    default:
      return Exit::failure;
  }
}

std::unique_ptr<storage::ObjectStore> open_store(const StoreFlags& f) {
  storage::S3Options base;
  base.endpoint = f.endpoint;
  if (!f.region.empty()) base.region = f.region;
  auto options = base;
  if (f.uri.rfind("s3://", 0) == 0) {
    auto resolved = storage::resolve_s3_options(base, storage::process_environment());
    if (!resolved) fail(resolved.error().message);
    options = *resolved;
  }
  auto store = storage::open_object_store(f.uri, options);
  if (!store) fail(store.error().message, exit_for(store.error()));
  return std::move(*store);
}

void check_key(const StoreFlags& f) {
  if (auto st = storage::validate_object_key(f.key); !st) fail(st.error().message, Exit::usage);
}

void put(const StoreFlags& f) {
  check_key(f);
  std::error_code ec;
  if (!fs::is_regular_file(f.file, ec))
    fail("input file " + f.file + " does not exist or is not a regular file");
  auto store = open_store(f);
  if (auto st = store->put_file(f.key, f.file); !st) fail(st.error().message, exit_for(st.error()));
  const auto size = fs::file_size(f.file, ec);
  if (f.json) {
    print_json({{"store", store->uri()}, {"key", f.key}, {"size", size}});
  } else {
    std::cout << "stored " << f.file << " as " << f.key << " in " << store->uri() << " (" << size
              << " bytes)\n";
  }
}

void get(const StoreFlags& f) {
  check_key(f);
  auto store = open_store(f);
  if (auto st = store->get_file(f.key, f.file, f.force); !st)
    fail(st.error().message, exit_for(st.error()));
  std::error_code ec;
  const auto size = fs::file_size(f.file, ec);
  if (f.json) {
    print_json({{"store", store->uri()}, {"key", f.key}, {"out", f.file}, {"size", size}});
  } else {
    std::cout << "wrote " << f.key << " to " << f.file << " (" << size << " bytes)\n";
  }
}

void ls(const StoreFlags& f) {
  auto store = open_store(f);
  auto objects = store->list(f.prefix);
  if (!objects) fail(objects.error().message, exit_for(objects.error()));
  if (f.json) {
    auto arr = nlohmann::json::array();
    for (const auto& o : *objects) arr.push_back({{"key", o.key}, {"size", o.size}});
    print_json({{"store", store->uri()}, {"objects", arr}});
  } else {
    for (const auto& o : *objects) std::cout << o.size << "\t" << o.key << "\n";
  }
}

void rm(const StoreFlags& f) {
  check_key(f);
  auto store = open_store(f);
  if (auto st = store->remove(f.key); !st) fail(st.error().message, exit_for(st.error()));
  if (f.json) {
    print_json({{"store", store->uri()}, {"key", f.key}, {"removed", true}});
  } else {
    std::cout << "removed " << f.key << " from " << store->uri() << "\n";
  }
}

void add_common(CLI::App* cmd, StoreFlags& f) {
  cmd->add_option("--store", f.uri, "Store URI: file:///DIR or s3://BUCKET/PREFIX")->required();
  cmd->add_option("--endpoint", f.endpoint,
                  "S3 endpoint URL (default: BATON_S3_ENDPOINT, else AWS)");
  cmd->add_option("--region", f.region, "S3 region (default: AWS_REGION, else us-east-1)");
  cmd->add_flag("--json", f.json, "Print the result as JSON");
}

}  // namespace

void register_store_commands(CLI::App& app) {
  auto* store = app.add_subcommand(
      "store", "Put, get, list and remove objects in a file:// or s3:// object store");
  store->require_subcommand(1);
  auto f = std::make_shared<StoreFlags>();

  auto* p = store->add_subcommand("put", "Upload a local file under a key");
  add_common(p, *f);
  p->add_option("--key", f->key, "Object key, e.g. models/0003.blob")->required();
  p->add_option("--in", f->file, "Local file to upload")->required();
  p->callback([f] { put(*f); });

  auto* g = store->add_subcommand(
      "get", "Download an object to a local file (which appears only when complete)");
  add_common(g, *f);
  g->add_option("--key", f->key, "Object key")->required();
  g->add_option("--out", f->file, "Local file to write")->required();
  g->add_flag("--force", f->force, "Replace the output file if it exists");
  g->callback([f] { get(*f); });

  auto* l = store->add_subcommand("ls", "List objects (size and key, sorted by key)");
  add_common(l, *f);
  l->add_option("--prefix", f->prefix, "Only keys starting with this");
  l->callback([f] { ls(*f); });

  auto* r =
      store->add_subcommand("rm", "Remove an object (removing a missing key is not an error)");
  add_common(r, *f);
  r->add_option("--key", f->key, "Object key")->required();
  r->callback([f] { rm(*f); });
}

}  // namespace baton::tools
