#include "chain/schema_steps.h"

#include <algorithm>

#include "chain/crypto.h"
#include "chain/genesis.h"

namespace baton::chain {

Verdict<CheckedTx, ProtocolRejected> check_data_summary(const ChainSpec& spec,
                                                        const TrainingState& ts,
                                                        const ProtocolSender& sender,
                                                        const pb::DataSummary& m) {
  // Hospitals summarise their data; an admin or sponsor holds none.
  const GenesisMember* member = spec.genesis.find_member(sender.name);
  if (member == nullptr || !member->has_role(kRolePartner))
    return ProtocolRejected::not_a_data_holder;
  if (!validate_chain_id(m.schema_id())) return ProtocolRejected::malformed_summary;
  auto record = summary_from_proto(m);
  if (!record) return ProtocolRejected::malformed_summary;
  const auto it = ts.schemas.find(m.schema_id());
  if (it != ts.schemas.end()) {
    if (it->second.frozen) return ProtocolRejected::schema_frozen;
    for (const auto& [name, other] : it->second.summaries)
      if (name != sender.name && !same_layout(other, *record))
        return ProtocolRejected::summary_layout_mismatch;
  }
  const bool replaces = it != ts.schemas.end() && it->second.summaries.contains(sender.name);
  if (!replaces) {
    std::size_t held = 0;
    for (const auto& [id, schema] : ts.schemas) held += schema.summaries.count(sender.name);
    if (held >= kMaxSummariesPerMember) return ProtocolRejected::too_many_summaries;
  }
  return CheckedTx{std::move(record).value()};
}

void apply_data_summary(TrainingState& ts, const ProtocolSender& sender, const pb::DataSummary& m,
                        DataSummaryRecord record, std::uint64_t height) {
  record.height = height;
  ts.schemas[m.schema_id()].summaries[sender.name] = std::move(record);
}

std::optional<ProtocolRejected> check_plan_schema(const TrainingState& ts,
                                                  const TrainingPlan& plan) {
  if (plan.schema_id.empty()) return std::nullopt;
  const auto it = ts.schemas.find(plan.schema_id);
  if (it == ts.schemas.end() || it->second.summaries.empty())
    return ProtocolRejected::unknown_schema;
  if (!derive_consortium_schema(it->second)) return ProtocolRejected::unknown_schema;
  const DataSummaryRecord& any = it->second.summaries.begin()->second;
  if (any.positive_value != plan.positive_value) return ProtocolRejected::unknown_schema;
  std::vector<std::string> columns, features = plan.feature_columns;
  for (const auto& c : any.columns) columns.push_back(c.name);
  std::sort(columns.begin(), columns.end());
  std::sort(features.begin(), features.end());
  if (columns != features) return ProtocolRejected::unknown_schema;
  return std::nullopt;
}

std::string consortium_schema_sha256(const TrainingState& ts, const std::string& schema_id) {
  const auto it = ts.schemas.find(schema_id);
  if (it == ts.schemas.end() || it->second.summaries.empty()) return "";
  const auto derived = derive_consortium_schema(it->second);
  if (!derived) return "";
  const Hash h = sha256(*derived);
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
}

void freeze_plan_schema(TrainingState& ts, const TrainingPlan& plan) {
  if (plan.schema_id.empty()) return;
  const auto it = ts.schemas.find(plan.schema_id);
  if (it != ts.schemas.end()) it->second.frozen = true;
}

}  // namespace baton::chain
