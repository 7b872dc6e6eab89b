#include "table.hpp"

#include <algorithm>

#include "hash_bag.hpp"
#include "rows.hpp"

#include <cmath>

namespace sqlrl {

Table::Table() = default;
Table::~Table() = default;

const RowGroups& Table::row_groups() const {
  std::call_once(groups_once_, [this] { groups_ = std::make_unique<RowGroups>(RowSpec::all(*this)); });
  return *groups_;
}

uint64_t Table::arena_append(const char* p, size_t n) {
  uint64_t off = arena_.size();
  arena_.append(p, n);
  return off;
}

void Table::finalize() {
  const char* base = arena_.data();
  for (auto& col : cols) {
    col.hashes.resize(col.cells.size());
    uint64_t seq = 0x84222325cbf29ce4ULL;
    for (size_t r = 0; r < col.cells.size(); ++r) {
      Cell& c = col.cells[r];
      if (c.kind == Kind::Text || c.kind == Kind::Bytes) c.p = base + c.off;
      if (c.kind != Kind::Null) col.py_types |= 1u << static_cast<unsigned>(c.py);
      col.kinds |= 1u << static_cast<unsigned>(c.kind);
      if (c.kind == Kind::Float && c.f == 0.0 && std::signbit(c.f)) col.has_neg_zero = true;
      uint64_t h = exact_hash(c);
      col.hashes[r] = h;
      seq = combine(seq, h);
    }
    col.bag_hash = bag_of(col.hashes);
    col.seq_hash = seq;
  }
  row_hashes.clear();  // so that hashes() computes them rather than reading this cache
  row_hashes = RowSpec::all(*this).hashes().own;
}

const Table& shaped_like(const Table& t, const Table& other, std::unique_ptr<Table>& own) {
  if (t.nrows != 0 || t.ncols() != 0) return t;
  const bool other_shapeless = other.nrows == 0 && other.ncols() == 0;
  own = std::make_unique<Table>();
  own->cols.resize(other_shapeless ? 1 : other.ncols());
  for (size_t c = 0; c < own->cols.size(); ++c) own->names.push_back("c" + std::to_string(c));
  own->finalize();
  return *own;
}

uint64_t Table::fingerprint(bool ordered, bool column_order) const {
  RowHashes own;
  const uint64_t* rh = row_hashes.data();
  if (!column_order) {  // columns in the order of their value bags (ties keep their order)
    std::vector<int> order(ncols());
    for (size_t c = 0; c < ncols(); ++c) order[c] = static_cast<int>(c);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return cols[a].bag_hash < cols[b].bag_hash; });
    own = RowSpec(*this, std::move(order)).hashes();
    rh = own.p;
  }
  uint64_t h = mix64(ncols() * 0x9e3779b97f4a7c15ULL + 1);
  if (ordered) {
    for (size_t r = 0; r < nrows; ++r) h = combine(h, rh[r]);
  } else {
    uint64_t bag = 0;
    for (size_t r = 0; r < nrows; ++r) bag += mix64(rh[r] ^ 0x452821e638d01377ULL);
    h = combine(h, bag + nrows);
  }
  return h;
}

}  // namespace sqlrl
