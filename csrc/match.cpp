#include "match.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <numeric>
#include <stdexcept>

#include "hash_bag.hpp"
#include "rows.hpp"

namespace sqlrl {

Mode parse_mode(const std::string& name) { return parse_named(kModes, name, "execution-match mode"); }

namespace {

constexpr size_t kMaxSearchNodes = 2'000'000;

struct PermSearch {
  const Table& g;
  const Table& p;
  bool ordered;
  std::vector<std::vector<int>> cand;  // candidate pred columns per gold column
  std::vector<int> order;              // gold columns in search order
  std::vector<int> perm;               // gold col -> pred col
  std::vector<char> used;
  std::vector<std::vector<uint64_t>> gpart, ppart;  // partial row hashes per depth (unordered only)
  size_t nodes = 0;

  PermSearch(const Table& gold, const Table& pred, bool order_matters)
      : g(gold), p(pred), ordered(order_matters) {}

  bool full_check() const {
    RowSpec gs = RowSpec::all(g);
    RowSpec ps(p, perm);
    return ordered ? list_equal(gs, ps) : bag_equal(gs, ps);
  }

  // Necessary condition after assigning `depth` columns: the projected row bags agree.
  bool branching = false;  // some gold column has several candidates: partial checks can prune

  bool partial_ok(size_t depth) {
    if (ordered || !branching || depth < 2 || depth == order.size()) return true;
    const int gc = order[depth - 1];
    const int pc = perm[static_cast<size_t>(gc)];
    auto& gh = gpart[depth];
    auto& ph = ppart[depth];
    const size_t n = g.nrows;
    for (size_t r = 0; r < n; ++r) {
      gh[r] = combine(gpart[depth - 1][r], g.hash_at(r, static_cast<size_t>(gc)));
      ph[r] = combine(ppart[depth - 1][r], p.hash_at(r, static_cast<size_t>(pc)));
    }
    std::vector<uint64_t> a(gh), b(ph);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  }

  bool dfs(size_t depth) {
    if (++nodes > kMaxSearchNodes) return false;
    if (depth == order.size()) return full_check();
    const int gc = order[depth];
    std::vector<uint64_t> tried;  // pred columns with identical vectors are interchangeable
    for (int pc : cand[static_cast<size_t>(gc)]) {
      if (used[static_cast<size_t>(pc)]) continue;
      const uint64_t sh = p.cols[static_cast<size_t>(pc)].seq_hash;
      if (std::find(tried.begin(), tried.end(), sh) != tried.end()) continue;
      tried.push_back(sh);
      used[static_cast<size_t>(pc)] = 1;
      perm[static_cast<size_t>(gc)] = pc;
      if (depth == 0 && !ordered && branching) {
        for (size_t r = 0; r < g.nrows; ++r) {
          gpart[1][r] = combine(0x2b7e151628aed2a6ULL, g.hash_at(r, static_cast<size_t>(gc)));
          ppart[1][r] = combine(0x2b7e151628aed2a6ULL, p.hash_at(r, static_cast<size_t>(pc)));
        }
      }
      if (partial_ok(depth + 1) && dfs(depth + 1)) return true;
      used[static_cast<size_t>(pc)] = 0;
    }
    return false;
  }

  bool run(std::vector<int>& out) {
    const size_t nc = g.ncols();
    cand.assign(nc, {});
    for (size_t j = 0; j < nc; ++j) {
      for (size_t q = 0; q < p.ncols(); ++q) {
        const bool same = ordered ? g.cols[j].seq_hash == p.cols[q].seq_hash : g.cols[j].bag_hash == p.cols[q].bag_hash;
        if (same) cand[j].push_back(static_cast<int>(q));
      }
      if (cand[j].empty()) return false;
    }
    for (const auto& c : cand) branching = branching || c.size() > 1;
    order.resize(nc);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return cand[a].size() < cand[b].size(); });
    perm.assign(nc, -1);
    used.assign(p.ncols(), 0);
    if (!ordered && branching) {
      gpart.assign(nc + 1, std::vector<uint64_t>(g.nrows));
      ppart.assign(nc + 1, std::vector<uint64_t>(g.nrows));
    }
    if (!dfs(0)) return false;
    out = perm;
    return true;
  }
};

