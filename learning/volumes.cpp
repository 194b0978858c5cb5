#include "learning/volumes.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <system_error>

#include "learning/csv.h"

namespace baton::learning {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kFixedPreamble = 10;  // magic, version, u16 HLEN
constexpr std::size_t kMaxRank = 8;

std::string py_quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

std::string shape_text(std::span<const int> shape) {
  std::vector<std::int64_t> wide(shape.begin(), shape.end());
  return shape_text(wide);
}

void swap_bytes_if_big_endian(std::span<float> values) {
  if constexpr (std::endian::native == std::endian::big) {
    for (float& v : values) {
      auto u = std::bit_cast<std::uint32_t>(v);
      u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
      v = std::bit_cast<float>(u);
    }
  }
}

// A reader of numpy's header dict: a Python literal with string keys, string,
// boolean and integer-tuple values. Nothing else is accepted.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view source) : t_(text), source_(source) {}

  Result<NpyHeader> parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    if (!eat('{')) return fail("does not start with '{'");
    for (;;) {
      skip_space();
      if (eat('}')) break;
      auto key = string_literal();
      if (!key) return key.error();
      skip_space();
      if (!eat(':')) return fail("has no ':' after the key " + py_quoted(*key));
      skip_space();
      if (*key == "descr") {
        if (have_descr) return fail("names 'descr' twice");
        have_descr = true;
        auto d = string_literal();
        if (!d) return d.error();
        if (*d != "<f4") {
          return fail("has dtype " + py_quoted(*d) +
                      "; volumes must be little-endian float32 ('<f4'): save them with "
                      "numpy.save(path, volume.astype('<f4'))");
        }
      } else if (*key == "fortran_order") {
        if (have_order) return fail("names 'fortran_order' twice");
        have_order = true;
        if (word("True")) {
          return fail(
              "holds a Fortran-order array; volumes must be in C order "
              "(numpy.ascontiguousarray before saving)");
        }
        if (!word("False")) return fail("has a 'fortran_order' that is neither True nor False");
      } else if (*key == "shape") {
        if (have_shape) return fail("names 'shape' twice");
        have_shape = true;
        auto s = shape_tuple();
        if (!s) return s.error();
        h.shape = std::move(*s);
      } else {
        return fail("has an unknown key " + py_quoted(*key));
      }
      skip_space();
      if (eat(',')) continue;
      skip_space();
      if (eat('}')) break;
      return fail("has no ',' or '}' after the value of " + py_quoted(*key));
    }
    skip_space();
    if (pos_ != t_.size()) return fail("has text after the closing '}'");
    if (!have_descr || !have_order || !have_shape)
      return fail("lacks one of the keys 'descr', 'fortran_order' and 'shape'");
    std::size_t values = 1;
    for (std::int64_t d : h.shape) values *= static_cast<std::size_t>(d);  // bounded below
    h.values = values;
    return h;
  }

 private:
  Error fail(const std::string& what) const {
    return make_error(std::string(source_) + ": the .npy header " + what);
  }
  void skip_space() {
    while (pos_ < t_.size() &&
           (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < t_.size() && t_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    if (t_.substr(pos_, w.size()) != w) return false;
    const std::size_t end = pos_ + w.size();
    if (end < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[end])) || t_[end] == '_'))
      return false;
    pos_ = end;
    return true;
  }
  Result<std::string> string_literal() {
    if (pos_ >= t_.size() || (t_[pos_] != '\'' && t_[pos_] != '"'))
      return fail("has a key or value that is not a quoted string where one is needed");
    const char q = t_[pos_++];
    const std::size_t start = pos_;
    while (pos_ < t_.size() && t_[pos_] != q) {
      if (t_[pos_] == '\\' || t_[pos_] == '\n')
        return fail("has an escape or line break in a string");
      ++pos_;
    }
    if (pos_ >= t_.size()) return fail("has an unterminated string");
    std::string s(t_.substr(start, pos_ - start));
    ++pos_;
    return s;
  }
  Result<std::vector<std::int64_t>> shape_tuple() {
    if (!eat('(')) return fail("has a 'shape' that is not a tuple");
    std::vector<std::int64_t> dims;
    std::size_t product = 1;
    bool comma_after_last = false;
    for (;;) {
      skip_space();
      if (eat(')')) break;
      std::int64_t d = 0;
      std::size_t digits = 0;
      while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') {
        if (++digits > 12) return fail("has a dimension too large for a volume");
        d = d * 10 + (t_[pos_] - '0');
        ++pos_;
      }
      if (digits == 0) return fail("has a 'shape' entry that is not a non-negative integer");
      if (d < 1) return fail("has a dimension 0: a volume must hold at least one value");
      if (dims.size() == kMaxRank) return fail("has more than 8 dimensions");
      dims.push_back(d);
      if (static_cast<std::size_t>(d) > kMaxVolumeValues / product) {
        return fail("describes an array of more than " + std::to_string(kMaxVolumeValues) +
                    " values, the limit for one volume");
      }
      product *= static_cast<std::size_t>(d);
      skip_space();
      comma_after_last = eat(',');
      if (comma_after_last) continue;
      skip_space();
      if (eat(')')) break;
      return fail("has a malformed 'shape' tuple");
    }
    if (dims.empty()) return fail("has the empty shape (): a volume is not a scalar");
    if (dims.size() == 1 && !comma_after_last) return fail("has a 'shape' that is not a tuple");
    return dims;
  }

  std::string_view t_;
  std::string_view source_;
  std::size_t pos_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Opens `file` and parses its preamble; the stream is left at the values.
