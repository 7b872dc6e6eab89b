#include "arrow_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "big_number.hpp"
#include "canonical.hpp"

namespace sqlrl {

namespace {

enum class T {
  Null, Bool, I8, I16, I32, I64, U8, U16, U32, U64, Half, F32, F64,
  Utf8, LargeUtf8, Utf8View, Binary, LargeBinary, BinaryView, FixedBinary,
  Decimal, Date32, Date64, Time32, Time64, Timestamp, Duration,
  IntervalMonths, IntervalDayTime, IntervalMonthDayNano,
  List, LargeList, ListView, LargeListView, FixedList, Struct, Map, SparseUnion, DenseUnion, RunEnd
};

// Extension types whose storage alone does not tell the value: the canonical arrow.uuid and
// arrow.bool8 (DuckDB's BOOLEAN with arrow_lossless_conversion), and the
// types DuckDB exports as arrow.opaque (always for BIGNUM/VARINT; for HUGEINT, UHUGEINT, TIMETZ and
// BIT with its setting arrow_lossless_conversion).
enum class Ext { None, Uuid, Bool8, HugeInt, UHugeInt, TimeTz, Bit, Bignum };

struct View {
  T type = T::Null;
  Ext ext = Ext::None;
  const ArrowSchema* schema = nullptr;
  const ArrowArray* array = nullptr;
  int width = 0;  // FixedBinary bytes, FixedList size
  int dec_scale = 0, dec_bits = 128;
  int64_t unit_per_sec = 1;
  bool has_tz = false;
  bool has_validity = true;  // unions and run-end encoded arrays have no validity bitmap
  bool is_dict = false;
  std::vector<View> children;
  std::unique_ptr<View> dict;  // dictionary values when is_dict
  T index_type = T::I32;
  std::vector<int> union_child;  // union type id (0..127) -> child index, or -1