// Emulates test-suite's quick_rej: each row's cells sorted by str(x) + str(type(x)).
std::vector<std::vector<int>> py_sorted_rows(const Table& t) {
  std::vector<std::vector<int>> out(t.nrows);
  std::vector<std::string> keys(t.ncols());
  for (size_t r = 0; r < t.nrows; ++r) {
    for (size_t c = 0; c < t.ncols(); ++c) {
      keys[c].clear();
      append_py_str(keys[c], t.at(r, c));
      keys[c] += py_type_name(t.at(r, c).py);
    }
    auto& o = out[r];
    o.resize(t.ncols());
    std::iota(o.begin(), o.end(), 0);
    std::stable_sort(o.begin(), o.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  }
  return out;
}

bool quick_rej_passes(const Table& gold, const Table& pred, bool order_matters) {
  auto go = py_sorted_rows(gold);
  auto po = py_sorted_rows(pred);
  RowSpec gs(gold, {}), ps(pred, {});
  gs.per_row = &go;
  ps.per_row = &po;
  return order_matters ? list_equal(gs, ps) : set_equal(gs, ps);
}

// math.isclose(a, b, rel_tol=1e-9, abs_tol=0.01)
bool isclose(double a, double b) {
  if (a == b) return true;
  if (std::isinf(a) || std::isinf(b)) return false;
  const double diff = std::fabs(b - a);
  return diff <= std::fabs(1e-9 * b) || diff <= std::fabs(1e-9 * a) || diff <= 0.01;
}

// A column as Spider 2.0's script sees it: NULL and NaN read as 0.
struct S2Col {
  const Column* src = nullptr;
  Cell zero;
  std::vector<uint64_t> ids;  // ignore_order: hash of each value's printed identity (value, kind, Python type, sign)
  uint64_t bag = 0;           // order-free hash of `ids`
  NumberSums numbers;  // ignore_order: the numbers of the column
  mutable std::vector<uint32_t> order;  // row order sorted by the official key (built on demand)

  size_t size() const { return src->cells.size(); }
  const Cell& at(size_t r) const {
    const Cell& x = src->cells[r];
    return x.kind == Kind::Null || (x.kind == Kind::Float && std::isnan(x.f)) ? zero : x;
  }
};

// Same printed identity: then str(x) and the number test agree, so the official sort key does.
bool same_identity(const Cell& a, const Cell& b) {
  if (a.kind != b.kind || a.py != b.py) return false;
  switch (a.kind) {
    case Kind::Null: return true;
    case Kind::Int: return a.i == b.i;
    case Kind::Float: return std::memcmp(&a.f, &b.f, sizeof(double)) == 0;
    default: return a.len == b.len && (a.len == 0 || std::memcmp(a.p, b.p, a.len) == 0);
  }
}

S2Col spider2_column(const Table& t, size_t c, bool ignore_order) {
  S2Col col;
  col.src = &t.cols[c];
  col.zero.kind = Kind::Int;
  col.zero.py = PyType::Int;
  col.zero.i = 0;
  if (!ignore_order) return col;
  const uint64_t int_tag = static_cast<uint64_t>(Kind::Int) << 8 | static_cast<uint64_t>(PyType::Int);
  const uint64_t zero_id = combine(exact_hash(col.zero), int_tag);
  col.ids.resize(t.nrows);
  for (size_t r = 0; r < t.nrows; ++r) {
    const Cell& x = col.src->cells[r];
    if (x.kind == Kind::Null || (x.kind == Kind::Float && std::isnan(x.f))) {
      col.ids[r] = zero_id;
      col.numbers.add(0.0);
      continue;
    }
    uint64_t tag = static_cast<uint64_t>(x.kind) << 8 | static_cast<uint64_t>(x.py);
    if (x.kind == Kind::Float && std::signbit(x.f)) tag |= 1u << 16;
    col.ids[r] = combine(col.src->hashes[r], tag);
    if (x.is_number()) col.numbers.add(x.as_double());
  }
  col.bag = bag_of(col.ids);
  return col;
}

// Rows sorted as the official script sorts a vector: by str(x), non-numbers first on ties.
const std::vector<uint32_t>& sorted_order(const S2Col& col) {
  if (!col.order.empty() || col.size() == 0) return col.order;
  const size_t n = col.size();
  std::string arena;
  std::vector<std::pair<size_t, size_t>> span(n);  // (offset, length) of str(x) in the arena
  for (size_t r = 0; r < n; ++r) {
    const Cell& x = col.at(r);
    if (x.kind == Kind::Text) continue;
    const size_t at = arena.size();
    append_py_str(arena, x);
    span[r] = {at, arena.size() - at};
  }
  std::vector<std::string_view> key(n);
  for (size_t r = 0; r < n; ++r) {
    const Cell& x = col.at(r);
    key[r] = x.kind == Kind::Text ? x.bytes() : std::string_view(arena.data() + span[r].first, span[r].second);
  }
  // Sort on the keys' first 8 bytes packed big-endian (zero-padded: never out of order with the
  // full bytes); only equal prefixes compare whole keys.
  struct Item {
    uint64_t prefix;
    uint32_t row;
  };
  std::vector<Item> items(n);
  for (size_t r = 0; r < n; ++r) {
    uint64_t p = 0;
    const std::string_view k = key[r];
    for (size_t b = 0; b < 8; ++b) p = p << 8 | (b < k.size() ? static_cast<unsigned char>(k[b]) : 0u);
    items[r] = {p, static_cast<uint32_t>(r)};
  }
  std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const int c = key[a.row].compare(key[b.row]);
    if (c != 0) return c < 0;
    return !col.at(a.row).is_number() && col.at(b.row).is_number();
  });
  col.order.resize(n);
  for (size_t r = 0; r < n; ++r) col.order[r] = items[r].row;
  return col.order;
}

