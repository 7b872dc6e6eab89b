#include "canonical.hpp"

#include <cstdio>

namespace sqlrl {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

namespace {

__int128 floor_div128(__int128 a, __int128 b) {
  __int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool in_python_range(int64_t year) { return year >= 1 && year <= 9999; }

// DuckDB's Date::ToString: years <= 0 as '(BC)' years, years past 9999 with all their digits.
void append_duckdb_date(std::string& out, int64_t y, unsigned m, unsigned d) {
  const bool bc = y <= 0;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u%s", static_cast<long long>(bc ? 1 - y : y), m, d,
                bc ? " (BC)" : "");
  out += buf;
}

// DuckDB's Time::ToString: the fraction without trailing zeros.
void append_duckdb_time(std::string& out, int64_t micros) {
  const int64_t secs = micros / kMicrosPerSec, frac = micros % kMicrosPerSec;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>((secs / 60) % 60), static_cast<long long>(secs % 60));
  out += buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    size_t n = std::char_traits<char>::length(buf);
    while (n > 1 && buf[n - 1] == '0') --n;
    out.append(buf, n);
  }
}

}  // namespace

// H. Hinnant's algorithms (public domain).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

PyType append_date(std::string& out, int64_t days) {
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (!in_python_range(y)) {
    append_duckdb_date(out, y, m, d);
    return PyType::Str;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  out += buf;
  return PyType::Date;
}

void append_time_of_day(std::string& out, int64_t micros) {
  const int64_t secs = floor_div(micros, kMicrosPerSec), frac = micros - secs * kMicrosPerSec;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>((secs / 60) % 60), static_cast<long long>(secs % 60));
  out += buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
}

PyType append_timestamp(std::string& out, __int128 micros, bool utc) {
  const __int128 days = floor_div128(micros, kMicrosPerDay);
  const int64_t rest = static_cast<int64_t>(micros - days * kMicrosPerDay);
  // |micros| < 2^63 seconds' worth, so the day count fits an int64 comfortably.
  int64_t y;
  unsigned m, d;
  civil_from_days(static_cast<int64_t>(days), y, m, d);
  if (!in_python_range(y)) {
    append_duckdb_date(out, y, m, d);
    out += ' ';
    append_duckdb_time(out, rest);
    if (utc) out += "+00";
    return PyType::Str;
  }
  append_date(out, static_cast<int64_t>(days));
  out += ' ';
  append_time_of_day(out, rest);
  if (utc) out += "+00:00";
  return PyType::DateTime;
}

void append_utc_offset(std::string& out, int64_t micros) {
  out += micros < 0 ? '-' : '+';
  const uint64_t a = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  const uint64_t secs = a / kMicrosPerSec, frac = a % kMicrosPerSec;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%02llu:%02llu", static_cast<unsigned long long>(secs / 3600),
                static_cast<unsigned long long>((secs / 60) % 60));
  out += buf;
  if (secs % 60 != 0 || frac != 0) {
    std::snprintf(buf, sizeof(buf), ":%02llu", static_cast<unsigned long long>(secs % 60));
    out += buf;
    if (frac != 0) {
      std::snprintf(buf, sizeof(buf), ".%06llu", static_cast<unsigned long long>(frac));
      out += buf;
    }
  }
}

void append_timedelta(std::string& out, __int128 micros) {
  const __int128 days = floor_div128(micros, kMicrosPerDay);
  const int64_t rest = static_cast<int64_t>(micros - days * kMicrosPerDay);
  if (days != 0) {
    // Python: '%d day%s, ' with the plural unless abs(days) == 1. |days| < 2^63 for any input here.
    out += std::to_string(static_cast<long long>(days));
    out += days == 1 || days == -1 ? " day, " : " days, ";
  }
  const int64_t secs = rest / kMicrosPerSec, frac = rest % kMicrosPerSec;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>((secs / 60) % 60), static_cast<long long>(secs % 60));
  out += buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
}

void append_nested_quoted(std::string& out, std::string_view s) {
  out += '\'';
  for (char ch : s) {
    if (ch == '\'' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '\'';
}

void append_bytes_repr(std::string& out, std::string_view b) {
  // CPython's bytes_repr: single quotes unless the value holds ' and no ".
  const bool dq = b.find('\'') != std::string_view::npos && b.find('"') == std::string_view::npos;
  const char quote = dq ? '"' : '\'';
  out += 'b';
  out += quote;
  for (char c : b) {
    const unsigned char ch = static_cast<unsigned char>(c);
    if (ch == static_cast<unsigned char>(quote) || ch == '\\') {
      out += '\\';
      out += c;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch < 32 || ch >= 127) {
      char hb[8];
      std::snprintf(hb, sizeof(hb), "\\x%02x", ch);
      out += hb;
    } else {
      out += c;
    }
  }
  out += quote;
}

void append_nested_cell(std::string& out, const Cell& c, std::string_view text) {
  switch (c.kind) {
    case Kind::Null:
      out += "None";
      return;
    case Kind::Int:
      if (c.py == PyType::Bool) out += c.i ? "True" : "False";
      else out += std::to_string(c.i);
      return;
    case Kind::Float:
      append_py_float(out, c.f);
      return;
    case Kind::Text:
      append_nested_quoted(out, text);
      return;
    case Kind::Bytes:
      append_bytes_repr(out, text);
      return;
  }
}

}  // namespace sqlrl
