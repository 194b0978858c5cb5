#include "chain/encoding.h"

#include <google/protobuf/unknown_field_set.h>

namespace baton::chain {

bool parse_canonical(std::string_view bytes, google::protobuf::Message& out) {
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) return false;
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  if (!out.GetReflection()->GetUnknownFields(out).empty()) return false;
  return out.SerializeAsString() == bytes;
}

}  // namespace baton::chain
