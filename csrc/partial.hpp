// Partial-match scores in [0, 1] (docs/architecture.md, 'Semantics: partial match'). Gold is always the first table.
#pragma once
#include <string>

#include "table.hpp"

namespace sqlrl {

enum class Metric { Paverl, SoftF1, TableF1 };
Metric parse_metric(const std::string& name);

double soft_f1(const Table& gold, const Table& pred);
double paverl_acc(const Table& gold, const Table& pred);
double table_f1(const Table& gold, const Table& pred);
double partial(Metric metric, const Table& gold, const Table& pred);

}  // namespace sqlrl
