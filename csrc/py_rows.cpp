#include "py_rows.hpp"

#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace sqlrl {

namespace {

struct PyTypes {
  py::object decimal, date, time, datetime, timedelta;
  PyTypes() {
    auto dec = py::module_::import("decimal");
    auto dt = py::module_::import("datetime");
    decimal = dec.attr("Decimal");
    date = dt.attr("date");
    time = dt.attr("time");
    datetime = dt.attr("datetime");
    timedelta = dt.attr("timedelta");
  }
};

const PyTypes& py_types() {
  static PyTypes* types = new PyTypes();  // leaked on purpose: lives until interpreter exit
  return *types;
}

void set_text(Table& t, Cell& c, const char* p, size_t n, Kind kind, PyType py) {
  c.kind = kind;
  c.py = py;
  c.off = t.arena_append(p, n);
  c.len = static_cast<uint32_t>(n);
}

void set_str(Table& t, Cell& c, PyObject* s, PyType py) {
  Py_ssize_t n;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p) {
    set_text(t, c, p, static_cast<size_t>(n), Kind::Text, py);
    return;
  }
  PyErr_Clear();  // lone surrogates (e.g. from errors='surrogateescape'): keep the raw bytes
  py::object b = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape"));
  if (!b) {
    PyErr_Clear();
    b = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass"));
  }
  if (!b) throw py::error_already_set();
  set_text(t, c, PyBytes_AS_STRING(b.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(b.ptr())), Kind::Text, py);
}

void convert(Table& t, PyObject* v, Cell& c) {
  if (v == Py_None) {
    c.kind = Kind::Null;
    c.py = PyType::None;
    return;
  }
  if (PyBool_Check(v)) {
    c.kind = Kind::Int;
    c.py = PyType::Bool;
    c.i = v == Py_True;
    return;
  }
  if (PyLong_Check(v)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0) {
      if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
      c.kind = Kind::Int;
      c.py = PyType::Int;
      c.i = x;
      return;
    }
    double d = PyLong_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      py::str s(v);
      set_str(t, c, s.ptr(), PyType::Int);
      return;
    }
    c.kind = Kind::Float;
    c.py = PyType::Int;
    c.f = d;
    return;
  }
  if (PyFloat_Check(v)) {
    c.kind = Kind::Float;
    c.py = PyType::Float;
    c.f = PyFloat_AS_DOUBLE(v);
    return;
  }
  if (PyUnicode_Check(v)) {
    set_str(t, c, v, PyType::Str);
    return;
  }
  if (PyBytes_Check(v)) {
    set_text(t, c, PyBytes_AS_STRING(v), static_cast<size_t>(PyBytes_GET_SIZE(v)), Kind::Bytes, PyType::Bytes);
    return;
  }
  if (PyByteArray_Check(v) || PyMemoryView_Check(v)) {
    py::bytes b = py::reinterpret_steal<py::bytes>(PyBytes_FromObject(v));
    if (!b) throw py::error_already_set();
    set_text(t, c, PyBytes_AS_STRING(b.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(b.ptr())), Kind::Bytes,
             PyType::Bytes);
    return;
  }
  const PyTypes& T = py_types();
  py::handle h(v);
  if (py::isinstance(h, T.decimal)) {
    const bool finite = h.attr("is_finite")().cast<bool>();
    if (finite && h.attr("as_tuple")().attr("exponent").cast<long>() >= 0) {
      py::int_ as_int(py::reinterpret_borrow<py::object>(h));
      convert(t, as_int.ptr(), c);
      return;
    }
    c.kind = Kind::Float;
    c.py = PyType::Float;
    c.f = py::float_(py::reinterpret_borrow<py::object>(h)).cast<double>();
    return;
  }
  if (PyIndex_Check(v)) {  // numpy integers and other int-likes
    py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(v));
    if (!i) throw py::error_already_set();
    convert(t, i.ptr(), c);
    return;
  }
  PyType py = PyType::Other;
  if (py::isinstance(h, T.datetime)) py = PyType::DateTime;
  else if (py::isinstance(h, T.date)) py = PyType::Date;
  else if (py::isinstance(h, T.time)) py = PyType::Time;
  py::str s(h);
  set_str(t, c, s.ptr(), py);
}

}  // namespace

std::shared_ptr<Table> table_from_rows(py::handle rows, py::handle columns, size_t max_rows) {
  auto table = std::make_shared<Table>();
  long ncols = -1;
  if (!columns.is_none()) {
    for (auto name : columns) table->names.push_back(py::str(name).cast<std::string>());
    ncols = static_cast<long>(table->names.size());
  }
  size_t r = 0;
  size_t size_hint = 0;
  auto add_row = [&](PyObject* row) -> bool {  // false: the row cap was reached
    if (r >= max_rows) {
      table->truncated = true;
      return false;
    }
    py::object seq = py::reinterpret_steal<py::object>(PySequence_Fast(row, "each row must be a sequence"));
    if (!seq) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    if (ncols < 0) {
      ncols = static_cast<long>(n);
      for (long k = 0; k < ncols; ++k) table->names.push_back("c" + std::to_string(k));
    }
    if (n != ncols) {
      throw std::invalid_argument("row " + std::to_string(r) + " has " + std::to_string(n) + " values, expected " +
                                  std::to_string(ncols));
    }
    if (table->cols.empty()) {
      table->cols.resize(static_cast<size_t>(ncols));
      if (size_hint > 0)
        for (auto& col : table->cols) col.cells.reserve(std::min(size_hint, max_rows));
    }
    PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
    for (long k = 0; k < ncols; ++k) {
      Cell c;
      convert(*table, items[k], c);
      table->cols[static_cast<size_t>(k)].cells.push_back(c);
    }
    ++r;
    return true;
  };
  if (PyList_CheckExact(rows.ptr()) || PyTuple_CheckExact(rows.ptr())) {
    // Lists and tuples (what sqlite3 and most callers give): index the items directly.
    py::object seq = py::reinterpret_borrow<py::object>(rows);
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    size_hint = static_cast<size_t>(n);
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.ptr()); ++i)
      if (!add_row(PySequence_Fast_GET_ITEM(seq.ptr(), i))) break;
  } else {
    py::iterator it = py::iter(rows);
    for (; it != py::iterator::sentinel(); ++it)
      if (!add_row((*it).ptr())) break;
  }
  if (ncols > 0 && table->cols.empty()) table->cols.resize(static_cast<size_t>(ncols));
  table->nrows = r;
  table->finalize();
  return table;
}

py::object cell_to_python(const Cell& c) {
  switch (c.kind) {
    case Kind::Null: return py::none();
    case Kind::Int: return c.py == PyType::Bool ? py::object(py::bool_(c.i != 0)) : py::object(py::int_(c.i));
    case Kind::Float: return py::float_(c.f);
    case Kind::Text: {
      PyObject* s = PyUnicode_DecodeUTF8(c.p, c.len, "surrogateescape");
      if (!s) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(s);
    }
    case Kind::Bytes: return py::bytes(c.p, c.len);
  }
  return py::none();
}

}  // namespace sqlrl
