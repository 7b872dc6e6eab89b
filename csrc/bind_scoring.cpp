#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <stdexcept>

#include "match.hpp"
#include "parallel.hpp"
#include "partial.hpp"

namespace py = pybind11;
using namespace sqlrl;

namespace {

using TableRef = std::shared_ptr<Table>;

// A Table argument that pybind11 let through as None (a null holder).
void require_tables(const TableRef& gold, const TableRef& pred) {
  if (!gold || !pred) throw py::type_error("gold and pred must be Table objects, not None");
}

bool match_one(const TableRef& gold, const TableRef& pred, const std::string& mode, bool order_matters,
               bool ignore_order, const std::vector<int>& condition_cols, bool quirks) {
  require_tables(gold, pred);
  const Mode m = parse_mode(mode);
  MatchOptions opt;
  opt.order_matters = order_matters;
  opt.ignore_order = ignore_order;
  opt.condition_cols = condition_cols;
  opt.quirks = quirks;
  py::gil_scoped_release release;
  return match(m, *gold, *pred, opt);
}

double partial_one(const TableRef& gold, const TableRef& pred, const std::string& metric) {
  require_tables(gold, pred);
  const Metric m = parse_metric(metric);
  py::gil_scoped_release release;
  return partial(m, *gold, *pred);
}

template <class T>
const T& pick(const std::vector<T>& v, size_t i, const T& fallback) {
  if (v.empty()) return fallback;
  return v.size() == 1 ? v[0] : v[i];
}

std::map<std::string, std::vector<double>> score_batch(const std::vector<TableRef>& golds,
                                                       const std::vector<TableRef>& preds,
                                                       const std::vector<std::string>& modes,
                                                       const std::vector<std::string>& metrics,
                                                       const std::vector<bool>& order_matters,
                                                       const std::vector<bool>& ignore_order,
                                                       const std::vector<std::vector<int>>& condition_cols,
                                                       bool quirks, int workers) {
  const size_t n = preds.size();
  if (golds.size() != n && golds.size() != 1)
    throw std::invalid_argument("golds must have one table or as many as preds (" + std::to_string(n) + "), got " +
                                std::to_string(golds.size()));
  auto check_len = [n](size_t k, const char* what) {
    if (k > 1 && k != n) throw std::invalid_argument(std::string(what) + " must have length 1 or len(preds)");
  };
  check_len(order_matters.size(), "order_matters");
  check_len(ignore_order.size(), "ignore_order");
  check_len(condition_cols.size(), "condition_cols");
  for (const auto& g : golds)
    if (!g) throw py::type_error("every gold must be a Table (None is allowed only for preds)");
  std::vector<Mode> mode_ids;
  for (const auto& m : modes) mode_ids.push_back(parse_mode(m));
  std::vector<Metric> metric_ids;
  for (const auto& m : metrics) metric_ids.push_back(parse_metric(m));

  std::map<std::string, std::vector<double>> out;
  std::vector<std::vector<double>*> mode_out, metric_out;
  for (const auto& m : modes) mode_out.push_back(&(out[m] = std::vector<double>(n, 0.0)));
  for (const auto& m : metrics) metric_out.push_back(&(out[m] = std::vector<double>(n, 0.0)));
  const std::vector<int> no_cols;
  {
    py::gil_scoped_release release;
    run_parallel(n, workers, [&](size_t i) {
      const TableRef& p = preds[i];
      if (!p) return;  // a failed prediction scores 0 everywhere
      const Table& g = *golds[golds.size() == 1 ? 0 : i];
      MatchOptions opt;
      opt.order_matters = order_matters.empty() ? false : (order_matters.size() == 1 ? order_matters[0] : order_matters[i]);
      opt.ignore_order = ignore_order.empty() ? false : (ignore_order.size() == 1 ? ignore_order[0] : ignore_order[i]);
      opt.condition_cols = pick(condition_cols, i, no_cols);
      opt.quirks = quirks;
      for (size_t k = 0; k < mode_ids.size(); ++k) (*mode_out[k])[i] = match(mode_ids[k], g, *p, opt) ? 1.0 : 0.0;
      for (size_t k = 0; k < metric_ids.size(); ++k) (*metric_out[k])[i] = partial(metric_ids[k], g, *p);
    });
  }
  return out;
}

// A Python enum `enum_name` with one member per entry of `table` (named as in Python: Mode.soft_f1 ...),
// and the tuple of the names in table order as the module attribute `tuple_name`.
template <class E, size_t N>
void bind_names(py::module_& m, const char* enum_name, const char* tuple_name, const Named<E> (&table)[N],
                const char* doc) {
  py::enum_<E> e(m, enum_name, doc);
  py::tuple names(N);
  for (size_t i = 0; i < N; ++i) {
    e.value(table[i].name, table[i].value);
    names[i] = py::str(table[i].name);
  }
  m.attr(tuple_name) = names;
}

std::vector<int> column_permutation(const TableRef& gold, const TableRef& pred, bool order_matters) {
  require_tables(gold, pred);
  std::vector<int> perm;
  py::gil_scoped_release release;
  if (!find_column_permutation(*gold, *pred, order_matters, perm)) perm.clear();
  return perm;
}

}  // namespace

void register_scoring(py::module_& m) {
  bind_names(m, "Mode", "MODES", kModes, "Execution-match modes (0/1 verdicts); MODES holds their names in order.");
  bind_names(m, "Metric", "METRICS", kMetrics, "Partial-match metrics (scores in [0, 1]); METRICS holds their names in order.");
  m.def("match", &match_one, py::arg("gold"), py::arg("pred"), py::arg("mode") = "spider",
        py::arg("order_matters") = false, py::arg("ignore_order") = false,
        py::arg("condition_cols") = std::vector<int>{}, py::arg("quirks") = true);
  m.def("partial", &partial_one, py::arg("gold"), py::arg("pred"), py::arg("metric") = "table_f1");
  m.def("score_batch", &score_batch, py::arg("golds"), py::arg("preds"), py::arg("modes"), py::arg("metrics"),
        py::arg("order_matters"), py::arg("ignore_order"), py::arg("condition_cols"), py::arg("quirks") = true, py::arg("workers") = 1);
  m.def("column_permutation", &column_permutation, py::arg("gold"), py::arg("pred"), py::arg("order_matters") = false);
  m.def("py_float_repr", [](double x) {
    std::string s;
    append_py_float(s, x);
    return s;
  });
}