  bool valid(int64_t i) const {
    if (!has_validity) return true;
    const auto* bits = static_cast<const uint8_t*>(array->buffers[0]);
    if (array->null_count == 0 || bits == nullptr) return true;
    const int64_t k = i + array->offset;
    return (bits[k >> 3] >> (k & 7)) & 1;
  }
  template <class V>
  V value(int64_t i, int buf = 1) const {
    V x;
    std::memcpy(&x, static_cast<const char*>(array->buffers[buf]) + (i + array->offset) * sizeof(V), sizeof(V));
    return x;
  }
};

T parse_int_format(char c) {
  switch (c) {
    case 'c': return T::I8;
    case 'C': return T::U8;
    case 's': return T::I16;
    case 'S': return T::U16;
    case 'i': return T::I32;
    case 'I': return T::U32;
    case 'l': return T::I64;
    case 'L': return T::U64;
  }
  throw std::invalid_argument("unsupported Arrow dictionary index type");
}

// The value of `key` in an Arrow schema's metadata (int32 count, then int32-length-prefixed keys
// and values), or empty.
std::string_view metadata_value(const char* md, std::string_view key) {
  if (md == nullptr) return {};
  auto read_i32 = [&md]() {
    int32_t v;
    std::memcpy(&v, md, 4);
    md += 4;
    return v;
  };
  const int32_t n = read_i32();
  for (int32_t k = 0; k < n; ++k) {
    const int32_t klen = read_i32();
    const std::string_view name(md, static_cast<size_t>(std::max(klen, 0)));
    md += std::max(klen, 0);
    const int32_t vlen = read_i32();
    const std::string_view val(md, static_cast<size_t>(std::max(vlen, 0)));
    md += std::max(vlen, 0);
    if (name == key) return val;
  }
  return {};
}

Ext parse_extension(const ArrowSchema* s) {
  const std::string_view name = metadata_value(s->metadata, "ARROW:extension:name");
  if (name.empty()) return Ext::None;
  if (name == "arrow.uuid") return Ext::Uuid;
  if (name == "arrow.bool8") return Ext::Bool8;
  if (name != "arrow.opaque") return Ext::None;
  // arrow.opaque's metadata is JSON: {"type_name": "...", "vendor_name": "DuckDB"}.
  const std::string_view md = metadata_value(s->metadata, "ARROW:extension:metadata");
  if (md.find("DuckDB") == std::string_view::npos) return Ext::None;
  auto is = [&md](const char* type) {
    const std::string quoted = std::string("\"") + type + "\"";
    const size_t at = md.find("type_name");
    return at != std::string_view::npos && md.find(quoted, at) != std::string_view::npos;
  };
  if (is("uhugeint")) return Ext::UHugeInt;
  if (is("hugeint")) return Ext::HugeInt;
  if (is("time_tz")) return Ext::TimeTz;
  if (is("bit")) return Ext::Bit;
  if (is("bignum") || is("varint")) return Ext::Bignum;
  return Ext::None;
}

void need(const View& v, int64_t buffers, int64_t children, const std::string& f) {
  if (v.array->n_buffers < buffers || v.array->n_children < children || v.schema->n_children < children)
    throw std::invalid_argument("malformed Arrow array of type '" + f + "' in column '" +
                                std::string(v.schema->name ? v.schema->name : "") + "'");
}

void bind(View& v, const ArrowSchema* s, const ArrowArray* a) {
  v.schema = s;
  v.array = a;
  const std::string f = s->format ? s->format : "";
  if (s->dictionary != nullptr) {
    v.is_dict = true;
    v.index_type = parse_int_format(f.empty() ? 'i' : f[0]);
    need(v, 2, 0, f);
    if (a->dictionary == nullptr) throw std::invalid_argument("Arrow dictionary array without dictionary values");
    v.dict = std::make_unique<View>();
    bind(*v.dict, s->dictionary, a->dictionary);
    return;
  }
  auto unsupported = [&]() {
    return std::invalid_argument("unsupported Arrow type format '" + f + "' in column '" +
                                 std::string(s->name ? s->name : "") + "'");
  };
  auto bind_children = [&](int64_t n) {
    if (s->n_children != a->n_children) throw std::invalid_argument("Arrow schema/array child count mismatch");
    need(v, 0, n, f);
    v.children.resize(static_cast<size_t>(s->n_children));
    for (int64_t k = 0; k < s->n_children; ++k) bind(v.children[static_cast<size_t>(k)], s->children[k], a->children[k]);
  };
  if (f.size() == 1) {
    switch (f[0]) {
      case 'n': v.type = T::Null; v.has_validity = false; return;
      case 'b': v.type = T::Bool; need(v, 2, 0, f); return;
      case 'c': case 'C': case 's': case 'S': case 'i': case 'I': case 'l': case 'L':
        v.type = parse_int_format(f[0]);
        need(v, 2, 0, f);
        if (f[0] == 'c' && parse_extension(s) == Ext::Bool8) v.ext = Ext::Bool8;
        return;
      case 'e': v.type = T::Half; need(v, 2, 0, f); return;
      case 'f': v.type = T::F32; need(v, 2, 0, f); return;
      case 'g': v.type = T::F64; need(v, 2, 0, f); return;
      case 'u': v.type = T::Utf8; need(v, 3, 0, f); return;
      case 'U': v.type = T::LargeUtf8; need(v, 3, 0, f); return;
      case 'z': v.type = T::Binary; need(v, 3, 0, f); v.ext = parse_extension(s); return;
      case 'Z': v.type = T::LargeBinary; need(v, 3, 0, f); v.ext = parse_extension(s); return;
    }
    throw unsupported();
  }
  if (f == "_pli128" || f == "_plu128") {  // polars' Int128 / UInt128: 16-byte little-endian integers
    v.type = T::FixedBinary;
    v.width = 16;
    v.ext = f == "_pli128" ? Ext::HugeInt : Ext::UHugeInt;
    need(v, 2, 0, f);
    return;
  }
  if (f == "vu") { v.type = T::Utf8View; need(v, 2, 0, f); return; }
  if (f == "vz") { v.type = T::BinaryView; need(v, 2, 0, f); v.ext = parse_extension(s); return; }
  if (f.rfind("w:", 0) == 0) {
    v.type = T::FixedBinary;
    v.width = std::stoi(f.substr(2));
    need(v, 2, 0, f);
    v.ext = parse_extension(s);
    const int want = v.ext == Ext::Uuid || v.ext == Ext::HugeInt || v.ext == Ext::UHugeInt ? 16
                     : v.ext == Ext::TimeTz                                                 ? 8
                                                                                            : v.width;
    if (v.ext == Ext::Bit || v.ext == Ext::Bignum || want != v.width) v.ext = Ext::None;
    return;
  }
  if (f.rfind("d:", 0) == 0) {
    v.type = T::Decimal;
    int p = 0, sc = 0, bits = 128;
    const int n = std::sscanf(f.c_str() + 2, "%d,%d,%d", &p, &sc, &bits);
    if (n < 2) throw unsupported();
    if (bits != 128 && bits != 256 && bits != 64 && bits != 32) throw unsupported();
    v.dec_scale = sc;
    v.dec_bits = bits;
    need(v, 2, 0, f);
    return;
  }
  if (f == "tdD") { v.type = T::Date32; need(v, 2, 0, f); return; }
  if (f == "tdm") { v.type = T::Date64; need(v, 2, 0, f); return; }
  if (f == "tts" || f == "ttm") { v.type = T::Time32; v.unit_per_sec = f[2] == 's' ? 1 : 1000; need(v, 2, 0, f); return; }
  if (f == "ttu" || f == "ttn") {
    v.type = T::Time64;
    v.unit_per_sec = f[2] == 'u' ? 1000000 : 1000000000;
    need(v, 2, 0, f);
    return;
  }
  if ((f.size() >= 4 && f.compare(0, 2, "ts") == 0 && f[3] == ':') || (f.size() == 3 && f.compare(0, 2, "tD") == 0)) {
    v.type = f[1] == 's' ? T::Timestamp : T::Duration;
    switch (f[2]) {
      case 's': v.unit_per_sec = 1; break;
      case 'm': v.unit_per_sec = 1000; break;
      case 'u': v.unit_per_sec = 1000000; break;
      case 'n': v.unit_per_sec = 1000000000; break;
      default: throw unsupported();
    }
    v.has_tz = f[1] == 's' && f.size() > 4;
    need(v, 2, 0, f);
    return;
  }
  if (f == "tiM") { v.type = T::IntervalMonths; need(v, 2, 0, f); return; }
  if (f == "tiD") { v.type = T::IntervalDayTime; need(v, 2, 0, f); return; }
  if (f == "tin") { v.type = T::IntervalMonthDayNano; need(v, 2, 0, f); return; }
  if (f == "+l" || f == "+L") { v.type = f == "+l" ? T::List : T::LargeList; need(v, 2, 1, f); bind_children(1); return; }
  if (f == "+vl" || f == "+vL") {
    v.type = f == "+vl" ? T::ListView : T::LargeListView;
    need(v, 3, 1, f);
    bind_children(1);
    return;
  }
  if (f.rfind("+w:", 0) == 0) {
    v.type = T::FixedList;
    v.width = std::stoi(f.substr(3));
    need(v, 1, 1, f);
    bind_children(1);
    return;
  }
  if (f == "+s") { v.type = T::Struct; need(v, 1, 0, f); bind_children(0); return; }
  if (f == "+m") {
    v.type = T::Map;
    need(v, 2, 1, f);
    bind_children(1);
    if (v.children[0].type != T::Struct || v.children[0].children.size() != 2)
      throw std::invalid_argument("Arrow map whose entries are not a struct of key and value");
    return;
  }
  if (f.rfind("+us:", 0) == 0 || f.rfind("+ud:", 0) == 0) {
    v.type = f[2] == 's' ? T::SparseUnion : T::DenseUnion;
    v.has_validity = false;
    need(v, v.type == T::SparseUnion ? 1 : 2, 0, f);
    bind_children(0);
    v.union_child.assign(128, -1);
    size_t at = 4;
    for (size_t child = 0; at <= f.size() && child < v.children.size(); ++child) {
      const size_t comma = std::min(f.find(',', at), f.size());
      const int id = std::stoi(f.substr(at, comma - at));
      if (id < 0 || id > 127) throw unsupported();
      v.union_child[static_cast<size_t>(id)] = static_cast<int>(child);
      at = comma + 1;
    }
    return;
  }
  if (f == "+r") {
    v.type = T::RunEnd;
    v.has_validity = false;
    bind_children(2);
    const T ends = v.children[0].type;
    if (ends != T::I16 && ends != T::I32 && ends != T::I64) throw unsupported();
    return;
  }
  throw unsupported();
}

int64_t int_at(const View& v, int64_t i) {
  switch (v.type) {
    case T::I8: return v.value<int8_t>(i);
    case T::U8: return v.value<uint8_t>(i);
    case T::I16: return v.value<int16_t>(i);
    case T::U16: return v.value<uint16_t>(i);
    case T::I32: return v.value<int32_t>(i);
    case T::U32: return v.value<uint32_t>(i);
    case T::I64: return v.value<int64_t>(i);
    case T::U64: return static_cast<int64_t>(v.value<uint64_t>(i));
    default: return 0;
  }
}

int64_t dict_index(const View& v, int64_t i) {
  View tmp;
  tmp.type = v.index_type;
  tmp.array = v.array;
  return int_at(tmp, i);
}

double half_to_double(uint16_t h) {
  const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double r;
  if (exp == 0) r = std::ldexp(mant, -24);
  else if (exp == 31) r = mant ? NAN : INFINITY;
  else r = std::ldexp(mant + 1024, exp - 25);
  return sign ? -r : r;
}

void string_at(const View& v, int64_t i, const char*& p, size_t& n) {
  const int64_t k = i + v.array->offset;
  switch (v.type) {
    case T::Utf8: case T::Binary: {
      const auto* off = static_cast<const int32_t*>(v.array->buffers[1]);
      p = static_cast<const char*>(v.array->buffers[2]) + off[k];
      n = static_cast<size_t>(off[k + 1] - off[k]);
      return;
    }
    case T::LargeUtf8: case T::LargeBinary: {
      const auto* off = static_cast<const int64_t*>(v.array->buffers[1]);
      p = static_cast<const char*>(v.array->buffers[2]) + off[k];
      n = static_cast<size_t>(off[k + 1] - off[k]);
      return;
    }
    case T::Utf8View: case T::BinaryView: {
      const auto* view = static_cast<const uint8_t*>(v.array->buffers[1]) + 16 * k;
      int32_t len;
      std::memcpy(&len, view, 4);
      n = static_cast<size_t>(len);
      if (len <= 12) {
        p = reinterpret_cast<const char*>(view + 4);
      } else {
        int32_t buf_index, offset;
        std::memcpy(&buf_index, view + 8, 4);
        std::memcpy(&offset, view + 12, 4);
        if (buf_index < 0 || 2 + static_cast<int64_t>(buf_index) >= v.array->n_buffers)
          throw std::invalid_argument("malformed Arrow string view (buffer index out of range)");
        p = static_cast<const char*>(v.array->buffers[2 + buf_index]) + offset;
      }
      return;
    }
    case T::FixedBinary:
      p = static_cast<const char*>(v.array->buffers[1]) + k * v.width;
      n = static_cast<size_t>(v.width);
      return;
    default:
      p = nullptr;
      n = 0;
  }
}

// Little-endian two's-complement bytes of a decimal or a DuckDB (u)hugeint as a sign and magnitude.
BigMagnitude twos_complement(const uint8_t* p, int bytes, bool is_signed) {
  BigMagnitude m;
  m.limbs.assign(static_cast<size_t>((bytes + 7) / 8), 0);
  for (int b = 0; b < bytes; ++b) m.limbs[static_cast<size_t>(b / 8)] |= static_cast<uint64_t>(p[b]) << (8 * (b % 8));
  if (is_signed && bytes < 8 && (p[bytes - 1] & 0x80)) m.limbs[0] |= ~uint64_t{0} << (8 * bytes);  // sign-extend
  if (is_signed && (p[bytes - 1] & 0x80)) {
    m.negative = true;
    uint64_t carry = 1;
    for (auto& w : m.limbs) {  // negate: invert and add one
      w = ~w + carry;
      carry = carry && w == 0;
    }
  }
  m.trim();
  return m;
}

// The child and its logical index that a union or run-end encoded element reads from.
const View& member(const View& v, int64_t i, int64_t& at) {
  const int64_t k = i + v.array->offset;
  if (v.type == T::RunEnd) {
    const View& ends = v.children[0];
    // The first run whose end is past k (run ends are logical positions, strictly increasing).
    int64_t lo = 0, hi = ends.array->length;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (int_at(ends, mid) > k) hi = mid;
      else lo = mid + 1;
    }
    if (lo >= ends.array->length) throw std::invalid_argument("malformed Arrow run-end encoded array");
    at = lo;
    return v.children[1];
  }
  const int8_t id = static_cast<const int8_t*>(v.array->buffers[0])[k];
  const int child = id >= 0 ? v.union_child[static_cast<size_t>(id)] : -1;
  if (child < 0) throw std::invalid_argument("malformed Arrow union array (unknown type id)");
  at = v.type == T::SparseUnion ? k : static_cast<const int32_t*>(v.array->buffers[1])[k];
  return v.children[static_cast<size_t>(child)];
}

// A cell's text or bytes are written to `buf` from offset c.off on.
void read_cell(const View& v, int64_t i, Cell& c, std::string& buf);

void set_text_len(Cell& c, const std::string& buf) {
  const size_t n = buf.size() - c.off;
  if (n > std::numeric_limits<uint32_t>::max()) throw std::invalid_argument("a result cell is larger than 4 GiB");
  c.len = static_cast<uint32_t>(n);
}

// Canonical text of a nested value at logical index i (the array's own offset not yet applied).
void append_nested_text(const View& v, int64_t i, std::string& out);

// [a, b, ...] of child elements [b, e) (logical indices of the child).
void append_list(const View& child, int64_t b, int64_t e, std::string& out) {
  out += '[';
  for (int64_t j = b; j < e; ++j) {
    if (j > b) out += ", ";
    append_nested_text(child, j, out);
  }
  out += ']';
}

// A mapping as its list of [key, value] pairs: how the same value reads from Python rows, where a
// MAP may arrive as a dict (DuckDB) or a list of (key, value) tuples (pyarrow).
void append_pair(std::string& out, std::string_view key_text, const View* key, int64_t kj, const View& val, int64_t vj) {
  out += '[';
  if (key) append_nested_text(*key, kj, out);
  else append_nested_quoted(out, key_text);
  out += ", ";
  append_nested_text(val, vj, out);
  out += ']';
}

void append_nested_text(const View& v, int64_t i, std::string& out) {
  if (v.is_dict) {
    if (!v.valid(i)) out += "None";
    else append_nested_text(*v.dict, dict_index(v, i), out);
    return;
  }
  if (v.type == T::Null || !v.valid(i)) {
    out += "None";
    return;
  }
  const int64_t k = i + v.array->offset;
  switch (v.type) {
    case T::List: {
      const auto* off = static_cast<const int32_t*>(v.array->buffers[1]);
      append_list(v.children[0], off[k], off[k + 1], out);
      return;
    }
    case T::LargeList: {
      const auto* off = static_cast<const int64_t*>(v.array->buffers[1]);
      append_list(v.children[0], off[k], off[k + 1], out);
      return;
    }
    case T::ListView: case T::LargeListView: {
      int64_t b, n;
      if (v.type == T::ListView) {
        b = static_cast<const int32_t*>(v.array->buffers[1])[k];
        n = static_cast<const int32_t*>(v.array->buffers[2])[k];
      } else {
        b = static_cast<const int64_t*>(v.array->buffers[1])[k];
        n = static_cast<const int64_t*>(v.array->buffers[2])[k];
      }
      append_list(v.children[0], b, b + n, out);
      return;
    }
    case T::FixedList:
      append_list(v.children[0], k * v.width, (k + 1) * v.width, out);
      return;
    case T::Struct: {
      out += '[';
      for (size_t f = 0; f < v.children.size(); ++f) {
        if (f) out += ", ";
        const char* nm = v.children[f].schema->name ? v.children[f].schema->name : "";
        append_pair(out, nm, nullptr, 0, v.children[f], k);
      }
      out += ']';
      return;
    }
    case T::Map: {
      const auto* off = static_cast<const int32_t*>(v.array->buffers[1]);
      const View& entries = v.children[0];  // struct<key, value>: its children sit at j + its offset
      out += '[';
      for (int64_t j = off[k]; j < off[k + 1]; ++j) {
        if (j > off[k]) out += ", ";
        const int64_t e = j + entries.array->offset;
        append_pair(out, {}, &entries.children[0], e, entries.children[1], e);
      }
      out += ']';
      return;
    }
    case T::SparseUnion: case T::DenseUnion: case T::RunEnd: {
      int64_t at = 0;
      const View& child = member(v, i, at);
      append_nested_text(child, at, out);
      return;
    }
    default: {
      Cell c;
      std::string text;
      read_cell(v, i, c, text);
      append_nested_cell(out, c, text);
    }
  }
}

void set_int(Cell& c, int64_t x) {
  c.kind = Kind::Int;
  c.py = PyType::Int;
  c.i = x;
}

// An integer beyond int64 as the Python-row reader sees int(x): a float (py type int), or its
// digits when even a double cannot hold it.
void set_big_int(Cell& c, const BigMagnitude& m, std::string& buf) {
  int64_t small;
  if (m.to_int64(small)) {
    set_int(c, small);
    return;
  }
  std::string digits = m.to_decimal();
  if (m.negative) digits.insert(digits.begin(), '-');
  double d;
  if (decimal_to_double(digits, 0, d)) {
    c.kind = Kind::Float;
    c.py = PyType::Int;
    c.f = d;
    return;
  }
  c.kind = Kind::Text;
  c.py = PyType::Int;
  c.off = buf.size();
  buf += digits;
  set_text_len(c, buf);
}

void read_decimal(const View& v, int64_t i, Cell& c, std::string& buf) {
  const int bytes = v.dec_bits / 8;
  const auto* p = static_cast<const uint8_t*>(v.array->buffers[1]) + (i + v.array->offset) * bytes;
  if (bytes == 16 && v.dec_scale >= 0) {  // fast paths: DuckDB's HUGEINT sums and DECIMAL(p, s)
    int64_t lo, hi;
    std::memcpy(&lo, p, 8);
    std::memcpy(&hi, p + 8, 8);
    if (hi == (lo >> 63)) {
      if (v.dec_scale == 0) {
        set_int(c, lo);
        return;
      }
      static const double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
      if (v.dec_scale <= 22 && lo > -(int64_t{1} << 53) && lo < (int64_t{1} << 53)) {
        c.kind = Kind::Float;  // both exact: one correctly rounded division, as float(Decimal) gives
        c.py = PyType::Float;
        c.f = static_cast<double>(lo) / kPow10[v.dec_scale];
        return;
      }
    }
  }
  BigMagnitude m = twos_complement(p, bytes, true);
  if (v.dec_scale <= 0) {  // an integer, as Python's canonical int(Decimal) for exponent >= 0
    for (int s = 0; s < -v.dec_scale; ++s) m.mul_small(10);
    set_big_int(c, m, buf);
    return;
  }
  c.kind = Kind::Float;
  c.py = PyType::Float;
  std::string digits = m.to_decimal();
  if (m.negative) digits.insert(digits.begin(), '-');
  decimal_to_double(digits, -v.dec_scale, c.f);
}

// Micros of a count of `unit_per_sec` units, sub-microseconds dropped toward zero.
__int128 to_micros(int64_t x, int64_t unit_per_sec) {
  if (unit_per_sec == 1000000000) return nanos_to_micros(x);
  return static_cast<__int128>(x) * (kMicrosPerSec / unit_per_sec);
}

void read_duckdb_ext(const View& v, int64_t i, Cell& c, std::string& buf, const char* p, size_t n) {
  switch (v.ext) {
    case Ext::Uuid: {
      static const char* hex = "0123456789abcdef";
      for (size_t b = 0; b < 16; ++b) {
        if (b == 4 || b == 6 || b == 8 || b == 10) buf += '-';
        buf += hex[static_cast<unsigned char>(p[b]) >> 4];
        buf += hex[static_cast<unsigned char>(p[b]) & 15];
      }
      c.kind = Kind::Text;
      c.py = PyType::Other;  // uuid.UUID
      return;
    }
    case Ext::HugeInt: case Ext::UHugeInt:
      set_big_int(c, twos_complement(reinterpret_cast<const uint8_t*>(p), 16, v.ext == Ext::HugeInt), buf);
      return;
    case Ext::TimeTz: {
      // DuckDB's dtime_tz_t: micros since midnight << 24 | (57599 - UTC offset in seconds).
      uint64_t bits;
      std::memcpy(&bits, p, 8);
      const int64_t micros = static_cast<int64_t>(bits >> 24);
      const int64_t offset = 57599 - static_cast<int64_t>(bits & 0xFFFFFF);
      c.kind = Kind::Text;
      if (micros < kMicrosPerDay) {
        append_time_of_day(buf, micros);
        append_utc_offset(buf, offset * kMicrosPerSec);
        c.py = PyType::Time;
      } else {  // 24:00:00: DuckDB's Python client returns its own text
        append_time_of_day(buf, micros);
        const int64_t a = offset < 0 ? -offset : offset;
        char ob[32];
        std::snprintf(ob, sizeof(ob), "%c%02lld", offset < 0 ? '-' : '+', static_cast<long long>(a / 3600));
        buf += ob;
        if (a % 3600 != 0) {
          std::snprintf(ob, sizeof(ob), ":%02lld", static_cast<long long>((a / 60) % 60));
          buf += ob;
        }
        if (a % 60 != 0) {
          std::snprintf(ob, sizeof(ob), ":%02lld", static_cast<long long>(a % 60));
          buf += ob;
        }
        c.py = PyType::Str;
      }
      return;
    }
    case Ext::Bit: {
      // DuckDB's bitstring: the number of padding bits, then the bits, padding first.
      c.kind = Kind::Text;
      c.py = PyType::Str;
      if (n == 0) return;
      const unsigned pad = static_cast<unsigned char>(p[0]);
      for (size_t b = 8 + pad; b < 8 * n; ++b) buf += (static_cast<unsigned char>(p[b / 8]) >> (7 - b % 8)) & 1 ? '1' : '0';
      return;
    }
    case Ext::Bignum: {
      // DuckDB's BIGNUM (VARINT): 3 header bytes (sign bit, then the data length), then the magnitude
      // big-endian; a negative number has every byte inverted. Its Python client returns the digits.
      c.kind = Kind::Text;
      c.py = PyType::Str;
      if (n < 3) return;
      const bool neg = !(static_cast<unsigned char>(p[0]) & 0x80);
      BigMagnitude m;
      std::vector<uint8_t> be(p + 3, p + n);
      if (neg)
        for (auto& b : be) b = static_cast<uint8_t>(~b);
      m.limbs.assign((be.size() + 7) / 8, 0);
      for (size_t b = 0; b < be.size(); ++b) {
        const size_t pos = be.size() - 1 - b;  // little-endian byte position
        m.limbs[pos / 8] |= static_cast<uint64_t>(be[b]) << (8 * (pos % 8));
      }
      m.trim();
      if (neg && !m.is_zero()) buf += '-';
      buf += m.to_decimal();
      return;
    }
    case Ext::Bool8: case Ext::None:
      break;
  }
  (void)i;
}

void read_cell(const View& v, int64_t i, Cell& c, std::string& buf) {
  c.off = buf.size();
  c.len = 0;
  if (v.is_dict) {
    if (!v.valid(i)) {
      c.kind = Kind::Null;
      c.py = PyType::None;
      return;
    }
    read_cell(*v.dict, dict_index(v, i), c, buf);
    return;
  }
  if (v.type == T::Null || !v.valid(i)) {
    c.kind = Kind::Null;
    c.py = PyType::None;
    return;
  }
  auto set_float = [&](double x) { c.kind = Kind::Float; c.py = PyType::Float; c.f = x; };
  auto set_text = [&](PyType py) { c.kind = Kind::Text; c.py = py; set_text_len(c, buf); };
  switch (v.type) {
    case T::Bool: {
      const auto* bits = static_cast<const uint8_t*>(v.array->buffers[1]);
      const int64_t k = i + v.array->offset;
      c.kind = Kind::Int;
      c.py = PyType::Bool;
      c.i = (bits[k >> 3] >> (k & 7)) & 1;
      return;
    }
    case T::I8: case T::I16: case T::I32: case T::I64: case T::U8: case T::U16: case T::U32:
      set_int(c, int_at(v, i));
      if (v.ext == Ext::Bool8) {
        c.py = PyType::Bool;
        c.i = c.i != 0;
      }
      return;
    case T::U64: {
      const uint64_t x = v.value<uint64_t>(i);
      if (x <= static_cast<uint64_t>(INT64_MAX)) {
        set_int(c, static_cast<int64_t>(x));
      } else {
        c.kind = Kind::Float;
        c.py = PyType::Int;  // a Python int beyond int64
        c.f = static_cast<double>(x);
      }
      return;
    }
    case T::Half: set_float(half_to_double(v.value<uint16_t>(i))); return;
    case T::F32: set_float(v.value<float>(i)); return;
    case T::F64: set_float(v.value<double>(i)); return;
    case T::Utf8: case T::LargeUtf8: case T::Utf8View: {
      const char* p;
      size_t n;
      string_at(v, i, p, n);
      buf.append(p, n);
      set_text(PyType::Str);
      return;
    }
    case T::Binary: case T::LargeBinary: case T::BinaryView: case T::FixedBinary: {
      const char* p;
      size_t n;
      string_at(v, i, p, n);
      if (v.ext != Ext::None) {
        read_duckdb_ext(v, i, c, buf, p, n);
        if (c.kind == Kind::Text) set_text_len(c, buf);
        return;
      }
      buf.append(p, n);
      c.kind = Kind::Bytes;
      c.py = PyType::Bytes;
      set_text_len(c, buf);
      return;
    }
    case T::Decimal:
      read_decimal(v, i, c, buf);
      return;
    case T::Date32: case T::Date64: {
      const int64_t days = v.type == T::Date32 ? v.value<int32_t>(i) : floor_div(v.value<int64_t>(i), 86400000);
      if (v.type == T::Date32 && (days == INT32_MAX || days == -INT32_MAX)) {  // DuckDB's +-infinity
        buf += days > 0 ? "9999-12-31" : "0001-01-01";
        set_text(PyType::Date);
        return;
      }
      set_text(append_date(buf, days));
      return;
    }
    case T::Time32: case T::Time64: {
      const int64_t x = v.type == T::Time32 ? v.value<int32_t>(i) : v.value<int64_t>(i);
      const int64_t micros = static_cast<int64_t>(to_micros(x, v.unit_per_sec));
      append_time_of_day(buf, micros);
      set_text(micros >= 0 && micros < kMicrosPerDay ? PyType::Time : PyType::Str);  // '24:00:00' is text in DuckDB
      return;
    }
    case T::Timestamp: {
      const int64_t x = v.value<int64_t>(i);
      if (x == kInfinity || x == kNegInfinity) {  // DuckDB's +-infinity: datetime.max / datetime.min
        buf += x > 0 ? "9999-12-31 23:59:59.999999" : "0001-01-01 00:00:00";
        set_text(PyType::DateTime);
        return;
      }
      const PyType py = append_timestamp(buf, to_micros(x, v.unit_per_sec), v.has_tz);
      set_text(py);
      return;
    }
    case T::Duration:
      append_timedelta(buf, to_micros(v.value<int64_t>(i), v.unit_per_sec));
      set_text(PyType::Other);
      return;
    case T::IntervalMonths:
      append_timedelta(buf, static_cast<__int128>(v.value<int32_t>(i)) * 30 * kMicrosPerDay);
      set_text(PyType::Other);
      return;
    case T::IntervalDayTime: {
      int32_t dm[2];
      std::memcpy(dm, static_cast<const char*>(v.array->buffers[1]) + 8 * (i + v.array->offset), 8);
      append_timedelta(buf, static_cast<__int128>(dm[0]) * kMicrosPerDay + static_cast<__int128>(dm[1]) * 1000);
      set_text(PyType::Other);
      return;
    }
    case T::IntervalMonthDayNano: {
      const auto* base = static_cast<const char*>(v.array->buffers[1]) + 16 * (i + v.array->offset);
      int32_t months, days;
      int64_t nanos;
      std::memcpy(&months, base, 4);
      std::memcpy(&days, base + 4, 4);
      std::memcpy(&nanos, base + 8, 8);
      // DuckDB's equality and its Python client both count a month as 30 days.
      append_timedelta(buf, (static_cast<__int128>(months) * 30 + days) * kMicrosPerDay + nanos_to_micros(nanos));
      set_text(PyType::Other);
      return;
    }
    case T::SparseUnion: case T::DenseUnion: case T::RunEnd: {
      int64_t at = 0;
      const View& child = member(v, i, at);
      read_cell(child, at, c, buf);
      return;
    }
    case T::List: case T::LargeList: case T::ListView: case T::LargeListView: case T::FixedList: case T::Struct:
    case T::Map:
      append_nested_text(v, i, buf);
      set_text(PyType::Other);
      return;
    default:
      c.kind = Kind::Null;
      c.py = PyType::None;
      return;
  }
}

struct SchemaGuard {
  ArrowSchema s{};
  ~SchemaGuard() { if (s.release) s.release(&s); }
};
struct ArrayGuard {
  ArrowArray a{};
  ~ArrayGuard() { if (a.release) a.release(&a); }
};
struct StreamGuard {
  ArrowArrayStream* s;
  ~StreamGuard() { if (s && s->release) s->release(s); }
};

std::string stream_error(ArrowArrayStream* s, int code) {
  const char* msg = s->get_last_error ? s->get_last_error(s) : nullptr;
  return "Arrow stream error " + std::to_string(code) + (msg ? std::string(": ") + msg : std::string());
}

}  // namespace

