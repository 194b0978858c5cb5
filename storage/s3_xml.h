// The S3 XML replies the object store reads: error replies, the
// InitiateMultipartUpload and CompleteMultipartUpload results and
// ListObjectsV2 pages. Internal to storage/ (used by s3_http.cpp and
// s3_store.cpp); not part of the public API.
//
// The endpoint is someone else's server (a cloud provider's, or one a
// consortium member runs), so every reply is untrusted text: these functions
// are pure, accept any bytes, never abort, and allocate at most a constant
// times the reply's size. They are not an XML parser: they find
// <Tag>...</Tag> pairs by text and decode the five predefined entities, which
// is all S3's flat replies need. tests/fuzz/s3_xml_fuzz.cpp fuzzes each one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chain/result.h"
#include "storage/object_store.h"

namespace baton::storage::s3 {

// Text of every <tag>...</tag> element in `xml`, in order, entity-decoded
// (&amp; &lt; &gt; &quot; &apos;; any other '&' is kept as it is). An opening
// tag with no closing tag after it ends the search.
std::vector<std::string> xml_values(std::string_view xml, std::string_view tag);

// The first <Code> of an error reply (<Error><Code>NoSuchBucket</Code>...);
// empty when there is none.
std::string error_code(std::string_view xml);

// The first <UploadId> of an InitiateMultipartUploadResult; empty when there
// is none (the caller refuses an empty one).
std::string upload_id(std::string_view xml);

// Whether a CompleteMultipartUpload reply reports an error in its body (S3
// may answer 200 and still fail the upload: the body is then an <Error>).
bool reports_error(std::string_view xml);

// One page of a ListObjectsV2 reply.
struct ListPage {
  // Each <Contents> entry whose first <Key> starts with `base`, in reply
  // order, with `base` removed from the key; size from its first <Size> (0
  // when there is none), etag from its first <ETag> (empty when none).
  std::vector<ObjectInfo> objects;
  // The <NextContinuationToken> when <IsTruncated> is "true"; empty when this
  // is the last page (or the reply says truncated without a token).
  std::string next_token;
};

// Parses one ListObjectsV2 page. Error (StoreErrc::bad_response): an entry
// under `base` whose Size is not a number.
Result<ListPage> parse_list_page(std::string_view xml, std::string_view base);

}  // namespace baton::storage::s3
