#include "agent/model_cache.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "storage/file_store.h"
#include "storage/secret_file.h"

namespace baton::agent {
namespace {

namespace fs = std::filesystem;

// runs/RUN/models/turn-N.blob (agent/model_handoff.h's model_object_key; this
// library does not link the hand-off, so the layout is spelled out here).
std::string turn_key(const std::string& run_id, std::uint64_t turn) {
  return "runs/" + run_id + "/models/turn-" + std::to_string(turn) + ".blob";
}

}  // namespace

std::vector<WantedModel> wanted_models(const chain::TrainingState& state, bool keep_lineage,
                                       bool keep_finished) {
  std::vector<WantedModel> heads, candidates, finals, lineage;
  // Newest runs first among finished ones: by start height, then id.
  std::vector<const chain::Run*> runs;
  for (const auto& [id, run] : state.runs) runs.push_back(&run);
  std::stable_sort(runs.begin(), runs.end(), [](const chain::Run* a, const chain::Run* b) {
    return a->start_height > b->start_height;
  });
  for (const chain::Run* run : runs) {
    const std::string& id = run->plan.run_id;
    const bool active = run->status == chain::RunStatus::active;
    const chain::ModelRecord* head = nullptr;
    if (run->head) head = run->find_model(*run->head);
    if (active) {
      if (head)
        heads.push_back({id, head->object_key, head->ciphertext_sha256, WantedModel::Why::head});
      if (const chain::Turn* t = run->current_turn()) {
        if (t->save) {
          candidates.push_back(
              {id, t->save->object_key, t->save->ciphertext_sha256, WantedModel::Why::candidate});
        } else {
          candidates.push_back(
              {id, turn_key(id, t->index), std::nullopt, WantedModel::Why::candidate});
        }
      }
      if (keep_lineage) {
        for (auto m = run->models.rbegin(); m != run->models.rend(); ++m) {
          if (head && m->id == head->id) continue;
          lineage.push_back({id, m->object_key, m->ciphertext_sha256, WantedModel::Why::lineage});
        }
      }
    } else if (keep_finished && head) {
      finals.push_back(
          {id, head->object_key, head->ciphertext_sha256, WantedModel::Why::final_model});
    }
  }
  std::vector<WantedModel> out;
  std::set<std::string> seen;
  for (auto* group : {&heads, &candidates, &finals, &lineage})
    for (auto& w : *group)
      if (seen.insert(w.object_key).second) out.push_back(std::move(w));
  return out;
}

std::vector<std::string> eviction_list(const std::vector<WantedModel>& wanted,
                                       const std::vector<CachedObject>& cached,
                                       std::uint64_t max_bytes) {
  std::map<std::string, std::size_t> rank;  // key -> position in `wanted`
  for (std::size_t i = 0; i < wanted.size(); ++i) rank.emplace(wanted[i].object_key, i);
  std::vector<std::string> out;
  std::vector<std::pair<std::size_t, const CachedObject*>> kept;
  std::uint64_t total = 0;
  for (const auto& c : cached) {
    auto it = rank.find(c.key);
    if (it == rank.end()) {
      out.push_back(c.key);
    } else {
      kept.emplace_back(it->second, &c);
      total += c.size;
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [r, c] : kept) {  // least wanted first
    if (total <= max_bytes) break;
    out.push_back(c->key);
    total -= c->size;
  }
  return out;
}

Result<std::unique_ptr<ModelCache>> ModelCache::open(const ModelCacheConfig& config) {
  if (config.dir.empty() || !config.dir.is_absolute())
    return make_error("the model cache needs an absolute directory ([model_cache] dir)");
  // The copies are ciphertext, but nobody else needs to list them.
  if (auto made = storage::make_private_directory(config.dir); !made) {
    return make_error("cannot make the model cache directory: " + made.error().message +
                      "; check [model_cache] dir and its permissions");
  }
  return std::unique_ptr<ModelCache>(
      new ModelCache(config, std::make_unique<storage::FileObjectStore>(config.dir)));
}

Result<std::vector<CachedObject>> ModelCache::list() {
  auto objects = store_->list("");
  if (!objects) return objects.error();
  std::vector<CachedObject> out;
  out.reserve(objects->size());
  for (auto& o : *objects) out.push_back({std::move(o.key), o.size});
  return out;
}

Result<std::vector<std::string>> ModelCache::retain(const chain::TrainingState& state) {
  auto cached = list();
  if (!cached) return cached.error();
  const auto victims =
      eviction_list(wanted_models(state, config_.keep_lineage, config_.keep_finished), *cached,
                    config_.max_bytes);
  for (const auto& key : victims) {
    if (auto st = store_->remove(key); !st) return st.error();
  }
  return victims;
}

}  // namespace baton::agent