std::shared_ptr<Table> table_from_arrow_stream(ArrowArrayStream* stream, size_t max_rows, size_t max_bytes) {
  StreamGuard guard{stream};
  SchemaGuard schema;
  int rc = stream->get_schema(stream, &schema.s);
  if (rc != 0) throw std::runtime_error(stream_error(stream, rc));
  if (std::string(schema.s.format ? schema.s.format : "") != "+s")
    throw std::invalid_argument("Arrow stream schema must be a struct of columns");
  auto table = std::make_shared<Table>();
  const size_t ncols = static_cast<size_t>(schema.s.n_children);
  table->cols.resize(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    const char* nm = schema.s.children[c]->name;
    table->names.emplace_back(nm ? nm : "");
  }
  std::string& arena = table->arena();
  size_t ncells = 0;  // cells of the columns read so far
  auto check_budget = [&](size_t rows) {
    const size_t bytes = arena.size() + ncells * sizeof(Cell);
    if (bytes > max_bytes)
      throw ResultTooLarge("result over its " + std::to_string(max_bytes) + "-byte budget within " +
                           std::to_string(rows) + " rows of " + std::to_string(ncols) +
                           " columns (about " + std::to_string(bytes) +
                           " bytes); select fewer or smaller columns or rows");
  };
  while (true) {
    ArrayGuard batch;
    rc = stream->get_next(stream, &batch.a);
    if (rc != 0) throw std::runtime_error(stream_error(stream, rc));
    if (batch.a.release == nullptr) break;  // end of stream
    if (batch.a.length == 0) continue;
    if (table->nrows >= max_rows) {
      table->truncated = true;
      break;
    }
    if (static_cast<size_t>(batch.a.n_children) != ncols)
      throw std::invalid_argument("Arrow batch column count does not match its schema");
    std::vector<View> views(ncols);
    for (size_t c = 0; c < ncols; ++c) bind(views[c], schema.s.children[c], batch.a.children[c]);
    const size_t room = max_rows - table->nrows;
    const int64_t n = room < static_cast<size_t>(batch.a.length) ? static_cast<int64_t>(room) : batch.a.length;
    const int64_t base = batch.a.offset;  // the batch's offset shifts every column
    for (size_t c = 0; c < ncols; ++c) {
      auto& cells = table->cols[c].cells;
      cells.reserve(cells.size() + static_cast<size_t>(n));
      for (int64_t r = 0; r < n; ++r) {
        Cell cell;
        read_cell(views[c], r + base, cell, arena);
        cells.push_back(cell);
      }
      ncells += static_cast<size_t>(n);
      check_budget(table->nrows + static_cast<size_t>(n));
    }
    table->nrows += static_cast<size_t>(n);
    if (n < batch.a.length) {
      table->truncated = true;
      break;
    }
  }
  table->finalize();
  return table;
}

}  // namespace sqlrl
