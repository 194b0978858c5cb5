// The web console's HTML pieces (node/console.h): escaping, the page frame
// with its one embedded stylesheet, tables, links, and the bounds every page
// keeps. Pure: text in, text out.
//
// Every string that comes from the ledger (member names, reasons, details,
// metrics_json, run ids, notes) or from a request (a query string) is
// hostile: it reaches the page only through escape() (text and quoted
// attribute contexts alike) or url_component() inside an attribute. Bytes that
// are not UTF-8, and control characters, become U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace baton::node::console {

// Longest text of one ledger string shown (longer: cut, with "…").
inline constexpr std::size_t kMaxShownChars = 300;
// Rows of one list shown before "n more".
inline constexpr std::size_t kMaxListRows = 100;

// `text` safe in HTML text and in a double- or single-quoted attribute:
// & < > " ' ` escaped; invalid UTF-8 and control characters (but tab and
// newline) replaced by U+FFFD. Cut to `max_chars` bytes (at a character
// boundary) plus "…" when longer; 0: not cut.
std::string escape(std::string_view text, std::size_t max_chars = kMaxShownChars);
// Percent-encodes everything but [A-Za-z0-9._~-]: a path segment or query
// value inside an href (still pass the result through escape()).
std::string url_component(std::string_view text);
// Percent-decodes (and '+' as a space, as forms send); nullopt-like "" when
// malformed is not distinguished: a bad escape is kept as sent.
std::string url_decode(std::string_view text);
// The decoded value of `name` in a target's query string ("" when absent).
std::string query_param(std::string_view target, std::string_view name);
// The decoded value of `name` in an application/x-www-form-urlencoded body.
std::string form_param(std::string_view body, std::string_view name);

// `value` of a JSON object member as text for a cell: strings as they are,
// numbers and booleans printed, objects and arrays as compact JSON; "" when
// absent or null. Not escaped.
std::string text_of(const nlohmann::json& object, std::string_view key);
// Compact JSON of any value, invalid UTF-8 replaced. Not escaped.
std::string compact(const nlohmann::json& value);
// A ppm integer as a decimal fraction: 812345 -> "0.8123". Not escaped.
std::string ppm_text(std::int64_t ppm, int decimals = 4);
// The first 12 hex characters of a hash, "—" when empty.
std::string short_hash(std::string_view hex);

// <a href="HREF">TEXT</a>: href must already be safe (built from
// url_component); text is escaped here.
std::string link(std::string_view href, std::string_view text);
// A table: header cells (escaped here) and rows of cells that are already
// HTML. At most kMaxListRows rows are shown; the rest are counted in a
// "n more" row.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  std::size_t max_rows = kMaxListRows);
// <span class="tag tag-CLASS">TEXT</span> for a status or outcome: the class
// is derived from the text (letters only), so new values show up unstyled.
std::string tag(std::string_view text);

// The whole page: doctype, title (escaped), the stylesheet, the navigation
// (node name and chain id, escaped), a search box, and `body` (HTML).
std::string page(std::string_view title, std::string_view node_name, std::string_view chain_id,
                 std::string_view body);

}  // namespace baton::node::console
