// Exact multiset equality of two value lists by hashing: values are paired by hash in an
// open-addressing index and confirmed with an equality test, so a hash collision can never make
// unequal bags equal.
#pragma once
#include <cstdint>
#include <vector>

#include "cell.hpp"

namespace sqlrl {

// Order-free hash of a bag of value hashes: equal bags always give equal results.
inline uint64_t bag_of(const std::vector<uint64_t>& h) {
  uint64_t s = 0;
  for (uint64_t x : h) s += mix64(x ^ 0x243f6a8885a308d3ULL);
  return mix64(s + h.size());
}

// Whether bag a equals bag b (n values each). `eq_aa(i, j)` compares a[i] with a[j]; `eq_ab(i, j)` compares a[i]
// with b[j]; equal values must have equal hashes.
template <class EqAA, class EqAB>
bool bags_equal(size_t n, const uint64_t* ha, const uint64_t* hb, EqAA&& eq_aa, EqAB&& eq_ab) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  const size_t mask = cap - 1;
  std::vector<uint32_t> slots(cap, 0);  // class + 1
  std::vector<uint32_t> rep;
  std::vector<uint64_t> left;  // per class: values of a not yet matched by b
  for (size_t i = 0; i < n; ++i) {
    for (size_t s = static_cast<size_t>(ha[i]) & mask;; s = (s + 1) & mask) {
      if (slots[s] == 0) {
        slots[s] = static_cast<uint32_t>(rep.size() + 1);
        rep.push_back(static_cast<uint32_t>(i));
        left.push_back(1);
        break;
      }
      const size_t k = slots[s] - 1;
      if (ha[rep[k]] == ha[i] && eq_aa(rep[k], i)) {
        ++left[k];
        break;
      }
    }
  }
  for (size_t j = 0; j < n; ++j) {
    bool found = false;
    for (size_t s = static_cast<size_t>(hb[j]) & mask; slots[s] != 0; s = (s + 1) & mask) {
      const size_t k = slots[s] - 1;
      if (ha[rep[k]] == hb[j] && eq_ab(rep[k], j)) {
        if (left[k] == 0) return false;
        --left[k];
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;  // same sizes and every b value consumed one a value
}

template <class EqAA, class EqAB>
bool bags_equal(const std::vector<uint64_t>& ha, const std::vector<uint64_t>& hb, EqAA&& eq_aa, EqAB&& eq_ab) {
  return ha.size() == hb.size() && bags_equal(ha.size(), ha.data(), hb.data(), eq_aa, eq_ab);
}

}  // namespace sqlrl
