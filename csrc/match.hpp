// Execution-match verdicts (docs/architecture.md, 'Semantics: execution match'). Gold is always the first table.
#pragma once
#include <string>
#include <vector>

#include "names.hpp"
#include "table.hpp"

namespace sqlrl {

struct MatchOptions {
  bool order_matters = false;            // spider: gold SQL has ORDER BY
  bool quirks = true;                    // spider: emulate test-suite's quick_rej row-sort quirk
  bool ignore_order = false;             // spider2: sort each column vector before comparing
  std::vector<int> condition_cols;       // spider2: gold columns that must be found (empty: all)
};

enum class Mode { Spider, Bird, Spider2, Strict };
// Every mode by name, in the order of sqlrl.scoring.MODES (bound as _core.Mode and _core.MODES).
inline constexpr Named<Mode> kModes[] = {
    {Mode::Spider, "spider"}, {Mode::Bird, "bird"}, {Mode::Spider2, "spider2"}, {Mode::Strict, "strict"}};
Mode parse_mode(const std::string& name);

bool match_spider(const Table& gold, const Table& pred, bool order_matters, bool quirks = true);
bool match_bird(const Table& gold, const Table& pred);
bool match_strict(const Table& gold, const Table& pred);
bool match_spider2(const Table& gold, const Table& pred, const std::vector<int>& condition_cols, bool ignore_order);
bool match(Mode mode, const Table& gold, const Table& pred, const MatchOptions& opt);

// Finds a pred column for every gold column such that the permuted pred equals gold as a bag
// (or as a list when order_matters). Returns false when none exists; `perm[j]` is the pred column
// assigned to gold column j.
bool find_column_permutation(const Table& gold, const Table& pred, bool order_matters, std::vector<int>& perm);

}  // namespace sqlrl
