// A canonicalised result table: columns of cells, hashed once, shared read-only between threads.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cell.hpp"

namespace sqlrl {

struct RowGroups;

struct Column {
  std::vector<Cell> cells;
  std::vector<uint64_t> hashes;  // exact_hash of each cell
  uint64_t bag_hash = 0;         // order-insensitive hash of the column's multiset of values
  uint64_t seq_hash = 0;         // order-sensitive hash of the column vector
  uint32_t py_types = 0;         // bit per PyType present (NULLs excluded)
  uint32_t kinds = 0;            // bit per Kind present (NULLs included)
  bool has_neg_zero = false;     // holds -0.0, which prints differently from 0.0
};

class Table {
 public:
  std::vector<std::string> names;
  std::vector<Column> cols;
  std::vector<uint64_t> row_hashes;  // RowSpec::all(*this).hash(r) of every row, set by finalize()
  size_t nrows = 0;
  bool truncated = false;  // rows beyond the reader's row cap were dropped

  size_t ncols() const { return cols.size(); }
  const Cell& at(size_t row, size_t col) const { return cols[col].cells[row]; }
  uint64_t hash_at(size_t row, size_t col) const { return cols[col].hashes[row]; }

  // Hash of the table's content: its bag of rows (a list when `ordered`); with `column_order`
  // false, the columns are first put in the order of their value bags, so a column permutation
  // of the table hashes alike (columns with equal value bags keep their relative order).
  uint64_t fingerprint(bool ordered, bool column_order = true) const;

  // The distinct rows of the whole table in a hash index, built on first use (thread-safe) and
  // kept: a gold table scored against a group of predictions groups its rows once. Only the
  // gold side of a comparison uses it.
  const RowGroups& row_groups() const;

  Table();
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Building: append bytes to the arena (returns offset), or write to it directly (a cell's text
  // then starts at an offset into it), then finalize() once.
  uint64_t arena_append(const char* p, size_t n);
  std::string& arena() { return arena_; }
  void finalize();

 private:
  std::string arena_;
  mutable std::once_flag groups_once_;
  mutable std::unique_ptr<RowGroups> groups_;
};


// A table read from zero Python rows (what sqlite3 returns for an empty result) carries no column
// count. Scored against `other`, it takes other's column count, or one column when other has none
// either: the shape an empty result of a well-formed query has in the official scripts (the
// convention of the reference twin). Any other table is returned as it is.
const Table& shaped_like(const Table& t, const Table& other, std::unique_ptr<Table>& own);

}  // namespace sqlrl
