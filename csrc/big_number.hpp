// Integers wider than 64 bits (decimal128/256, DuckDB's HUGEINT, UHUGEINT and BIGNUM), read from
// Arrow into the canonical cell the same Python value gives: an int64, else the correctly rounded
// double, else the decimal digits.
#pragma once
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace sqlrl {

struct BigMagnitude {
  std::vector<uint64_t> limbs;  // magnitude, little-endian 64-bit words
  bool negative = false;

  void trim() {
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
    if (limbs.empty()) negative = false;
  }
  bool is_zero() const { return limbs.empty(); }
  bool to_int64(int64_t& out) const {
    if (limbs.empty()) {
      out = 0;
      return true;
    }
    if (limbs.size() > 1) return false;
    const uint64_t m = limbs[0];
    if (!negative && m <= static_cast<uint64_t>(INT64_MAX)) {
      out = static_cast<int64_t>(m);
      return true;
    }
    if (negative && m <= static_cast<uint64_t>(INT64_MAX) + 1) {
      out = static_cast<int64_t>(0 - m);
      return true;
    }
    return false;
  }
  void mul_small(uint32_t k) {
    unsigned __int128 carry = 0;
    for (auto& w : limbs) {
      const unsigned __int128 x = static_cast<unsigned __int128>(w) * k + carry;
      w = static_cast<uint64_t>(x);
      carry = x >> 64;
    }
    if (carry) limbs.push_back(static_cast<uint64_t>(carry));
  }
  // Decimal digits of the magnitude (no sign).
  std::string to_decimal() const {
    if (limbs.empty()) return "0";
    std::vector<uint64_t> w(limbs);
    std::vector<uint64_t> chunks;  // base 10^19, least significant first
    constexpr uint64_t kBase = 10000000000000000000ULL;
    while (!w.empty()) {
      unsigned __int128 rem = 0;
      for (size_t k = w.size(); k-- > 0;) {
        const unsigned __int128 cur = (rem << 64) | w[k];
        w[k] = static_cast<uint64_t>(cur / kBase);
        rem = cur % kBase;
      }
      chunks.push_back(static_cast<uint64_t>(rem));
      while (!w.empty() && w.back() == 0) w.pop_back();
    }
    std::string out = std::to_string(chunks.back());
    for (size_t k = chunks.size() - 1; k-- > 0;) {
      const std::string part = std::to_string(chunks[k]);
      out.append(19 - part.size(), '0');
      out += part;
    }
    return out;
  }
};

// The double nearest to digits * 10^exp10 (digits may start with '-'), correctly rounded as
// Python's float(Decimal) and float(int) are. False when it overflows a double.
inline bool decimal_to_double(const std::string& digits, int exp10, double& out) {
  const std::string s = digits + "e" + std::to_string(exp10);
  const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  if (res.ec == std::errc::result_out_of_range) {
    // Beyond the double range: too large (Python raises) or too small (Python rounds to +-0.0).
    const bool neg = !digits.empty() && digits[0] == '-';
    const size_t nd = digits.size() - (neg ? 1 : 0);
    if (static_cast<long>(nd) + exp10 > 0) return false;
    out = neg ? -0.0 : 0.0;
  }
  return true;
}

}  // namespace sqlrl