bool spider2_vectors_match(const S2Col& a, const S2Col& b, bool ignore_order) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (ignore_order) {
    // Bags of equal printed identities sort to the same sequence: a match without sorting. Not when
    // text and bytes meet: "b'x'" and b'x' print alike yet differ, and the stable sort then pairs
    // them by position.
    const uint32_t text_and_bytes = 1u << static_cast<unsigned>(Kind::Text) | 1u << static_cast<unsigned>(Kind::Bytes);
    const bool printed_ties_equal = ((a.src->kinds | b.src->kinds) & text_and_bytes) != text_and_bytes;
    if (printed_ties_equal && a.bag == b.bag &&
        bags_equal(a.ids, b.ids, [&](size_t i, size_t j) { return same_identity(a.at(i), a.at(j)); },
                   [&](size_t i, size_t j) { return same_identity(a.at(i), b.at(j)); }))
      return true;
    // Sorted pairing matches numbers with numbers within isclose(abs_tol=0.01, rel_tol=1e-9).
    if (!a.numbers.may_pair_within(b.numbers, 0.01)) return false;
  }
  const std::vector<uint32_t>* oa = ignore_order ? &sorted_order(a) : nullptr;
  const std::vector<uint32_t>* ob = ignore_order ? &sorted_order(b) : nullptr;
  for (size_t k = 0; k < n; ++k) {
    const Cell& x = a.at(oa ? (*oa)[k] : k);
    const Cell& y = b.at(ob ? (*ob)[k] : k);
    if (x.is_number() && y.is_number()) {
      if (!isclose(x.as_double(), y.as_double())) return false;
    } else if (!exact_eq(x, y)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool find_column_permutation(const Table& gold, const Table& pred, bool order_matters, std::vector<int>& perm) {
  if (gold.nrows != pred.nrows || gold.ncols() != pred.ncols()) return false;
  PermSearch search(gold, pred, order_matters);
  return search.run(perm);
}

bool match_spider(const Table& gold, const Table& pred, bool order_matters, bool quirks) {
  if (gold.nrows == 0 && pred.nrows == 0) return true;
  if (gold.nrows != pred.nrows) return false;
  if (gold.ncols() != pred.ncols()) return false;
  std::vector<int> perm;
  if (!find_column_permutation(gold, pred, order_matters, perm)) return false;
  if (!quirks) return true;
  // quick_rej can only reject; it differs from the permutation search only when two equal values
  // print differently (1 vs 1.0, True vs 1, 0.0 vs -0.0). Under the permutation found, matched
  // cells are equal, so if each column pair holds one Python type (besides None) and no -0.0,
  // every matched row sorts identically and quick_rej passes.
  for (size_t j = 0; j < gold.ncols(); ++j) {
    const Column& a = gold.cols[j];
    const Column& b = pred.cols[static_cast<size_t>(perm[j])];
    const uint32_t types = a.py_types | b.py_types;
    if ((types & (types - 1)) != 0 || a.has_neg_zero || b.has_neg_zero) return quick_rej_passes(gold, pred, order_matters);
  }
  return true;
}

bool match_bird(const Table& gold, const Table& pred) {
  if (gold.nrows == 0 || pred.nrows == 0) return gold.nrows == pred.nrows;
  if (gold.ncols() != pred.ncols()) return false;
  return set_equal(RowSpec::all(gold), RowSpec::all(pred));
}

bool match_strict(const Table& gold, const Table& pred) {
  if (gold.nrows != pred.nrows) return false;
  if (gold.nrows == 0) return true;
  if (gold.ncols() != pred.ncols()) return false;
  return list_equal(RowSpec::all(gold), RowSpec::all(pred));
}

bool match_spider2(const Table& gold, const Table& pred, const std::vector<int>& condition_cols, bool ignore_order) {
  std::vector<size_t> gcols;
  const long gn = static_cast<long>(gold.ncols());
  if (condition_cols.empty() || gold.nrows == 0) {  // an empty gold's vectors are all empty: any of them will do
    for (size_t c = 0; c < gold.ncols(); ++c) gcols.push_back(c);
  } else {
    for (int c : condition_cols) {
      long k = c < 0 ? gn + c : c;
      if (k < 0 || k >= gn)
        throw std::invalid_argument("condition column " + std::to_string(c) + " is out of range for a gold table with " +
                                    std::to_string(gn) + " columns");
      gcols.push_back(static_cast<size_t>(k));
    }
  }
  if (!gcols.empty() && gold.nrows != pred.nrows) return false;  // vectors of unequal length never match
  std::vector<S2Col> pvecs;
  pvecs.reserve(pred.ncols());
  for (size_t q = 0; q < pred.ncols(); ++q) pvecs.push_back(spider2_column(pred, q, ignore_order));
  for (size_t c : gcols) {
    const S2Col gv = spider2_column(gold, c, ignore_order);
    bool found = false;
    for (const auto& pv : pvecs) {
      if (spider2_vectors_match(gv, pv, ignore_order)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool match(Mode mode, const Table& gold_in, const Table& pred_in, const MatchOptions& opt) {
  std::unique_ptr<Table> own_gold, own_pred;
  const Table& gold = shaped_like(gold_in, pred_in, own_gold);
  const Table& pred = shaped_like(pred_in, gold_in, own_pred);
  switch (mode) {
    case Mode::Spider: return match_spider(gold, pred, opt.order_matters, opt.quirks);
    case Mode::Bird: return match_bird(gold, pred);
    case Mode::Spider2: return match_spider2(gold, pred, opt.condition_cols, opt.ignore_order);
    case Mode::Strict: return match_strict(gold, pred);
  }
  return false;
}

}  // namespace sqlrl
