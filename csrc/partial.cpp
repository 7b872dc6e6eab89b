#include "partial.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <stdexcept>

#include "hash_bag.hpp"
#include "match.hpp"
#include "rows.hpp"

namespace sqlrl {

Metric parse_metric(const std::string& name) { return parse_named(kMetrics, name, "partial-match metric"); }

// ---------------------------------------------------------------- soft_f1 (BIRD mini-dev code)

namespace {

// First occurrences of the distinct rows, in order (the gold table keeps its index).
std::vector<size_t> distinct_rows(const Table& t, bool gold) {
  if (gold) return t.row_groups().rep;
  return RowGroups(RowSpec::all(t)).rep;
}

// One row's cells and their hashes, gathered once for the membership tests.
struct RowCells {
  std::vector<const Cell*> cell;
  std::vector<uint64_t> hash;
  void load(const Table& t, size_t r) {
    cell.resize(t.ncols());
    hash.resize(t.ncols());
    for (size_t c = 0; c < t.ncols(); ++c) {
      cell[c] = &t.cols[c].cells[r];
      hash[c] = t.cols[c].hashes[r];
    }
  }
  bool contains(const Cell& v, uint64_t hv) const {
    for (size_t c = 0; c < hash.size(); ++c)
      if (hash[c] == hv && exact_eq(*cell[c], v)) return true;
    return false;
  }
};

}  // namespace

double soft_f1(const Table& gold, const Table& pred) {
  if (gold.nrows == 0 && pred.nrows == 0) return 1.0;
  const auto prow = distinct_rows(pred, false);
  const auto grow = distinct_rows(gold, true);
  // Running sums in the reference's order (gold rows first, then unmatched pred rows): the same
  // floating-point results as summing its lists.
  double tp = 0, fp = 0, fn = 0;
  const double total = static_cast<double>(gold.ncols());
  RowCells g, p;
  for (size_t i = 0; i < grow.size(); ++i) {
    if (i >= prow.size()) {
      fn += 1;
      continue;
    }
    g.load(gold, grow[i]);
    p.load(pred, prow[i]);
    size_t m = 0, po = 0, to = 0;
    if (g.hash.size() <= 64) {  // one pass over the pairs: pred cells found, and a bitmask of gold cells found
      uint64_t gold_found = 0;
      for (size_t c = 0; c < p.hash.size(); ++c) {
        bool hit = false;
        for (size_t k = 0; k < g.hash.size(); ++k)
          if (p.hash[c] == g.hash[k] && exact_eq(*p.cell[c], *g.cell[k])) {
            hit = true;
            gold_found |= uint64_t{1} << k;
          }
        (hit ? m : po) += 1;
      }
      to = g.hash.size() - static_cast<size_t>(__builtin_popcountll(gold_found));
    } else {
      for (size_t c = 0; c < p.hash.size(); ++c) (g.contains(*p.cell[c], p.hash[c]) ? m : po) += 1;
      for (size_t c = 0; c < g.hash.size(); ++c)
        if (!p.contains(*g.cell[c], g.hash[c])) ++to;
    }
    tp += static_cast<double>(m) / total;
    fp += static_cast<double>(po) / total;
    fn += static_cast<double>(to) / total;
  }
  for (size_t i = grow.size(); i < prow.size(); ++i) fp += 1;
  const double precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const double recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
}

// ---------------------------------------------------------------- paverl (PaVeRL-SQL reward)
//
// PaVeRL computes on pandas DataFrames, so what a value equals depends on its column's dtype:
// float64 columns have NULL/NaN filled with -1e10, are rounded to 3 decimals and compared within
// 0.005; other columns compare with Python ==.

namespace {

enum class ColKind { Text, Float, Int };

constexpr double kNullFill = -10000000000.0;

// pandas dtype of a column: object if it holds text; float64 if it holds a float or a NULL (an
// int column with NULLs, or nothing but NULLs); else int64.
ColKind column_kind(const Table& t, size_t c) {
  const uint32_t k = t.cols[c].kinds;
  auto has = [k](Kind kind) { return (k >> static_cast<unsigned>(kind)) & 1u; };
  if (has(Kind::Text) || has(Kind::Bytes)) return ColKind::Text;
  return has(Kind::Float) || has(Kind::Null) ? ColKind::Float : ColKind::Int;
}

// A value of a float64 column: NULL and NaN are filled with -1e10, ints widen to double.
double float_value(const Cell& x) {
  if (x.kind == Kind::Null) return kNullFill;
  if (x.kind == Kind::Float) return std::isnan(x.f) ? kNullFill : x.f;
  if (x.kind == Kind::Int) return static_cast<double>(x.i);
  return kNullFill;
}

double round3(double x) { return std::isfinite(x) ? std::nearbyint(x * 1000.0) / 1000.0 : x; }

// A column as PaVeRL compares it: its values (float64 columns filled and rounded) as cells with
// their hashes. A whole non-float column is read in place; other columns own a copy.
struct PCol {
  ColKind kind;
  const Cell* v = nullptr;
  const uint64_t* h = nullptr;
  size_t n = 0;
  uint64_t bag = 0;
  NumberSums numbers;  // Float columns: the filled, rounded values
  std::vector<Cell> own_v;
  std::vector<uint64_t> own_h;
  size_t size() const { return n; }
};

PCol paverl_column(const Table& t, size_t c, ColKind kind, const std::vector<size_t>* rows) {
  PCol col{kind};
  const Column& src = t.cols[c];
  col.n = rows ? rows->size() : t.nrows;
  if (kind != ColKind::Float && !rows) {
    col.v = src.cells.data();
    col.h = src.hashes.data();
    col.bag = src.bag_hash;  // the same order-free hash as bag_of
    return col;
  }
  col.own_v.resize(col.n);
  col.own_h.resize(col.n);
  for (size_t k = 0; k < col.n; ++k) {
    const size_t r = rows ? (*rows)[k] : k;
    if (kind == ColKind::Float) {
      Cell x;
      x.kind = Kind::Float;
      x.py = PyType::Float;
      x.f = round3(float_value(src.cells[r]));
      col.numbers.add(x.f);
      col.own_v[k] = x;
      col.own_h[k] = exact_hash(x);
    } else {
      col.own_v[k] = src.cells[r];
      col.own_h[k] = src.hashes[r];
    }
  }
  col.v = col.own_v.data();
  col.h = col.own_h.data();
  col.bag = bag_of(col.own_h);
  return col;
}

// The doubles of a float64 column in ascending order, by an LSD radix sort on their bits mapped
// to unsigned order (no NaN here: PaVeRL fills it; -0.0 sorts just before 0.0, which it equals).
std::vector<double> sorted_values(const PCol& col) {
  const size_t n = col.size();
  std::vector<uint64_t> keys(n), tmp(n);
  for (size_t k = 0; k < n; ++k) {
    uint64_t bits;
    std::memcpy(&bits, &col.v[k].f, sizeof(bits));
    keys[k] = bits >> 63 ? ~bits : bits | (uint64_t{1} << 63);
  }
  for (unsigned shift = 0; shift < 64; shift += 8) {
    size_t counts[257] = {0};
    for (uint64_t key : keys) ++counts[((key >> shift) & 0xff) + 1];
    if (counts[((keys.empty() ? 0 : keys[0] >> shift) & 0xff) + 1] == n) continue;  // one byte value: pass is a no-op
    for (size_t b = 0; b < 256; ++b) counts[b + 1] += counts[b];
    for (uint64_t key : keys) tmp[counts[(key >> shift) & 0xff]++] = key;
    keys.swap(tmp);
  }
  std::vector<double> out(n);
  for (size_t k = 0; k < n; ++k) {
    const uint64_t key = keys[k];
    const uint64_t bits = key >> 63 ? key & ~(uint64_t{1} << 63) : ~key;
    std::memcpy(&out[k], &bits, sizeof(bits));
  }
  return out;
}

// PaVeRL: sorted(gold column) equals sorted(pred column): within 0.005 between two float64
// columns, Python == otherwise. Sorted lists are equal exactly when the bags are, so only the
// tolerance between two float64 columns needs the sort.
bool columns_equal(const PCol& a, const PCol& b) {
  if (a.size() != b.size()) return false;
  const size_t n = a.size();
  if (a.bag == b.bag &&
      bags_equal(n, a.h, b.h, [&](size_t i, size_t j) { return exact_eq(a.v[i], a.v[j]); },
                 [&](size_t i, size_t j) { return exact_eq(a.v[i], b.v[j]); }))
    return true;
  if (a.kind != ColKind::Float || b.kind != ColKind::Float) return false;
  if (!a.numbers.may_pair_within(b.numbers, 0.005)) return false;  // sorted pairs within 0.005
  const std::vector<double> x = sorted_values(a), y = sorted_values(b);
  for (size_t k = 0; k < n; ++k)
    if (std::fabs(x[k] - y[k]) > 0.005) return false;
  return true;
}

// Greedy first-fit matching of gold columns to unused pred columns with equal sorted values.
size_t paverl_columns(const Table& gold, const std::vector<size_t>* grows, const Table& pred,
                      const std::vector<size_t>* prows) {
  std::vector<PCol> pv;
  for (size_t q = 0; q < pred.ncols(); ++q) pv.push_back(paverl_column(pred, q, column_kind(pred, q), prows));
  std::vector<char> used(pred.ncols(), 0);
  size_t matched = 0;
  for (size_t c = 0; c < gold.ncols(); ++c) {
    const PCol gv = paverl_column(gold, c, column_kind(gold, c), grows);
    for (size_t q = 0; q < pred.ncols(); ++q) {
      if (used[q] || !columns_equal(gv, pv[q])) continue;
      used[q] = 1;
      ++matched;
      break;
    }
  }
  return matched;
}

// The distinct values of a key column: sorted floats for a float64 column (matched within
// 0.005), else the column's distinct cells in a hash index.
struct KeySet {
  ColKind kind;
  std::vector<double> floats;
  RowSpec spec;
  RowGroups groups;

