#include "node/console_html.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace baton::node::console {
namespace {

using nlohmann::json;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are not).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const std::uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The raw value of `name` in "a=1&b=2" (not decoded); "" when absent.
std::string_view raw_param(std::string_view pairs, std::string_view name) {
  while (!pairs.empty()) {
    const auto amp = pairs.find('&');
    const std::string_view part = pairs.substr(0, amp);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return part.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    pairs = pairs.substr(amp + 1);
  }
  return {};
}

// One class name from a status text: lower-case letters and '_' only.
std::string class_of(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 32)) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) out.push_back(static_cast<char>(std::tolower(u)));
    if (c == '_') out.push_back('_');
  }
  return out.empty() ? "none" : out;
}

constexpr std::string_view kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:8px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;font-weight:600}
header .id{opacity:.8;font-size:12px}
header form{margin-left:auto}
header input[type=text]{width:280px;padding:3px 6px;border:0;border-radius:3px}
main{padding:12px 20px 40px;max-width:1280px}
h1{font-size:20px;margin:10px 0}
h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #d5dae1;padding-bottom:3px}
table{border-collapse:collapse;background:#fff;margin:4px 0 10px;font-size:13px}
th,td{border:1px solid #d5dae1;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
a{color:#1b5fae}
.tag{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e4e7ec}
.tag-approved,.tag-finished,.tag-approve,.tag-no,.tag-connected,.tag-ok{background:#d4f1dc;color:#135c2a}
.tag-rejected,.tag-reject,.tag-expired,.tag-halted,.tag-abandoned,.tag-round_failed,.tag-unfunded,.tag-disconnected,.tag-cancelled{background:#fbdada;color:#8a1c1c}
.tag-active,.tag-pending,.tag-training,.tag-save_voting,.tag-load_voting,.tag-preparing{background:#dde9fb;color:#1b4a8a}
.muted{color:#69717d}
.more td{color:#69717d;font-style:italic}
.kv th{width:200px}
.warn{background:#fff3cd;border:1px solid #e6cf7a;padding:6px 10px}
.pager a{margin-right:14px}
svg{background:#fff;border:1px solid #d5dae1}
)";

}  // namespace

std::string escape(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    if (max_chars > 0 && i >= max_chars) {
      out += "\xE2\x80\xA6";  // …
      break;
    }
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '`':
        out += "&#96;";
        break;
      case '\t':
      case '\n':
        out.push_back(c);
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += kReplacement;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string url_component(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (unreserved(u)) {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  return url_decode(raw_param(target.substr(q + 1), name));
}

std::string form_param(std::string_view body, std::string_view name) {
  return url_decode(raw_param(body, name));
}

std::string compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string text_of(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return compact(*it);
}

std::string ppm_text(std::int64_t ppm, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, static_cast<double>(ppm) / 1e6);
  return buf;
}

std::string short_hash(std::string_view hex) {
  if (hex.empty()) return "\xE2\x80\x94";  // —
  return std::string(hex.substr(0, 12));
}

std::string link(std::string_view href, std::string_view text) {
  return "<a href=\"" + escape(href, 0) + "\">" + escape(text) + "</a>";
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, std::size_t max_rows) {
  std::string out = "<table><tr>";
  for (const auto& h : header) out += "<th>" + escape(h) + "</th>";
  out += "</tr>\n";
  const std::size_t shown = std::min(rows.size(), max_rows);
  for (std::size_t r = 0; r < shown; ++r) {
    out += "<tr>";
    for (const auto& cell : rows[r]) out += "<td>" + cell + "</td>";
    out += "</tr>\n";
  }
  if (rows.size() > shown) {
    out += "<tr class=\"more\"><td colspan=\"" + std::to_string(header.size()) + "\">" +
           std::to_string(rows.size() - shown) + " more</td></tr>\n";
  }
  if (rows.empty()) {
    out +=
        "<tr class=\"more\"><td colspan=\"" + std::to_string(header.size()) + "\">none</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string tag(std::string_view text) {
  return "<span class=\"tag tag-" + class_of(text) + "\">" + escape(text, 64) + "</span>";
}

std::string page(std::string_view title, std::string_view node_name, std::string_view chain_id,
                 std::string_view body) {
  std::string out;
  out.reserve(body.size() + 4096);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<title>" + escape(title, 120) + " \xE2\x80\x94 Baton</title>";
  out += "<style>";
  out += kStyle;
  out += "</style></head><body>\n<header><a href=\"/console/\">Baton</a>";
  out += "<span class=\"id\">" + escape(node_name, 80) + " &middot; " + escape(chain_id, 80) +
         "</span>";
  out += "<a href=\"/console/blocks\">Blocks</a><a href=\"/console/members\">Members</a>";
  out += "<a href=\"/console/runs\">Runs</a>";
  out +=
      "<form method=\"get\" action=\"/console/search\"><input type=\"text\" name=\"q\" "
      "placeholder=\"height, block or tx hash, run id\" aria-label=\"search\"> "
      "<input type=\"submit\" value=\"Search\"></form>";
  out += "<a href=\"/console/logout\" class=\"id\">log out</a></header>\n<main>\n";
  out += body;
  out += "\n</main></body></html>\n";
  return out;
}

}  // namespace baton::node::console
