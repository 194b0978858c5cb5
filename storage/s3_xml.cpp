#include "storage/s3_xml.h"

#include <exception>
#include <string>
#include <utility>

namespace baton::storage::s3 {

std::vector<std::string> xml_values(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const std::size_t start = pos + open.size();
    const std::size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    std::string_view raw = xml.substr(start, end - start);
    std::string v;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        v.push_back(raw[i]);
        continue;
      }
      static constexpr std::pair<std::string_view, char> kEntities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
      bool matched = false;
      for (const auto& [ent, ch] : kEntities) {
        if (raw.substr(i, ent.size()) == ent) {
          v.push_back(ch);
          i += ent.size() - 1;
          matched = true;
          break;
        }
      }
      if (!matched) v.push_back('&');
    }
    out.push_back(std::move(v));
    pos = end + close.size();
  }
  return out;
}

std::string error_code(std::string_view xml) {
  auto codes = xml_values(xml, "Code");
  return codes.empty() ? std::string() : std::move(codes.front());
}

std::string upload_id(std::string_view xml) {
  auto ids = xml_values(xml, "UploadId");
  return ids.empty() ? std::string() : std::move(ids.front());
}

bool reports_error(std::string_view xml) { return xml.find("<Error>") != std::string_view::npos; }

Result<ListPage> parse_list_page(std::string_view xml, std::string_view base) {
  ListPage page;
  std::size_t pos = 0;
  while ((pos = xml.find("<Contents>", pos)) != std::string_view::npos) {
    const std::size_t end = xml.find("</Contents>", pos);
    if (end == std::string_view::npos) break;
    const std::string_view entry = xml.substr(pos, end - pos);
    pos = end;
    const auto keys = xml_values(entry, "Key");
    if (keys.empty() || !keys.front().starts_with(base)) continue;
    const auto sizes = xml_values(entry, "Size");
    const auto etags = xml_values(entry, "ETag");
    ObjectInfo info{keys.front().substr(base.size()), 0,
                    etags.empty() ? std::string() : etags.front()};
    try {
      if (!sizes.empty()) info.size = std::stoull(sizes.front());
    } catch (const std::exception&) {
      return make_error("S3 listed " + info.key + " with a bad Size",
                        static_cast<int>(StoreErrc::bad_response));
    }
    page.objects.push_back(std::move(info));
  }
  const auto truncated = xml_values(xml, "IsTruncated");
  const auto next = xml_values(xml, "NextContinuationToken");
  if (!truncated.empty() && truncated.front() == "true" && !next.empty())
    page.next_token = next.front();
  return page;
}

}  // namespace baton::storage::s3