  KeySet(const Table& t, size_t c, ColKind k) : kind(k), spec(t, {static_cast<int>(c)}), groups(make(spec, k)) {
    if (kind != ColKind::Float) return;
    for (const Cell& x : t.cols[c].cells) floats.push_back(float_value(x));
    std::sort(floats.begin(), floats.end());
    floats.erase(std::unique(floats.begin(), floats.end()), floats.end());
  }
  static RowGroups make(const RowSpec& s, ColKind k) {
    return k == ColKind::Float ? RowGroups() : RowGroups(s);
  }

  // Whether row r of `dst` column q (a view `dst_spec`) holds a key.
  bool contains(const RowSpec& dst_spec, size_t r) const {
    const Cell& x = dst_spec.t->at(r, static_cast<size_t>(dst_spec.cols[0]));
    if (kind == ColKind::Float) {  // PaVeRL: abs(e - f) < 0.005 on the filled float values
      const double v = float_value(x);
      auto it = std::lower_bound(floats.begin(), floats.end(), v - 0.005);
      return it != floats.end() && std::fabs(*it - v) < 0.005;
    }
    return groups.find(spec, dst_spec, r, dst_spec.hash(r)) >= 0;
  }
  size_t size() const { return kind == ColKind::Float ? floats.size() : groups.rep.size(); }
};

// PaVeRL's df_normalization: choose a key column of `src` (first text, else float, else int
// column), find the first column of `dst` of the same dtype that covers the key set, and keep the
// rows of `dst` whose value there occurs in the key set. False when there is no such column.
bool key_filter(const Table& src, const Table& dst, std::vector<size_t>& kept, int* src_col = nullptr,
                int* dst_col = nullptr) {
  int key = -1;
  ColKind kind = ColKind::Text;
  for (ColKind want : {ColKind::Text, ColKind::Float, ColKind::Int}) {
    for (size_t c = 0; c < src.ncols() && key < 0; ++c)
      if (column_kind(src, c) == want) {
        key = static_cast<int>(c);
        kind = want;
      }
    if (key >= 0) break;
  }
  if (key < 0 || src.nrows == 0) return false;
  const KeySet keys(src, static_cast<size_t>(key), kind);
  for (size_t q = 0; q < dst.ncols(); ++q) {
    if (column_kind(dst, q) != kind) continue;
    const RowSpec column(dst, {static_cast<int>(q)});
    std::vector<size_t> rows;
    for (size_t r = 0; r < dst.nrows; ++r)
      if (keys.contains(column, r)) rows.push_back(r);
    if (rows.size() >= keys.size()) {
      kept = std::move(rows);
      if (src_col) *src_col = key;
      if (dst_col) *dst_col = static_cast<int>(q);
      return true;
    }
  }
  return false;
}

// Counter(a's column) <= Counter(b's column), with PaVeRL's values (float64 columns filled).
bool counts_within(const Table& a, size_t ca, const Table& b, size_t cb) {
  const bool fa = column_kind(a, ca) == ColKind::Float, fb = column_kind(b, cb) == ColKind::Float;
  auto value = [](const Cell& x, bool as_float) {
    if (!as_float) return x;
    Cell f;
    f.kind = Kind::Float;
    f.f = float_value(x);
    return f;
  };
  std::vector<Cell> va, vb;
  for (const Cell& x : a.cols[ca].cells) va.push_back(value(x, fa));
  for (const Cell& x : b.cols[cb].cells) vb.push_back(value(x, fb));
  auto less = [](const Cell& x, const Cell& y) { return total_cmp(x, y) < 0; };
  std::sort(va.begin(), va.end(), less);
  std::sort(vb.begin(), vb.end(), less);
  size_t j = 0;
  for (size_t i = 0; i < va.size(); ++i) {  // every value of a must find its own copy in b
    while (j < vb.size() && total_cmp(vb[j], va[i]) < 0) ++j;
    if (j == vb.size() || !exact_eq(vb[j], va[i])) return false;
    ++j;
  }
  return true;
}

}  // namespace

double paverl_acc(const Table& gold, const Table& pred) {
  const size_t rg = gold.nrows, rp = pred.nrows, cg = gold.ncols();
  if (cg == 0) return 0.0;
  if (rg == rp) return static_cast<double>(paverl_columns(gold, nullptr, pred, nullptr)) / cg;
  const size_t diff = rg > rp ? rg - rp : rp - rg;
  if (diff > 5) return 0.0;
  std::vector<size_t> kept;
  if (rp > rg) {
    if (!key_filter(gold, pred, kept) || kept.size() != rg || kept.empty()) return 0.0;
    return static_cast<double>(paverl_columns(gold, nullptr, pred, &kept)) / cg;
  }
  int pkey = -1, gcol = -1;
  if (!key_filter(pred, gold, kept, &pkey, &gcol)) return 0.0;
  // PaVeRL's single-column gold path: when the pred key values are a sub-multiset of the gold
  // column, the prediction itself stands in for the filtered gold, so acc = r_p * c_p / r_g.
  // sqlrl counts one matched column (c_p = 1 there); with more pred columns the official code
  // exceeds 1.
  if (cg == 1 && counts_within(pred, static_cast<size_t>(pkey), gold, static_cast<size_t>(gcol)))
    return static_cast<double>(rp) / static_cast<double>(rg);
  if (kept.size() != rp || kept.empty()) return 0.0;
  const double cm = static_cast<double>(paverl_columns(gold, &kept, pred, nullptr));
  return (static_cast<double>(rp) * cm) / (static_cast<double>(rg) * static_cast<double>(cg));
}

// ---------------------------------------------------------------- table_f1 (sqlrl)
//
// Cell-level F1 under the best column alignment found by hashing:
//   P = one-to-one pairs (gold column, pred column), m(P) = size of the multiset intersection of
//   the gold and pred rows projected on P, score(P) = 2 m |P| / (r_g c_g + r_p c_p).
// P starts from a greedy matching by column-bag overlap and drops pairs while that raises the
// score. The search runs from both sides and the better alignment counts. A spider (unordered,
// without the official quick_rej quirk) match scores exactly 1; anything else scores below 1.

namespace {

// Multiset intersection size of every (gold column, pred column) pair. Each column is grouped
// into distinct values once; the distinct gold values of all columns go into one index (value ->
// the gold columns holding it, in CSR form), so each distinct pred value is looked up once.
std::vector<std::vector<size_t>> column_overlaps(const Table& g, const Table& p) {
  const size_t ng = g.ncols(), np = p.ncols();
  std::vector<RowSpec> gs, ps;
  for (size_t c = 0; c < ng; ++c) gs.emplace_back(g, std::vector<int>{static_cast<int>(c)});
  for (size_t c = 0; c < np; ++c) ps.emplace_back(p, std::vector<int>{static_cast<int>(c)});
  std::vector<RowGroups> gg, pg;
  for (const auto& sp : gs) gg.emplace_back(sp);
  for (const auto& sp : ps) pg.emplace_back(sp);

  // Entries: distinct values over all gold columns.
  struct Owner {
    uint32_t col, cls;
  };
  size_t total = 0;
  for (const auto& grp : gg) total += grp.rep.size();
  ClassIndex entries(total);
  std::vector<const Cell*> entry_cell;  // a representative value per entry
  std::vector<uint32_t> entry_of;       // per (gold column, class), flattened
  std::vector<size_t> base(ng + 1, 0);
  for (size_t a = 0; a < ng; ++a) base[a + 1] = base[a] + gg[a].rep.size();
  entry_of.resize(total);
  for (size_t a = 0; a < ng; ++a)
    for (size_t k = 0; k < gg[a].rep.size(); ++k) {
      const Cell& x = g.at(gg[a].rep[k], a);
      const auto [e, fresh] =
          entries.insert(g.hash_at(gg[a].rep[k], a), [&](uint32_t c) { return exact_eq(*entry_cell[c], x); });
      if (fresh) entry_cell.push_back(&x);
      entry_of[base[a] + k] = e;
    }
  const size_t ne = entry_cell.size();
  std::vector<size_t> start(ne + 1, 0);
  for (uint32_t e : entry_of) ++start[e + 1];
  for (size_t e = 0; e < ne; ++e) start[e + 1] += start[e];
  std::vector<Owner> owners(total);
  std::vector<size_t> fill(start.begin(), start.end() - 1);
  for (size_t a = 0; a < ng; ++a)
    for (size_t k = 0; k < gg[a].rep.size(); ++k)
      owners[fill[entry_of[base[a] + k]]++] = {static_cast<uint32_t>(a), static_cast<uint32_t>(k)};

  std::vector<std::vector<size_t>> ov(ng, std::vector<size_t>(np, 0));
  for (size_t b = 0; b < np; ++b)
    for (size_t k = 0; k < pg[b].rep.size(); ++k) {
      const size_t r = pg[b].rep[k];
      const Cell& x = p.at(r, b);
      const long e = entries.find(p.hash_at(r, b), [&](uint32_t c) { return exact_eq(*entry_cell[c], x); });
      if (e < 0) continue;
      for (size_t o = start[static_cast<size_t>(e)]; o < start[static_cast<size_t>(e) + 1]; ++o)
        ov[owners[o].col][b] += std::min(gg[owners[o].col].count[owners[o].cls], pg[b].count[k]);
    }
  return ov;
}

// score(P) of pairs (gold column, pred column), memoised: both search directions often meet the
// same alignment.
class AlignmentScore {
 public:
  AlignmentScore(const Table& g, const Table& p)
      : g_(g), p_(p), denom_(static_cast<double>(g.nrows * g.ncols() + p.nrows * p.ncols())) {}
  double denom() const { return denom_; }
  double operator()(std::vector<std::pair<int, int>> pairs) {
    if (pairs.empty()) return 0.0;
    std::sort(pairs.begin(), pairs.end());
    auto it = memo_.find(pairs);
    if (it != memo_.end()) return it->second;
    std::vector<int> gc, pc;
    for (auto [a, b] : pairs) {
      gc.push_back(a);
      pc.push_back(b);
    }
    const double m = static_cast<double>(bag_intersection(RowSpec(g_, gc), RowSpec(p_, pc)));
    const double s = 2.0 * m * static_cast<double>(pairs.size()) / denom_;
    memo_.emplace(std::move(pairs), s);
    return s;
  }

