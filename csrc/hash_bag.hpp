// Exact multiset equality of two value lists by hashing: values are paired by hash in a
// ClassIndex and confirmed with an equality test, so a hash collision can never make unequal bags
// equal.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "cell.hpp"
#include "class_index.hpp"

namespace sqlrl {

// Order-free hash of a bag of value hashes: equal bags always give equal results.
inline uint64_t bag_of(const std::vector<uint64_t>& h) {
  uint64_t s = 0;
  for (uint64_t x : h) s += mix64(x ^ 0x243f6a8885a308d3ULL);
  return mix64(s + h.size());
}

// Sums of a bag of numbers, to reject two bags that no pairing within a tolerance can match.
struct NumberSums {
  size_t count = 0;
  double sum = 0, abs_sum = 0;
  bool finite = true;
  void add(double x) {
    ++count;
    sum += x;
    abs_sum += std::fabs(x);
    if (!std::isfinite(x)) finite = false;
  }
  // False when no one-to-one pairing of the two bags has every pair within `tol` (absolute, plus
  // the 1e-9 relative tolerance of math.isclose): the sums then differ by at most that per pair,
  // plus summation rounding. True when it cannot tell (infinities, overflowing sums, or close sums).
  bool may_pair_within(const NumberSums& o, double tol) const {
    if (count != o.count) return false;
    if (!finite || !o.finite) return true;
    // Finite numbers whose sums overflow (two values near 1e308) say nothing either.
    if (!std::isfinite(abs_sum) || !std::isfinite(o.abs_sum)) return true;
    const double slack = tol * static_cast<double>(count) * (1 + 1e-9) + 1e-8 * (abs_sum + o.abs_sum) + 1e-9;
    return std::fabs(sum - o.sum) <= slack;
  }
};

// Whether bag a equals bag b (n values each). `eq_aa(i, j)` compares a[i] with a[j]; `eq_ab(i, j)` compares a[i]
// with b[j]; equal values must have equal hashes.
template <class EqAA, class EqAB>
bool bags_equal(size_t n, const uint64_t* ha, const uint64_t* hb, EqAA&& eq_aa, EqAB&& eq_ab) {
  ClassIndex index(n);
  std::vector<uint32_t> rep;   // first value of each class of a
  std::vector<uint64_t> left;  // per class: values of a not yet matched by b
  for (size_t i = 0; i < n; ++i) {
    const auto [k, fresh] = index.insert(ha[i], [&](uint32_t c) { return eq_aa(rep[c], i); });
    if (fresh) {
      rep.push_back(static_cast<uint32_t>(i));
      left.push_back(1);
    } else {
      ++left[k];
    }
  }
  for (size_t j = 0; j < n; ++j) {
    const long k = index.find(hb[j], [&](uint32_t c) { return eq_ab(rep[c], j); });
    if (k < 0 || left[static_cast<size_t>(k)] == 0) return false;
    --left[static_cast<size_t>(k)];
  }
  return true;  // same sizes and every b value consumed one a value
}

template <class EqAA, class EqAB>
bool bags_equal(const std::vector<uint64_t>& ha, const std::vector<uint64_t>& hb, EqAA&& eq_aa, EqAB&& eq_ab) {
  return ha.size() == hb.size() && bags_equal(ha.size(), ha.data(), hb.data(), eq_aa, eq_ab);
}

}  // namespace sqlrl
