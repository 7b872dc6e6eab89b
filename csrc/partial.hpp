// Partial-match scores in [0, 1] (docs/architecture.md, 'Semantics: partial match'). Gold is always the first table.
#pragma once
#include <string>

#include "names.hpp"
#include "table.hpp"

namespace sqlrl {

enum class Metric { Paverl, SoftF1, TableF1 };
// Every metric by name, in the order of sqlrl.scoring.METRICS (bound as _core.Metric and _core.METRICS).
inline constexpr Named<Metric> kMetrics[] = {
    {Metric::Paverl, "paverl"}, {Metric::SoftF1, "soft_f1"}, {Metric::TableF1, "table_f1"}};
Metric parse_metric(const std::string& name);

double soft_f1(const Table& gold, const Table& pred);
double paverl_acc(const Table& gold, const Table& pred);
double table_f1(const Table& gold, const Table& pred);
double partial(Metric metric, const Table& gold, const Table& pred);

}  // namespace sqlrl