 private:
  const Table& g_;
  const Table& p_;
  double denom_;
  std::map<std::vector<std::pair<int, int>>, double> memo_;
};

// Greedy alignment plus backward elimination from table a's side (a is gold unless `flipped`);
// overlap ties go to the lower column index of a.
double table_f1_search(const Table& a_tab, const Table& b_tab, const std::vector<std::vector<size_t>>& overlaps,
                       AlignmentScore& score_gp, bool flipped) {
  auto score = [&](const std::vector<std::pair<int, int>>& pairs) {
    if (!flipped) return score_gp(pairs);
    std::vector<std::pair<int, int>> gp;
    for (auto [x, y] : pairs) gp.emplace_back(y, x);
    return score_gp(std::move(gp));
  };
  struct Cand {
    size_t ov;
    int g, p;
  };
  std::vector<Cand> cands;
  for (size_t a = 0; a < a_tab.ncols(); ++a)
    for (size_t b = 0; b < b_tab.ncols(); ++b)
      if (overlaps[a][b] > 0) cands.push_back({overlaps[a][b], static_cast<int>(a), static_cast<int>(b)});
  std::sort(cands.begin(), cands.end(), [](const Cand& x, const Cand& y) {
    if (x.ov != y.ov) return x.ov > y.ov;
    if (x.g != y.g) return x.g < y.g;
    return x.p < y.p;
  });
  std::vector<char> gu(a_tab.ncols(), 0), pu(b_tab.ncols(), 0);
  std::vector<std::pair<int, int>> pairs;
  for (const auto& c : cands) {
    if (gu[static_cast<size_t>(c.g)] || pu[static_cast<size_t>(c.p)]) continue;
    gu[static_cast<size_t>(c.g)] = pu[static_cast<size_t>(c.p)] = 1;
    pairs.emplace_back(c.g, c.p);
  }
  std::sort(pairs.begin(), pairs.end());
  double best = score(pairs);
  while (pairs.size() > 1) {
    double drop_best = -1;
    size_t drop_at = 0;
    for (size_t k = 0; k < pairs.size(); ++k) {
      // m(P) never exceeds the overlap of any one pair in P: skip drops that cannot win.
      size_t bound = SIZE_MAX;
      for (size_t j = 0; j < pairs.size(); ++j)
        if (j != k)
          bound = std::min(bound, overlaps[static_cast<size_t>(pairs[j].first)][static_cast<size_t>(pairs[j].second)]);
      const double limit = 2.0 * static_cast<double>(bound) * static_cast<double>(pairs.size() - 1) / score_gp.denom();
      if (limit <= std::max(best, drop_best)) continue;
      auto trial = pairs;
      trial.erase(trial.begin() + static_cast<long>(k));
      double s = score(trial);
      if (s > drop_best) {
        drop_best = s;
        drop_at = k;
      }
    }
    if (!(drop_best > best)) break;
    best = drop_best;
    pairs.erase(pairs.begin() + static_cast<long>(drop_at));
  }
  return best;
}

}  // namespace

double table_f1(const Table& gold, const Table& pred) {
  if (match_spider(gold, pred, false, /*quirks=*/false)) return 1.0;
  if (gold.nrows == 0 || pred.nrows == 0 || gold.ncols() == 0 || pred.ncols() == 0) return 0.0;
  // Searching from both sides makes the score symmetric in gold and pred.
  const auto ov = column_overlaps(gold, pred);
  std::vector<std::vector<size_t>> ov_t(pred.ncols(), std::vector<size_t>(gold.ncols()));
  for (size_t a = 0; a < gold.ncols(); ++a)
    for (size_t b = 0; b < pred.ncols(); ++b) ov_t[b][a] = ov[a][b];
  AlignmentScore score(gold, pred);
  return std::max(table_f1_search(gold, pred, ov, score, false), table_f1_search(pred, gold, ov_t, score, true));
}

double partial(Metric metric, const Table& gold_in, const Table& pred_in) {
  std::unique_ptr<Table> own_gold, own_pred;
  const Table& gold = shaped_like(gold_in, pred_in, own_gold);
  const Table& pred = shaped_like(pred_in, gold_in, own_pred);
  switch (metric) {
    case Metric::Paverl: return paverl_acc(gold, pred);
    case Metric::SoftF1: return soft_f1(gold, pred);
    case Metric::TableF1: return table_f1(gold, pred);
  }
  return 0.0;
}

}  // namespace sqlrl
