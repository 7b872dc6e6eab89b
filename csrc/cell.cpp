#include "cell.hpp"

#include "canonical.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace sqlrl {


uint64_t hash_bytes(const char* p, size_t n, uint64_t seed) {
  uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = mix64(h ^ w) + 0x2545f4914f6cdd1dULL;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  return mix64(h ^ tail ^ (static_cast<uint64_t>(n - i) << 56));
}

namespace {
int kind_rank(Kind k) {
  switch (k) {
    case Kind::Null: return 0;
    case Kind::Int:
    case Kind::Float: return 1;
    case Kind::Text: return 2;
    case Kind::Bytes: return 3;
  }
  return 4;
}

int num_cmp(const Cell& a, const Cell& b) {
  if (a.kind == Kind::Int && b.kind == Kind::Int) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  double x = a.as_double(), y = b.as_double();
  bool xn = std::isnan(x), yn = std::isnan(y);
  if (xn || yn) return xn && yn ? 0 : (xn ? 1 : -1);  // NaN sorts after every number
  if (x < y) return -1;
  if (x > y) return 1;
  // Equal as doubles; break exact ties between an int and a float precisely.
  if (a.kind == Kind::Int && b.kind == Kind::Float) {
    int64_t v;
    if (float_as_int(b.f, v)) return a.i < v ? -1 : (a.i > v ? 1 : 0);
  } else if (a.kind == Kind::Float && b.kind == Kind::Int) {
    int64_t v;
    if (float_as_int(a.f, v)) return v < b.i ? -1 : (v > b.i ? 1 : 0);
  }
  return 0;
}
}  // namespace

int total_cmp(const Cell& a, const Cell& b) {
  int ra = kind_rank(a.kind), rb = kind_rank(b.kind);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 0) return 0;
  if (ra == 1) return num_cmp(a, b);
  size_t n = std::min(a.len, b.len);
  int c = n ? std::memcmp(a.p, b.p, n) : 0;
  if (c != 0) return c < 0 ? -1 : 1;
  return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

void append_py_float(std::string& out, double f) {
  if (std::isnan(f)) {
    out += "nan";
    return;
  }
  if (std::isinf(f)) {
    out += f < 0 ? "-inf" : "inf";
    return;
  }
  if (f == 0.0) {
    out += std::signbit(f) ? "-0.0" : "0.0";
    return;
  }
  // Shortest round-trip digits, then Python's repr layout (float_repr_style 'short'); all in
  // stack buffers (this runs once per cell when Spider 2.0's str(x) sort keys are built).
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  const char* q = buf;
  if (*q == '-') {
    out += '-';
    ++q;
  }
  char digits[32];
  int ndig = 0;
  for (; q < res.ptr && *q != 'e'; ++q)
    if (*q != '.') digits[ndig++] = *q;
  ++q;  // 'e'
  const bool eneg = *q == '-';
  ++q;  // exponent sign
  int exp10 = 0;
  for (; q < res.ptr; ++q) exp10 = exp10 * 10 + (*q - '0');
  if (eneg) exp10 = -exp10;
  while (ndig > 1 && digits[ndig - 1] == '0') --ndig;
  if (exp10 >= -4 && exp10 < 16) {
    // repr switches to exponent notation when the decimal exponent is < -4 or >= 16.
    if (exp10 >= 0) {
      if (ndig <= exp10 + 1) {
        out.append(digits, static_cast<size_t>(ndig));
        out.append(static_cast<size_t>(exp10 + 1 - ndig), '0');
        out += ".0";
      } else {
        out.append(digits, static_cast<size_t>(exp10 + 1));
        out += '.';
        out.append(digits + exp10 + 1, static_cast<size_t>(ndig - exp10 - 1));
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exp10 - 1), '0');
      out.append(digits, static_cast<size_t>(ndig));
    }
    return;
  }
  out += digits[0];
  if (ndig > 1) {
    out += '.';
    out.append(digits + 1, static_cast<size_t>(ndig - 1));
  }
  char eb[16];
  std::snprintf(eb, sizeof(eb), "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
  out += eb;
}

void append_py_str(std::string& out, const Cell& c) {
  switch (c.kind) {
    case Kind::Null:
      out += "None";
      return;
    case Kind::Int:
      if (c.py == PyType::Bool) {
        out += c.i ? "True" : "False";
      } else {
        out += std::to_string(c.i);
      }
      return;
    case Kind::Float:
      append_py_float(out, c.f);
      return;
    case Kind::Text:
      out.append(c.p, c.len);
      return;
    case Kind::Bytes:
      append_bytes_repr(out, c.bytes());
      return;
  }
}

const char* py_type_name(PyType t) {
  switch (t) {
    case PyType::None: return "<class 'NoneType'>";
    case PyType::Bool: return "<class 'bool'>";
    case PyType::Int: return "<class 'int'>";
    case PyType::Float: return "<class 'float'>";
    case PyType::Str: return "<class 'str'>";
    case PyType::Bytes: return "<class 'bytes'>";
    case PyType::Date: return "<class 'datetime.date'>";
    case PyType::Time: return "<class 'datetime.time'>";
    case PyType::DateTime: return "<class 'datetime.datetime'>";
    case PyType::Other: return "<class 'object'>";
  }
  return "<class 'object'>";
}

}  // namespace sqlrl
