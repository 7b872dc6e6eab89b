#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <stdexcept>

#include "arrow_reader.hpp"
#include "py_rows.hpp"

namespace py = pybind11;
using namespace sqlrl;

namespace {

std::shared_ptr<Table> from_arrow(py::object obj, size_t max_rows, size_t max_bytes) {
  if (!py::hasattr(obj, "__arrow_c_stream__"))
    throw std::invalid_argument("object does not implement the Arrow PyCapsule interface (__arrow_c_stream__)");
  py::object capsule = obj.attr("__arrow_c_stream__")();
  auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule.ptr(), "arrow_array_stream"));
  if (!stream) throw py::error_already_set();
  if (stream->release == nullptr) throw std::invalid_argument("Arrow stream was already consumed");
  return table_from_arrow_stream(stream, max_rows, max_bytes);
}

py::list table_rows(const Table& t) {
  py::list out;
  for (size_t r = 0; r < t.nrows; ++r) {
    py::tuple row(t.ncols());
    for (size_t c = 0; c < t.ncols(); ++c) row[c] = cell_to_python(t.at(r, c));
    out.append(row);
  }
  return out;
}

}  // namespace

void register_table(py::module_& m) {
  constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();
  // A MemoryError, and like every exception class of sqlrl a sqlrl.errors.SqlrlError (a leaf module).
  const py::tuple bases = py::make_tuple(py::handle(PyExc_MemoryError), py::module_::import("sqlrl.errors").attr("SqlrlError"));
  py::register_exception<ResultTooLarge>(m, "ResultTooLarge", bases);
  py::class_<Table, std::shared_ptr<Table>>(m, "Table")
      .def_static("from_arrow", &from_arrow, py::arg("obj"), py::arg("max_rows") = kNoLimit,
                  py::arg("max_bytes") = kNoLimit)
      .def_static("from_rows", &table_from_rows, py::arg("rows"), py::arg("columns") = py::none(),
                  py::arg("max_rows") = kNoLimit)
      .def_property_readonly("columns", [](const Table& t) { return t.names; })
      .def_property_readonly("num_rows", [](const Table& t) { return t.nrows; })
      .def_property_readonly("num_columns", [](const Table& t) { return t.ncols(); })
      .def_property_readonly("truncated", [](const Table& t) { return t.truncated; })
      .def("__len__", [](const Table& t) { return t.nrows; })
      .def("rows", &table_rows)
      .def(
          "fingerprint",
          [](const Table& t, bool ordered, bool column_order) { return t.fingerprint(ordered, column_order); },
          py::arg("ordered") = false, py::arg("column_order") = true,
          "Hash of the content: the bag of rows (a list when ordered); column_order=False hashes a column "
          "permutation alike.")
      .def("__repr__", [](const Table& t) {
        return "<sqlrl.Table " + std::to_string(t.nrows) + " rows x " + std::to_string(t.ncols()) + " columns>";
      });
}
