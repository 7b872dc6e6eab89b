// Canonical text of the values that have no cell kind of their own: dates, times, timestamps,
// durations and nested values (README "What the scores mean"). The Arrow reader and the Python-row
// reader both write through these functions, so one value gives one text whichever way it is read.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "cell.hpp"

namespace sqlrl {

constexpr int64_t kMicrosPerSec = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSec;

int64_t floor_div(int64_t a, int64_t b);
// Days since 1970-01-01 <-> proleptic Gregorian date (year 0 is 1 BC).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);

// A date: Python's str(date) for years 1..9999; beyond, DuckDB's text ('0044-03-15 (BC)',
// '10000-01-01'), which is what DuckDB's Python client returns for such dates. Returns the
// PyType the value has on DuckDB's Python side (Date, or Str beyond Python's range).
PyType append_date(std::string& out, int64_t days);
// Time of day from microseconds since midnight: 'HH:MM:SS[.ffffff]' (Python's str(time)).
void append_time_of_day(std::string& out, int64_t micros);
// A timestamp from microseconds since the epoch: Python's str(datetime) ('2020-01-02 03:04:05.250000');
// `utc` (an instant, TIMESTAMP WITH TIME ZONE) appends '+00:00'. Beyond years 1..9999, DuckDB's text.
PyType append_timestamp(std::string& out, __int128 micros, bool utc);
// The timestamps DuckDB uses for +-infinity, in any unit (its Python client returns datetime.max/min).
constexpr int64_t kInfinity = INT64_MAX, kNegInfinity = -INT64_MAX;
// A UTC offset as Python prints it: '+HH:MM[:SS[.ffffff]]'.
void append_utc_offset(std::string& out, int64_t micros);
// str(datetime.timedelta(microseconds=micros)), e.g. '-1 day, 23:59:59.999999', for any count.
void append_timedelta(std::string& out, __int128 micros);
// A sub-microsecond count in microseconds, dropping the rest toward zero as DuckDB does.
inline int64_t nanos_to_micros(int64_t ns) { return ns / 1000; }

// Nested values: text inside a list, struct or map, single-quoted with \ and ' escaped.
void append_nested_quoted(std::string& out, std::string_view s);
// One canonical cell inside a nested value; `text` holds the bytes of a Text or Bytes cell.
void append_nested_cell(std::string& out, const Cell& c, std::string_view text);
// Python's repr() of a bytes value, b'...'.
void append_bytes_repr(std::string& out, std::string_view b);

}  // namespace sqlrl
