#include "py_rows.hpp"

#include <datetime.h>

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "canonical.hpp"

namespace py = pybind11;

namespace sqlrl {

namespace {

constexpr int kMaxDepth = 200;  // nested lists/dicts deeper than this are refused, not recursed into

const py::object& decimal_type() {
  static py::object* dec = new py::object(py::module_::import("decimal").attr("Decimal"));  // lives until exit
  return *dec;
}

void datetime_api() {
  if (PyDateTimeAPI == nullptr) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == nullptr) throw py::error_already_set();
  }
}

void set_len(Cell& c, const std::string& buf) {
  const size_t n = buf.size() - c.off;
  if (n > std::numeric_limits<uint32_t>::max()) throw std::invalid_argument("a result cell is larger than 4 GiB");
  c.len = static_cast<uint32_t>(n);
}

void set_str(Cell& c, std::string& buf, PyObject* s, PyType py) {
  c.kind = Kind::Text;
  c.py = py;
  c.off = buf.size();
  Py_ssize_t n;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p) {
    buf.append(p, static_cast<size_t>(n));
    set_len(c, buf);
    return;
  }
  PyErr_Clear();  // lone surrogates (e.g. from errors='surrogateescape'): keep the raw bytes
  py::object b = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape"));
  if (!b) {
    PyErr_Clear();
    b = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass"));
  }
  if (!b) throw py::error_already_set();
  buf.append(PyBytes_AS_STRING(b.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(b.ptr())));
  set_len(c, buf);
}

void set_bytes(Cell& c, std::string& buf, const char* p, size_t n) {
  c.kind = Kind::Bytes;
  c.py = PyType::Bytes;
  c.off = buf.size();
  buf.append(p, n);
  set_len(c, buf);
}

// pyarrow's MonthDayNano (a struct sequence: months, days, nanoseconds), how pyarrow returns a
// month_day_nano interval.
bool is_month_day_nano(PyObject* v) {
  return PyTuple_Check(v) && !PyTuple_CheckExact(v) && std::strcmp(Py_TYPE(v)->tp_name, "MonthDayNano") == 0 &&
         PyTuple_GET_SIZE(v) == 3;
}

bool is_nested(PyObject* v) { return PyList_Check(v) || PyDict_Check(v) || (PyTuple_Check(v) && !is_month_day_nano(v)); }

int64_t as_int64(PyObject* v) {
  const long long x = PyLong_AsLongLong(v);
  if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
  return x;
}

// utcoffset() of an aware date/time as microseconds; false when it is naive.
bool utc_offset(PyObject* v, PyObject* tzinfo, int64_t& micros) {
  if (tzinfo == Py_None) return false;
  py::object off = py::reinterpret_borrow<py::object>(v).attr("utcoffset")();
  if (off.is_none()) return false;
  if (!PyDelta_Check(off.ptr())) throw std::invalid_argument("utcoffset() did not return a timedelta");
  micros = static_cast<int64_t>(PyDateTime_DELTA_GET_DAYS(off.ptr())) * kMicrosPerDay +
           static_cast<int64_t>(PyDateTime_DELTA_GET_SECONDS(off.ptr())) * kMicrosPerSec +
           PyDateTime_DELTA_GET_MICROSECONDS(off.ptr());
  return true;
}

void convert(PyObject* v, Cell& c, std::string& buf, int depth);

void render_element(PyObject* e, std::string& out, int depth);

// The canonical text of a list, tuple or dict (a dict as its list of [key, value] pairs).
void render_nested(PyObject* v, std::string& out, int depth) {
  if (depth > kMaxDepth) throw std::invalid_argument("a nested value in a result cell is nested too deeply");
  // Copies with strong references: a cell's __str__ may mutate the container while it is read.
  const bool mapping = PyDict_Check(v);
  py::object items = py::reinterpret_steal<py::object>(mapping ? PyDict_Items(v) : PySequence_Tuple(v));
  if (!items) throw py::error_already_set();
  py::object seq = py::reinterpret_steal<py::object>(PySequence_Tuple(items.ptr()));
  if (!seq) throw py::error_already_set();
  out += '[';
  const Py_ssize_t n = PyTuple_GET_SIZE(seq.ptr());
  for (Py_ssize_t k = 0; k < n; ++k) {
    if (k) out += ", ";
    PyObject* item = PyTuple_GET_ITEM(seq.ptr(), k);
    if (mapping) {
      out += '[';
      render_element(PyTuple_GET_ITEM(item, 0), out, depth + 1);
      out += ", ";
      render_element(PyTuple_GET_ITEM(item, 1), out, depth + 1);
      out += ']';
    } else {
      render_element(item, out, depth + 1);
    }
  }
  out += ']';
}

