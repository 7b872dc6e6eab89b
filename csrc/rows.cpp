#include "rows.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>

namespace sqlrl {

uint64_t row_hash_seed() { return 0x13198a2e03707344ULL; }
uint64_t row_hash_finish(uint64_t h, size_t width) { return combine(h, width); }

RowSpec RowSpec::all(const Table& table) {
  std::vector<int> c(table.ncols());
  std::iota(c.begin(), c.end(), 0);
  return RowSpec(table, std::move(c));
}

bool RowSpec::is_all() const {
  if (per_row || cols.size() != t->ncols()) return false;
  for (size_t j = 0; j < cols.size(); ++j)
    if (cols[j] != static_cast<int>(j)) return false;
  return true;
}

uint64_t RowSpec::hash(size_t r) const {
  uint64_t h = row_hash_seed();
  const size_t w = per_row ? (*per_row)[r].size() : cols.size();
  for (size_t j = 0; j < w; ++j) h = combine(h, t->hash_at(r, static_cast<size_t>(col(r, j))));
  return row_hash_finish(h, w);
}

RowHashes RowSpec::hashes() const {
  const size_t n = nrows();
  RowHashes out;
  if (is_all() && t->row_hashes.size() == n) {
    out.p = t->row_hashes.data();
    return out;
  }
  std::vector<uint64_t>& h = out.own;
  h.resize(n);
  out.p = h.data();
  if (per_row) {
    for (size_t r = 0; r < n; ++r) h[r] = hash(r);
    return out;
  }
  std::fill(h.begin(), h.end(), row_hash_seed());
  for (int c : cols) {
    const uint64_t* ch = t->cols[static_cast<size_t>(c)].hashes.data();
    for (size_t r = 0; r < n; ++r) h[r] = combine(h[r], ch[r]);
  }
  for (size_t r = 0; r < n; ++r) h[r] = row_hash_finish(h[r], cols.size());
  return out;
}

bool RowSpec::eq(size_t r, const RowSpec& o, size_t ro) const {
  const size_t w = per_row ? (*per_row)[r].size() : cols.size();
  const size_t wo = o.per_row ? (*o.per_row)[ro].size() : o.cols.size();
  if (w != wo) return false;
  for (size_t j = 0; j < w; ++j) {
    const size_t ca = static_cast<size_t>(col(r, j)), cb = static_cast<size_t>(o.col(ro, j));
    if (t->hash_at(r, ca) != o.t->hash_at(ro, cb)) return false;  // equal cells hash equally
    if (!exact_eq(t->at(r, ca), o.t->at(ro, cb))) return false;
  }
  return true;
}

RowGroups::RowGroups(const RowSpec& s) : index_(s.nrows()) {
  const size_t n = s.nrows();
  const RowHashes h = s.hashes();
  rep.reserve(n);
  count.reserve(n);
  for (size_t r = 0; r < n; ++r) {
    const auto [k, fresh] = index_.insert(h[r], [&](uint32_t c) { return s.eq(rep[c], s, r); });
    if (fresh) {
      rep.push_back(r);
      count.push_back(1);
    } else {
      ++count[k];
    }
  }
}

std::vector<long> RowGroups::find_all(const RowSpec& mine, const RowSpec& s, const uint64_t* h,
                                     bool stop_at_miss) const {
  const size_t n = s.nrows();
  std::vector<long> out(n, -1);
  if (index_.shared_hashes() || mine.per_row || s.per_row || mine.cols.size() != s.cols.size()) {
    for (size_t r = 0; r < n; ++r)
      if ((out[r] = find(mine, s, r, h[r])) < 0 && stop_at_miss) break;
    return out;
  }
  // Each hash names at most one class, so a row equal to some class can only be that one.
  std::vector<size_t> ra(n, 0);  // the class's first row, for the checks below
  for (size_t r = 0; r < n; ++r) {
    out[r] = index_.find_hash(h[r]);
    if (out[r] >= 0) ra[r] = rep[static_cast<size_t>(out[r])];
    else if (stop_at_miss) return out;
  }
  for (size_t j = 0; j < s.cols.size(); ++j) {
    const Cell* a = mine.t->cols[static_cast<size_t>(mine.cols[j])].cells.data();
    const Cell* b = s.t->cols[static_cast<size_t>(s.cols[j])].cells.data();
    for (size_t r = 0; r < n; ++r)  // the row hashes matched: check the values
      if (out[r] >= 0 && !exact_eq(a[ra[r]], b[r])) out[r] = -1;
  }
  return out;
}

long RowGroups::find(const RowSpec& mine, const RowSpec& s, size_t r, uint64_t h) const {
  return index_.find(h, [&](uint32_t c) { return mine.eq(rep[c], s, r); });
}

size_t bag_intersection(const RowSpec& a, const RowSpec& b) {
  const RowGroups ga(a);
  const std::vector<long> found = ga.find_all(a, b, b.hashes().p);
  std::vector<size_t> left = ga.count;
  size_t total = 0;
  for (size_t r = 0; r < b.nrows(); ++r) {
    const long k = found[r];
    if (k >= 0 && left[static_cast<size_t>(k)] > 0) {
      --left[static_cast<size_t>(k)];
      ++total;
    }
  }
  return total;
}

namespace {
// Every row of b has an equal row in a and every class of a is hit; with `counted`, as often.
bool classes_equal(const RowSpec& a, const RowSpec& b, bool counted) {
  std::unique_ptr<RowGroups> own;
  const RowGroups& ga = a.is_all() ? a.t->row_groups() : *(own = std::make_unique<RowGroups>(a));
  const std::vector<long> found = ga.find_all(a, b, b.hashes().p, /*stop_at_miss=*/true);
  std::vector<size_t> left = ga.count;
  size_t open = ga.rep.size();  // classes of a not yet used up (counted) or not yet seen (set)
  for (size_t r = 0; r < b.nrows(); ++r) {
    const long k = found[r];
    if (k < 0) return false;
    size_t& l = left[static_cast<size_t>(k)];
    if (counted) {
      if (l == 0) return false;
      if (--l == 0) --open;
    } else if (l != 0) {
      l = 0;
      --open;
    }
  }
  return open == 0;
}
}  // namespace

bool bag_equal(const RowSpec& a, const RowSpec& b) {
  if (a.nrows() != b.nrows()) return false;
  return classes_equal(a, b, true);
}

bool set_equal(const RowSpec& a, const RowSpec& b) { return classes_equal(a, b, false); }

bool list_equal(const RowSpec& a, const RowSpec& b) {
  if (a.nrows() != b.nrows()) return false;
  for (size_t r = 0; r < a.nrows(); ++r)
    if (!a.eq(r, b, r)) return false;
  return true;
}

}  // namespace sqlrl
