// Canonical cells: one typed value plus a 64-bit hash consistent with exact equality.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sqlrl {

enum class Kind : uint8_t { Null = 0, Int = 1, Float = 2, Text = 3, Bytes = 4 };

// The Python type the official scripts would have seen; used only to emulate quirks that
// depend on str(value) (test-suite's quick_rej, Spider 2.0's sort key).
enum class PyType : uint8_t { None = 0, Bool, Int, Float, Str, Bytes, Date, Time, DateTime, Other };

struct Cell {
  Kind kind = Kind::Null;
  PyType py = PyType::None;
  uint32_t len = 0;  // byte length for Text / Bytes
  union {
    int64_t i;
    double f;
    const char* p;  // Text / Bytes bytes, owned by the table's arena
    uint64_t off;   // arena offset while the table is being built
  };
  Cell() : i(0) {}

  std::string_view bytes() const { return {p, len}; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  double as_double() const { return kind == Kind::Int ? static_cast<double>(i) : f; }
};

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t combine(uint64_t h, uint64_t v) { return mix64(h * 0x9e3779b97f4a7c15ULL + v + 0x632be59bd9b4e019ULL); }

uint64_t hash_bytes(const char* p, size_t n, uint64_t seed);

// True when a double holds an integral value representable as int64 (then it hashes like that int).
inline bool float_as_int(double f, int64_t& out) {
  if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) return false;
  double t = std::trunc(f);
  if (t != f) return false;
  out = static_cast<int64_t>(t);
  return true;
}

namespace hash_salt {
constexpr uint64_t kNullHash = 0x6a09e667f3bcc908ULL;
constexpr uint64_t kNanHash = 0xbb67ae8584caa73bULL;
constexpr uint64_t kTextSeed = 0x3c6ef372fe94f82bULL;
constexpr uint64_t kBytesSeed = 0xa54ff53a5f1d36f1ULL;
constexpr uint64_t kIntSalt = 0x510e527fade682d1ULL;
constexpr uint64_t kFloatSalt = 0x9b05688c2b3e6c1fULL;
}  // namespace hash_salt

// 64-bit hash consistent with exact_eq (an integral float hashes like that int).
inline uint64_t exact_hash(const Cell& c) {
  switch (c.kind) {
    case Kind::Null:
      return hash_salt::kNullHash;
    case Kind::Int:
      return mix64(static_cast<uint64_t>(c.i) ^ hash_salt::kIntSalt);
    case Kind::Float: {
      int64_t as_int;
      if (float_as_int(c.f, as_int)) return mix64(static_cast<uint64_t>(as_int) ^ hash_salt::kIntSalt);
      if (std::isnan(c.f)) return hash_salt::kNanHash;
      uint64_t bits;
      std::memcpy(&bits, &c.f, 8);
      return mix64(bits ^ hash_salt::kFloatSalt);
    }
    case Kind::Text:
      return hash_bytes(c.p, c.len, hash_salt::kTextSeed);
    case Kind::Bytes:
      return hash_bytes(c.p, c.len, hash_salt::kBytesSeed);
  }
  return 0;
}

// Python == on the values the official scripts see (NaN equals NaN: both read as the same value).
inline bool exact_eq(const Cell& a, const Cell& b) {
  if (a.kind == Kind::Int && b.kind == Kind::Int) return a.i == b.i;
  if (a.kind == Kind::Float && b.kind == Kind::Float) return a.f == b.f || (std::isnan(a.f) && std::isnan(b.f));
  if (a.kind == Kind::Int && b.kind == Kind::Float) {
    int64_t v;
    return float_as_int(b.f, v) && v == a.i;
  }
  if (a.kind == Kind::Float && b.kind == Kind::Int) {
    int64_t v;
    return float_as_int(a.f, v) && v == b.i;
  }
  if (a.kind != b.kind) return false;
  if (a.kind == Kind::Null) return true;
  return a.len == b.len && (a.len == 0 || std::memcmp(a.p, b.p, a.len) == 0);
}

// Total order used for sorting columns (NULL < numbers < text < bytes; numbers by value).
int total_cmp(const Cell& a, const Cell& b);

// Python's repr()/str() of a float, e.g. 1.0 -> "1.0", 1e16 -> "1e+16", 1.5e-05 -> "1.5e-05".
void append_py_float(std::string& out, double f);
// str(value) as Python prints the value the official scripts would see.
void append_py_str(std::string& out, const Cell& c);
// str(type(value)), e.g. "<class 'int'>".
const char* py_type_name(PyType t);

}  // namespace sqlrl