Result<NpyHeader> open_npy(const fs::path& file, File& handle) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    return make_error(file.string() + " is a directory, not a .npy file");
  handle.reset(std::fopen(file.c_str(), "rb"));
  if (!handle) {
    return make_error("cannot read the volume " + file.string() + ": " +
                      std::generic_category().message(errno));
  }
  std::string pre(kFixedPreamble, '\0');
  const std::size_t got = std::fread(pre.data(), 1, pre.size(), handle.get());
  pre.resize(got);
  if (pre.size() < kFixedPreamble || pre.substr(0, kMagic.size()) != kMagic) {
    return make_error(file.string() + " is not a NumPy .npy file (it does not start with " +
                      "the magic \\x93NUMPY)");
  }
  const std::size_t hlen = static_cast<unsigned char>(pre[8]) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(pre[9])) << 8);
  if (static_cast<unsigned char>(pre[6]) == 1 && pre[7] == 0 && hlen <= kMaxNpyHeaderBytes) {
    pre.resize(kFixedPreamble + hlen);
    const std::size_t n = std::fread(pre.data() + kFixedPreamble, 1, hlen, handle.get());
    pre.resize(kFixedPreamble + n);
  }
  return parse_npy_header(pre, file.string());
}

}  // namespace

std::string npy_preamble(std::span<const int> shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  // numpy pads so that magic + version + HLEN + header is a multiple of 64.
  const std::size_t unpadded = kFixedPreamble + dict.size() + 1;
  const std::size_t padded = (unpadded + 63) / 64 * 64;
  dict.append(padded - unpadded, ' ');
  dict += '\n';
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

Status write_npy(const fs::path& file, std::span<const int> shape, std::span<const float> values) {
  std::size_t count = 1;
  for (int d : shape) {
    if (d < 1) std::abort();  // precondition
    count *= static_cast<std::size_t>(d);
  }
  if (shape.empty() || count != values.size()) std::abort();  // precondition
  const std::string preamble = npy_preamble(shape);
  const fs::path tmp = file.string() + ".tmp";
  {
    File out(std::fopen(tmp.c_str(), "wb"));
    if (!out) {
      return make_error("cannot write " + tmp.string() + ": " +
                        std::generic_category().message(errno));
    }
    bool ok = std::fwrite(preamble.data(), 1, preamble.size(), out.get()) == preamble.size();
    if constexpr (std::endian::native == std::endian::big) {
      std::vector<float> le(values.begin(), values.end());
      swap_bytes_if_big_endian(le);
      ok = ok && std::fwrite(le.data(), sizeof(float), le.size(), out.get()) == le.size();
    } else {
      ok = ok &&
           std::fwrite(values.data(), sizeof(float), values.size(), out.get()) == values.size();
    }
    ok = std::fflush(out.get()) == 0 && ok;
    if (!ok) return make_error("cannot write " + tmp.string() + " (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec)
    return make_error("cannot rename " + tmp.string() + " to " + file.string() + ": " +
                      ec.message());
  return {};
}

Result<NpyHeader> parse_npy_header(std::string_view bytes, std::string_view source) {
  const std::string src(source);
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    return make_error(src +
                      " is not a NumPy .npy file (it does not start with the magic \\x93NUMPY)");
  if (bytes.size() < kFixedPreamble) return make_error(src + " ends inside the .npy preamble");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (major != 1 || minor != 0) {
    return make_error(
        src + " is a .npy file of format version " + std::to_string(major) + "." +
        std::to_string(minor) +
        "; volumes must use version 1.0 (numpy.save writes it for headers under 64 KiB)");
  }
  const std::size_t hlen = static_cast<unsigned char>(bytes[8]) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  if (hlen > kMaxNpyHeaderBytes) {
    return make_error(src + " has a .npy header of " + std::to_string(hlen) + " bytes; at most " +
                      std::to_string(kMaxNpyHeaderBytes) + " are accepted");
  }
  if (bytes.size() < kFixedPreamble + hlen) {
    return make_error(src + " ends inside its .npy header (" + std::to_string(hlen) +
                      " bytes announced, " + std::to_string(bytes.size() - kFixedPreamble) +
                      " present)");
  }
  auto h = HeaderParser(bytes.substr(kFixedPreamble, hlen), source).parse();
  if (!h) return h;
  h->data_offset = kFixedPreamble + hlen;
  return h;
}

Status read_npy_into(const fs::path& file, std::span<const int> expected_shape,
                     std::span<float> out) {
  File f;
  auto h = open_npy(file, f);
  if (!h) return h.error();
  const bool same = h->shape.size() == expected_shape.size() &&
                    std::equal(h->shape.begin(), h->shape.end(), expected_shape.begin());
  if (!same) {
    return make_error(file.string() + " holds a volume of shape " + shape_text(h->shape) +
                      ", but the model takes " + shape_text(expected_shape));
  }
  if (out.size() != h->values) std::abort();  // precondition: out sized for expected_shape
  const std::size_t got = std::fread(out.data(), sizeof(float), out.size(), f.get());
  if (got != out.size()) {
    return make_error(file.string() + " is truncated: it holds " + std::to_string(got) +
                      " of the " + std::to_string(out.size()) +
                      " float32 values its header announces");
  }
  if (std::fgetc(f.get()) != EOF) {
    return make_error(file.string() + " has bytes after the " + std::to_string(out.size()) +
                      " values its header announces; it is not a single .npy array");
  }
  swap_bytes_if_big_endian(out);
  return {};
}

Result<NpyArray> read_npy(const fs::path& file) {
  File f;
  auto h = open_npy(file, f);
  if (!h) return h.error();
  NpyArray a;
  a.shape.assign(h->shape.begin(), h->shape.end());
  f.reset();
  a.values.resize(h->values);
  if (auto s = read_npy_into(file, a.shape, a.values); !s) return s.error();
  return a;
}

Result<Dataset> load_volume_manifest(const fs::path& manifest, const VolumeManifestSchema& schema) {
  auto csv = read_csv_file(manifest);
  if (!csv) return csv.error();
  const std::string name = manifest.string();
  const int vcol = csv->column_index(schema.volume_column);
  if (vcol < 0)
    return make_error(name + " has no column '" + schema.volume_column + "' of volume paths",
                      static_cast<int>(DataErrc::column_missing));
  const int lcol = csv->column_index(schema.label_column);
  if (lcol < 0) {
    return make_error(name + " has no label column '" + schema.label_column + "'",
                      static_cast<int>(DataErrc::column_missing));
  }
  if (csv->rows.empty()) return make_error(name + " lists no volumes");
  std::size_t features = 1;
  for (int d : schema.shape) {
    if (d < 1)
      return make_error("the model's input shape " + shape_text(schema.shape) +
                        " is not a volume shape");
    if (static_cast<std::size_t>(d) > kMaxVolumeValues / features)
      return make_error("the model's input shape " + shape_text(schema.shape) + " is too large");
    features *= static_cast<std::size_t>(d);
  }
  if (schema.shape.empty()) return make_error("the model has no input shape");

  Dataset data;
  data.rows = csv->rows.size();
  data.features = features;
  data.image_shape = schema.shape;
  try {
    data.x.resize(data.rows * features);
  } catch (const std::bad_alloc&) {
    return make_error(name + " lists " + std::to_string(data.rows) +
                      " volumes, more than this machine's memory holds");
  }
  data.y.resize(data.rows);
  std::set<std::string> labels;
  const fs::path base = manifest.parent_path();
  for (std::size_t r = 0; r < data.rows; ++r) {
    const auto& row = csv->rows[r];
    const std::string where = name + " line " + std::to_string(csv->line_of_row[r]);
    const std::string& cell = row[static_cast<std::size_t>(vcol)];
    const std::string& label = row[static_cast<std::size_t>(lcol)];
    if (cell.empty()) return make_error(where + " has no volume path");
    if (label.empty()) return make_error(where + " has no label");
    const fs::path p(cell);
    const fs::path file = p.is_absolute() ? p : base / p;
    std::span<float> dst(data.x.data() + r * features, features);
    if (auto s = read_npy_into(file, schema.shape, dst); !s)
      return make_error(where + ": " + s.error().message);
    data.y[r] = label == schema.positive_value ? 1 : 0;
    labels.insert(label);
  }
  labels.erase(schema.positive_value);
  data.class_names = {labels.size() == 1 ? *labels.begin() : "not " + schema.positive_value,
                      schema.positive_value};
  return data;
}

}  // namespace baton::learning