void render_element(PyObject* e, std::string& out, int depth) {
  if (is_nested(e)) {
    render_nested(e, out, depth);
    return;
  }
  Cell c;
  std::string text;
  convert(e, c, text, depth);
  append_nested_cell(out, c, text);
}

// Dates, times, timestamps and durations from their fields (subclasses such as pandas' Timestamp
// and Timedelta included, their nanoseconds dropped). Returns false for other objects.
bool convert_temporal(PyObject* v, Cell& c, std::string& buf) {
  datetime_api();
  if (!PyDate_Check(v) && !PyTime_Check(v) && !PyDelta_Check(v)) return false;
  c.kind = Kind::Text;
  c.off = buf.size();
  if (PyDateTime_Check(v)) {
    const int64_t days = days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v));
    __int128 micros = static_cast<__int128>(days) * kMicrosPerDay +
                      (PyDateTime_DATE_GET_HOUR(v) * int64_t{3600} + PyDateTime_DATE_GET_MINUTE(v) * 60 +
                       PyDateTime_DATE_GET_SECOND(v)) * kMicrosPerSec +
                      PyDateTime_DATE_GET_MICROSECOND(v);
    int64_t offset = 0;
    const bool aware = utc_offset(v, PyDateTime_DATE_GET_TZINFO(v), offset);
    c.py = append_timestamp(buf, micros - offset, aware);  // an aware timestamp as its UTC instant
  } else if (PyDate_Check(v)) {
    c.py = append_date(buf, days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v)));
  } else if (PyTime_Check(v)) {
    append_time_of_day(buf, (PyDateTime_TIME_GET_HOUR(v) * int64_t{3600} + PyDateTime_TIME_GET_MINUTE(v) * 60 +
                             PyDateTime_TIME_GET_SECOND(v)) * kMicrosPerSec +
                                PyDateTime_TIME_GET_MICROSECOND(v));
    int64_t offset = 0;
    if (utc_offset(v, PyDateTime_TIME_GET_TZINFO(v), offset)) append_utc_offset(buf, offset);
    c.py = PyType::Time;
  } else {
    append_timedelta(buf, static_cast<__int128>(PyDateTime_DELTA_GET_DAYS(v)) * kMicrosPerDay +
                              static_cast<__int128>(PyDateTime_DELTA_GET_SECONDS(v)) * kMicrosPerSec +
                              PyDateTime_DELTA_GET_MICROSECONDS(v));
    c.py = PyType::Other;
  }
  set_len(c, buf);
  return true;
}

void convert_int(PyObject* v, Cell& c, std::string& buf) {
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
  if (overflow == 0) {
    if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
    c.kind = Kind::Int;
    c.py = PyType::Int;
    c.i = x;
    return;
  }
  const double d = PyLong_AsDouble(v);
  if (d == -1.0 && PyErr_Occurred()) {  // beyond a double: its digits
    PyErr_Clear();
    py::str s(v);
    set_str(c, buf, s.ptr(), PyType::Int);
    return;
  }
  c.kind = Kind::Float;
  c.py = PyType::Int;
  c.f = d;
}

