// Row-level helpers shared by the matchers: rows as column lists, grouping by hash with exact checks.
#pragma once
#include <cstdint>
#include <vector>

#include "class_index.hpp"
#include "table.hpp"

namespace sqlrl {

// Row hashes of a view: the table's cached ones, or computed for the view (then owned here).
struct RowHashes {
  std::vector<uint64_t> own;
  const uint64_t* p = nullptr;
  RowHashes() = default;
  RowHashes(RowHashes&&) = default;
  RowHashes& operator=(RowHashes&&) = default;
  RowHashes(const RowHashes&) = delete;
  uint64_t operator[](size_t i) const { return p[i]; }
};

// A view of a table's rows restricted to (and ordered by) some columns. When `per_row` is set,
// row r uses its own column order per_row[r] (used to emulate test-suite's quick_rej).
struct RowSpec {
  const Table* t = nullptr;
  std::vector<int> cols;
  const std::vector<std::vector<int>>* per_row = nullptr;

  RowSpec(const Table& table, std::vector<int> c) : t(&table), cols(std::move(c)) {}
  static RowSpec all(const Table& table);

  size_t nrows() const { return t->nrows; }
  size_t width() const { return per_row ? (t->nrows ? (*per_row)[0].size() : 0) : cols.size(); }
  int col(size_t r, size_t j) const { return per_row ? (*per_row)[r][j] : cols[j]; }
  // Whether the view is the whole table in its own column order (then Table::row_hashes apply).
  bool is_all() const;
  uint64_t hash(size_t r) const;
  // hash(r) of every row, computed column by column (or the table's cached row hashes).
  RowHashes hashes() const;
  bool eq(size_t r, const RowSpec& o, size_t ro) const;
};

// Combines one more column into row hashes: the step RowSpec::hash takes per column.
uint64_t row_hash_seed();
uint64_t row_hash_finish(uint64_t h, size_t width);

// Distinct rows with their counts (first occurrence order) in a ClassIndex; rows with equal
// hashes are told apart by exact comparison.
struct RowGroups {
  std::vector<size_t> rep;    // first row of each class
  std::vector<size_t> count;  // rows in each class

  RowGroups() = default;  // no rows
  explicit RowGroups(const RowSpec& s);
  // Index of the class (of the rows of `mine`) equal to row r of `s` with hash h, or -1.
  long find(const RowSpec& mine, const RowSpec& s, size_t r, uint64_t h) const;
  // The class of every row of `s` (or -1), exact: when no two classes share a hash, rows are
  // paired by hash alone and the pairs checked column by column afterwards (cache-friendly).
  // With `stop_at_miss` it returns at the first row that has no class (the rest are then -1 too).
  std::vector<long> find_all(const RowSpec& mine, const RowSpec& s, const uint64_t* h,
                             bool stop_at_miss = false) const;

 private:
  ClassIndex index_;
};

// Size of the multiset intersection of the rows of a and b.
size_t bag_intersection(const RowSpec& a, const RowSpec& b);
bool bag_equal(const RowSpec& a, const RowSpec& b);
bool set_equal(const RowSpec& a, const RowSpec& b);
bool list_equal(const RowSpec& a, const RowSpec& b);

}  // namespace sqlrl
