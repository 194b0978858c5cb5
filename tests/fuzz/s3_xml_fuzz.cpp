// libFuzzer target for the S3 XML replies the object store reads
// (storage/s3_xml.h): error replies and the failure they map to, the
// InitiateMultipartUpload UploadId, an error in a CompleteMultipartUpload
// reply, and ListObjectsV2 pages. The endpoint is someone else's server: any
// reply must give a value or an error sentence, never a crash, and what the
// parsers read must survive being written back as S3 would write it.
//
// Input: byte 0 selects the decoder (mod 4):
//   0  xml_values with the tag named by byte 1 (mod the tags below), then
//      error_code, upload_id and reports_error on the same text;
//   1  an error reply with HTTP status 400 + byte 1 (400..655), through
//      describe_failure;
//   2  a ListObjectsV2 page under the base "pre/" + byte 1 (mod 4) letters;
//   3  a ListObjectsV2 page under no base;
// the rest (from byte 2) is the reply.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"
#include "storage/s3_http.h"
#include "storage/s3_xml.h"

namespace {

using namespace baton;
using namespace baton::storage;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The text as S3 writes it inside an element (XML escaping).
std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string element(std::string_view tag, std::string_view text) {
  return "<" + std::string(tag) + ">" + escaped(text) + "</" + std::string(tag) + ">";
}

constexpr std::string_view kTags[] = {"Key", "Code", "UploadId", "Size", "ETag", "Contents"};

void values_and_replies(std::string_view tag, std::string_view xml) {
  const auto values = s3::xml_values(xml, tag);
  // What was read, written back escaped, reads back the same.
  std::string again;
  for (const auto& v : values) again += element(tag, v);
  check(s3::xml_values(again, tag) == values);
  // Decoding never lengthens a value, and the values come from disjoint
  // parts of the reply.
  std::size_t total = 0;
  for (const auto& v : values) total += v.size();
  check(total <= xml.size());

  const auto codes = s3::xml_values(xml, "Code");
  check(s3::error_code(xml) == (codes.empty() ? std::string() : codes.front()));
  const auto ids = s3::xml_values(xml, "UploadId");
  check(s3::upload_id(xml) == (ids.empty() ? std::string() : ids.front()));
  check(s3::reports_error(xml) == (xml.find("<Error>") != std::string_view::npos));
}

void error_reply(long status, std::string_view body) {
  S3Options options;
  options.bucket = "fuzz";
  s3::HttpResponse response;
  response.status = status;
  response.body = std::string(body);
  const Error e = s3::describe_failure(response, options, "GET fuzz");
  check(!e.message.empty());
  const auto code = static_cast<StoreErrc>(e.code);
  if (s3::error_code(body) == "NoSuchBucket") {
    check(code == StoreErrc::no_bucket);
  } else if (status == 403) {
    check(code == StoreErrc::access_denied);
  } else if (status == 404) {
    check(code == StoreErrc::not_found);
  } else if (status >= 500 || status == 429) {
    check(code == StoreErrc::unavailable);
  } else {
    check(code == StoreErrc::bad_response);
  }
}

void list_page(std::string_view base, std::string_view xml) {
  auto page = s3::parse_list_page(xml, base);
  if (!page.ok()) {
    check(page.error().code == static_cast<int>(StoreErrc::bad_response));
    return;
  }
  std::size_t key_bytes = 0;
  for (const auto& o : page->objects) key_bytes += o.key.size() + base.size();
  check(key_bytes <= xml.size());
  // The page written back as S3 writes one reads back the same.
  std::string again = "<ListBucketResult>";
  if (!page->next_token.empty()) {
    again += "<IsTruncated>true</IsTruncated>";
    again += element("NextContinuationToken", page->next_token);
  }
  for (const auto& o : page->objects) {
    again += "<Contents>" + element("Key", std::string(base) + o.key) +
             element("Size", std::to_string(o.size)) + element("ETag", o.etag) + "</Contents>";
  }
  again += "</ListBucketResult>";
  auto back = s3::parse_list_page(again, base);
  check(back.ok());
  check(back->next_token == page->next_token);
  check(back->objects.size() == page->objects.size());
  for (std::size_t i = 0; i < back->objects.size(); ++i) {
    check(back->objects[i].key == page->objects[i].key);
    check(back->objects[i].size == page->objects[i].size);
    check(back->objects[i].etag == page->objects[i].etag);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view reply(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[0] % 4) {
    case 0:
      values_and_replies(kTags[data[1] % std::size(kTags)], reply);
      break;
    case 1:
      error_reply(400 + data[1], reply);
      break;
    case 2:
      list_page(std::string("pre/") + std::string(data[1] % 4, 'a'), reply);
      break;
    case 3:
      list_page("", reply);
      break;
  }
  return 0;
}