void convert(PyObject* v, Cell& c, std::string& buf, int depth) {
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
    convert_int(v, c, buf);
    return;
  }
  if (PyFloat_Check(v)) {
    c.kind = Kind::Float;
    c.py = PyType::Float;
    c.f = PyFloat_AS_DOUBLE(v);
    return;
  }
  if (PyUnicode_Check(v)) {
    set_str(c, buf, v, PyType::Str);
    return;
  }
  if (PyBytes_Check(v)) {
    set_bytes(c, buf, PyBytes_AS_STRING(v), static_cast<size_t>(PyBytes_GET_SIZE(v)));
    return;
  }
  if (PyByteArray_Check(v) || PyMemoryView_Check(v)) {
    py::object b = py::reinterpret_steal<py::object>(PyBytes_FromObject(v));
    if (!b) throw py::error_already_set();
    set_bytes(c, buf, PyBytes_AS_STRING(b.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(b.ptr())));
    return;
  }
  if (convert_temporal(v, c, buf)) return;
  if (is_nested(v)) {
    c.kind = Kind::Text;
    c.py = PyType::Other;
    c.off = buf.size();
    render_nested(v, buf, depth);
    set_len(c, buf);
    return;
  }
  if (is_month_day_nano(v)) {  // as DuckDB counts an interval: a month is 30 days
    const int64_t months = as_int64(PyTuple_GET_ITEM(v, 0)), days = as_int64(PyTuple_GET_ITEM(v, 1));
    const int64_t nanos = as_int64(PyTuple_GET_ITEM(v, 2));
    c.kind = Kind::Text;
    c.py = PyType::Other;
    c.off = buf.size();
    append_timedelta(buf, (static_cast<__int128>(months) * 30 + days) * kMicrosPerDay + nanos_to_micros(nanos));
    set_len(c, buf);
    return;
  }
  py::handle h(v);
  if (py::isinstance(h, decimal_type())) {
    const bool finite = h.attr("is_finite")().cast<bool>();
    if (finite && h.attr("as_tuple")().attr("exponent").cast<long>() >= 0) {
      py::int_ as_int(py::reinterpret_borrow<py::object>(h));
      convert_int(as_int.ptr(), c, buf);
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
    convert_int(i.ptr(), c, buf);
    return;
  }
  py::str s(h);
  set_str(c, buf, s.ptr(), PyType::Other);
}

}  // namespace

std::shared_ptr<Table> table_from_rows(py::handle rows, py::handle columns, size_t max_rows) {
  auto table = std::make_shared<Table>();
  long ncols = -1;
  if (!columns.is_none()) {
    for (auto name : columns) table->names.push_back(py::str(name).cast<std::string>());
    ncols = static_cast<long>(table->names.size());
  }
  std::string& arena = table->arena();
  size_t r = 0;
  size_t size_hint = 0;
  auto add_row = [&](py::handle row) -> bool {  // false: the row cap was reached
    if (r >= max_rows) {
      table->truncated = true;
      return false;
    }
    // A row we hold strong references to, whatever the cells' __str__ does to the caller's list:
    // a tuple as it is, a list copied into a tuple, any other iterable into a list of our own.
    py::object seq;
    if (PyTuple_Check(row.ptr())) seq = py::reinterpret_borrow<py::object>(row);
    else if (PyList_Check(row.ptr())) seq = py::reinterpret_steal<py::object>(PyList_AsTuple(row.ptr()));
    else seq = py::reinterpret_steal<py::object>(PySequence_Fast(row.ptr(), "each row must be a sequence"));
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
    PyObject** items = PySequence_Fast_ITEMS(seq.ptr());  // stable: nobody else can resize `seq`
    for (long k = 0; k < ncols; ++k) {
      Cell c;
      convert(items[k], c, arena, 0);
      table->cols[static_cast<size_t>(k)].cells.push_back(c);
    }
    ++r;
    return true;
  };
  if (PyList_CheckExact(rows.ptr()) || PyTuple_CheckExact(rows.ptr())) {
    // Lists and tuples (what sqlite3 and most callers give): index the items directly, reading the
    // length again for every row (a cell's __str__ may shrink the list).
    py::object seq = py::reinterpret_borrow<py::object>(rows);
    size_hint = static_cast<size_t>(PySequence_Fast_GET_SIZE(seq.ptr()));
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.ptr()); ++i)
      if (!add_row(PySequence_Fast_GET_ITEM(seq.ptr(), i))) break;
  } else {
    py::iterator it = py::iter(rows);
    for (; it != py::iterator::sentinel(); ++it)
      if (!add_row(*it)) break;
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
