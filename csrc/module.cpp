#include <pybind11/pybind11.h>

namespace py = pybind11;

void register_table(py::module_& m);
void register_scoring(py::module_& m);
void register_ngram(py::module_& m);
void register_sqlite(py::module_& m);
void register_sql_scan(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "sqlrl compiled scoring core (see sqlrl.scoring for the documented Python API)";
  register_table(m);
  register_scoring(m);
  register_ngram(m);
  register_sqlite(m);
  register_sql_scan(m);
}
