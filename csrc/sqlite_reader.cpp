// Runs a query on a Python sqlite3.Connection's own handle and reads its cells straight into a Table.
//
// The rewards need the core's table of a result, never its Python rows: building a Python object per
// cell and then converting every one into a cell is most of a small query's cost. This reader calls
// SQLite's C API on the connection the sandbox opened and guarded (read-only URI, query_only, limits,
// the authorizer and progress handler it registered, which SQLite keeps calling), and reads the cells
// as Python's sqlite3 module would return them, into the same cells Table.from_rows makes of those values.
//
// SQLite's functions are looked up at run time in the library the interpreter's own _sqlite3 module
// loaded (the very copy that opened the connection), so nothing links against SQLite here. Where that
// is not possible (SQLite linked statically into _sqlite3 without exporting it, another platform) the
// reader is unavailable and the sandbox fetches Python rows as before.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "table.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define SQLRL_HAVE_DLOPEN 1
#endif

namespace py = pybind11;
using namespace sqlrl;

namespace {

struct sqlite3;
struct sqlite3_stmt;

constexpr int kOk = 0, kRow = 100, kDone = 101;
constexpr int kInteger = 1, kFloat = 2, kText = 3, kBlob = 4, kNull = 5;

struct Api {
  int (*prepare_v2)(sqlite3*, const char*, int, sqlite3_stmt**, const char**) = nullptr;
  int (*step)(sqlite3_stmt*) = nullptr;
  int (*finalize)(sqlite3_stmt*) = nullptr;
  int (*reset)(sqlite3_stmt*) = nullptr;
  int (*bind_parameter_count)(sqlite3_stmt*) = nullptr;
  int (*column_count)(sqlite3_stmt*) = nullptr;
  const char* (*column_name)(sqlite3_stmt*, int) = nullptr;
  int (*column_type)(sqlite3_stmt*, int) = nullptr;
  long long (*column_int64)(sqlite3_stmt*, int) = nullptr;
  double (*column_double)(sqlite3_stmt*, int) = nullptr;
  const unsigned char* (*column_text)(sqlite3_stmt*, int) = nullptr;
  const void* (*column_blob)(sqlite3_stmt*, int) = nullptr;
  int (*column_bytes)(sqlite3_stmt*, int) = nullptr;
  const char* (*errmsg)(sqlite3*) = nullptr;
  int (*errcode)(sqlite3*) = nullptr;
  int (*extended_errcode)(sqlite3*) = nullptr;
  const char* (*db_filename)(sqlite3*, const char*) = nullptr;
  const char* (*libversion)() = nullptr;
  int (*set_authorizer)(sqlite3*, int (*)(void*, int, const char*, const char*, const char*, const char*),
                        void*) = nullptr;
  void (*progress_handler)(sqlite3*, int, int (*)(void*), void*) = nullptr;
  void (*interrupt)(sqlite3*) = nullptr;
  int (*get_autocommit)(sqlite3*) = nullptr;
};

Api api;
bool api_ready = false;

// sys.getsizeof of the values Python's sqlite3 would build, for the result budget's estimate (the
// same estimate sqlrl.sandbox.fetch makes of Python rows); set by bind().
struct Sizes {
  size_t tuple = 40, pointer = 8, none = 16, flt = 24, int0 = 24, int30 = 28, int60 = 32, int_big = 36;
  size_t ascii = 49, compact = 72, bytes = 33;
} sizes;

template <class F>
bool load(void* lib, const char* name, F& out) {
#ifdef SQLRL_HAVE_DLOPEN
  out = reinterpret_cast<F>(dlsym(lib, name));
#endif
  return out != nullptr;
}

// Binds SQLite's C API from `library` (the _sqlite3 module's file, already loaded) and checks that it is
// the version Python's sqlite3 reports. Returns "" or why the reader is unavailable.
std::string bind(const std::string& library, const std::string& version, py::dict size_of) {
#ifndef SQLRL_HAVE_DLOPEN
  return "no dlopen on this platform";
#else
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) return std::string("cannot find the loaded module ") + library;
  Api a;
  bool ok = load(lib, "sqlite3_prepare_v2", a.prepare_v2) && load(lib, "sqlite3_step", a.step) &&
            load(lib, "sqlite3_finalize", a.finalize) && load(lib, "sqlite3_reset", a.reset) &&
            load(lib, "sqlite3_bind_parameter_count", a.bind_parameter_count) &&
            load(lib, "sqlite3_column_count", a.column_count) &&
            load(lib, "sqlite3_column_name", a.column_name) && load(lib, "sqlite3_column_type", a.column_type) &&
            load(lib, "sqlite3_column_int64", a.column_int64) && load(lib, "sqlite3_column_double", a.column_double) &&
            load(lib, "sqlite3_column_text", a.column_text) && load(lib, "sqlite3_column_blob", a.column_blob) &&
            load(lib, "sqlite3_column_bytes", a.column_bytes) && load(lib, "sqlite3_errmsg", a.errmsg) &&
            load(lib, "sqlite3_errcode", a.errcode) && load(lib, "sqlite3_extended_errcode", a.extended_errcode) &&
            load(lib, "sqlite3_db_filename", a.db_filename) && load(lib, "sqlite3_libversion", a.libversion) &&
            load(lib, "sqlite3_set_authorizer", a.set_authorizer) &&
            load(lib, "sqlite3_progress_handler", a.progress_handler) && load(lib, "sqlite3_interrupt", a.interrupt) &&
            load(lib, "sqlite3_get_autocommit", a.get_autocommit);
  if (!ok) return "SQLite's functions are not exported by " + library;
  if (version != a.libversion()) return "SQLite " + std::string(a.libversion()) + " found, Python uses " + version;
  for (auto item : size_of) {
    const std::string key = py::str(item.first);
    const size_t v = item.second.cast<size_t>();
    if (key == "tuple") sizes.tuple = v;
    else if (key == "pointer") sizes.pointer = v;
    else if (key == "none") sizes.none = v;
    else if (key == "float") sizes.flt = v;
    else if (key == "int0") sizes.int0 = v;
    else if (key == "int30") sizes.int30 = v;
    else if (key == "int60") sizes.int60 = v;
    else if (key == "int_big") sizes.int_big = v;
    else if (key == "ascii") sizes.ascii = v;
    else if (key == "compact") sizes.compact = v;
    else if (key == "bytes") sizes.bytes = v;
  }
  api = a;
  api_ready = true;
  return "";
#endif
}

// The sandbox's read-only rule (sqlrl.sandbox.sqlite_engine: read_only_authorizer and the inline check),
// given once by sqlite_guard_rule() so that Python keeps the one copy of its data. A reader installs it
// on its connection as SQLite C callbacks: SQLite calls them while it prepares (the authorizer) and runs
// (the progress handler) each statement, and a C callback needs neither the GIL nor a Python call, so
// queries on two threads run side by side.
struct Rule {
  bool ready = false;
  int pragma = 19, update = 23, function = 31, recursive = 33, ok = 0, deny = 1, progress_steps = 1000;
  std::vector<std::string> action_names;  // by action code
  std::unordered_set<int> read_actions;
  std::unordered_set<std::string> safe_pragmas, schema_tables, inline_functions;
} rule;

// One connection's per-query state, read by the callbacks (one query at a time runs on a connection).
struct Guard {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool inline_ = false;        // prepared on the caller's thread: refuse what must run on the query thread
  bool needs_thread = false;   // the inline check refused something
  bool internal = false;       // the reader's own BEGIN / COMMIT around a batch (never a query's text)
  std::vector<std::string> denied;  // actions the read-only rule refused ("what arg1")
  // What the watchdog reads (Reader::poll, from its own thread): the running query's deadline (max between
  // queries) and whether it was interrupted for it, changed under `mu` so that an interrupt never reaches
  // the next query.
  std::mutex mu;
  std::chrono::steady_clock::time_point watched = std::chrono::steady_clock::time_point::max();
  bool fired = false;

  void arm(double seconds, bool inline_query) {
    const bool timed = seconds >= 0 && seconds < 86400;  // past a day (inf, NaN): no deadline
    deadline = timed ? std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                             std::chrono::duration<double>(seconds))
                     : std::chrono::steady_clock::time_point::max();
    inline_ = inline_query;
    needs_thread = false;
    denied.clear();
    std::lock_guard<std::mutex> lock(mu);
    watched = deadline;
    fired = false;
  }
  void disarm() {
    std::lock_guard<std::mutex> lock(mu);
    watched = std::chrono::steady_clock::time_point::max();
  }
};

int authorize(void* ctx, int action, const char* a1, const char* a2, const char*, const char* trigger) {
  Guard& g = *static_cast<Guard*>(ctx);
  if (g.internal) return rule.ok;
  if (g.inline_ && (action == rule.recursive || action == rule.function)) {
    std::string name = a2 ? a2 : "";
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // ASCII only: stricter
    if (action == rule.recursive || !rule.inline_functions.count(name)) {
      g.needs_thread = true;
      return rule.deny;
    }
  }
  if (rule.read_actions.count(action) || (action == rule.pragma && a1 && rule.safe_pragmas.count(a1)) ||
      (action == rule.update && a1 && rule.schema_tables.count(a1) && trigger == nullptr))
    return rule.ok;
  std::string what = action >= 0 && static_cast<size_t>(action) < rule.action_names.size() &&
                             !rule.action_names[static_cast<size_t>(action)].empty()
                         ? rule.action_names[static_cast<size_t>(action)]
                         : "action " + std::to_string(action);
  if (a1 && *a1) what += std::string(" ") + a1;
  g.denied.push_back(std::move(what));
  return rule.deny;
}

int past_deadline(void* ctx) {
  return std::chrono::steady_clock::now() > static_cast<Guard*>(ctx)->deadline ? 1 : 0;
}

// What a connection gets once its reader is closed (it is about to close): nothing may run on it.
int deny_all(void*, int, const char*, const char*, const char*, const char*) { return rule.deny; }
int stop_all(void*) { return 1; }

void guard_rule(py::dict actions, std::vector<int> read_actions, int pragma, std::vector<std::string> safe_pragmas,
                int update, std::vector<std::string> schema_tables, int function, int recursive,
                std::vector<std::string> inline_functions, int ok, int deny, int progress_steps) {
  Rule r;
  for (auto item : actions) {
    const int code = item.first.cast<int>();
    if (code < 0 || code > 4096) throw std::invalid_argument("an action code out of range");
    if (r.action_names.size() <= static_cast<size_t>(code)) r.action_names.resize(static_cast<size_t>(code) + 1);
    r.action_names[static_cast<size_t>(code)] = item.second.cast<std::string>();
  }
  r.read_actions.insert(read_actions.begin(), read_actions.end());
  r.safe_pragmas.insert(safe_pragmas.begin(), safe_pragmas.end());
  r.schema_tables.insert(schema_tables.begin(), schema_tables.end());
  r.inline_functions.insert(inline_functions.begin(), inline_functions.end());
  r.pragma = pragma;
  r.update = update;
  r.function = function;
  r.recursive = recursive;
  r.ok = ok;
  r.deny = deny;
  r.progress_steps = progress_steps;
  r.ready = true;
  rule = std::move(r);
}

// The sqlite3* of a sqlite3.Connection: its first field after the object header in CPython 3.10 to
// 3.14 (Modules/_sqlite/connection.h). Checked: the type, and the handle's file is `path`.
sqlite3* handle_of(py::handle con, const std::string& path) {
  if (std::strcmp(Py_TYPE(con.ptr())->tp_name, "sqlite3.Connection") != 0)
    throw std::invalid_argument("not a sqlite3.Connection");
  struct Layout {
    PyObject_HEAD sqlite3* db;
  };
  sqlite3* db = reinterpret_cast<Layout*>(con.ptr())->db;
  if (db == nullptr) throw std::invalid_argument("the connection is closed");
  const char* file = api.db_filename(db, "main");
  if (file == nullptr || path != file) throw std::invalid_argument("the connection's file is not " + path);
  return db;
}

// Strict UTF-8 as Python decodes it (no surrogates, no overlong forms, at most U+10FFFF). Returns the
// number of code points and the widest character's byte size in Python's compact strings (1, 2 or 4),
// or false for text Python would refuse.
bool utf8_chars(const unsigned char* s, size_t n, size_t& chars, int& width) {
  chars = 0;
  uint32_t widest = 0;
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      cp = c & 0x1F;
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      cp = c & 0x0F;
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    if (cp > widest) widest = cp;
    i += len;
    ++chars;
  }
  width = widest < 0x80 ? 0 : widest < 0x100 ? 1 : widest < 0x10000 ? 2 : 4;
  return true;
}

size_t int_size(long long v) {
  if (v == 0) return sizes.int0;
  const unsigned long long m = v < 0 ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  if (m < (1ULL << 30)) return sizes.int30;
  if (m < (1ULL << 60)) return sizes.int60;
  return sizes.int_big;
}

// Prepared statements of one connection by SQL text, least recently used first out (what sqlite3's
// own statement cache does for the Python path: the authorizer runs once per text, when it is prepared).
// A text is kept from the second time it runs: most texts of a training batch (new completions) run once,
// and keeping them would only cost their eviction later and hold memory that SQLite's allocator then
// asks its process-wide lock for; texts that come back (gold queries every epoch) are kept.
class Statements {
 public:
  explicit Statements(size_t capacity) : capacity_(capacity) {}
  ~Statements() { clear(); }
  sqlite3_stmt* get(const std::string& sql) {
    auto it = index_.find(sql);
    if (it == index_.end()) return nullptr;
    sqlite3_stmt* st = it->second->second;
    lru_.erase(it->second);
    index_.erase(it);
    return st;  // taken out while it runs; put() brings it back
  }
  void put(const std::string& sql, sqlite3_stmt* st) {
    api.reset(st);
    if (capacity_ == 0 || index_.count(sql) || !seen_before(sql)) {
      api.finalize(st);
      return;
    }
    lru_.emplace_back(sql, st);
    index_[sql] = std::prev(lru_.end());
    while (lru_.size() > capacity_) {
      api.finalize(lru_.front().second);
      index_.erase(lru_.front().first);
      lru_.pop_front();
    }
  }
  void clear() {
    for (auto& e : lru_) api.finalize(e.second);
    lru_.clear();
    index_.clear();
    seen_.clear();
  }

 private:
  // Whether `sql` ran before (remembered by its hash among the last texts seen once); remembers it.
  bool seen_before(const std::string& sql) {
    size_t h = std::hash<std::string>{}(sql);
    if (seen_.count(h)) return true;
    if (seen_.size() >= 8 * capacity_) seen_.clear();  // a bounded memory: the oldest are forgotten together
    seen_.insert(h);
    return false;
  }
  size_t capacity_;
  std::unordered_set<size_t> seen_;
  std::list<std::pair<std::string, sqlite3_stmt*>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, sqlite3_stmt*>>::iterator> index_;
};

// A statement taken from the cache or prepared, given back (reset) or finalized when the read ends.
struct Stmt {
  sqlite3_stmt* p = nullptr;
  Statements* cache = nullptr;
  const std::string* sql = nullptr;
  bool keep = false;
  ~Stmt() {
    if (p == nullptr) return;
    if (keep && cache) cache->put(*sql, p);
    else api.finalize(p);
  }
};

enum class Outcome { Ok, Error, Fallback, TooLarge, Deadline };

struct Read {
  Outcome outcome = Outcome::Ok;
  int code = 0, extended = 0;
  size_t rows = 0, ncols = 0, size = 0;  // TooLarge: rows read, their width and estimated bytes
  std::string message;
  std::shared_ptr<Table> table;
  bool needs_thread = false;         // Error: the guard's inline check refused it
  std::vector<std::string> denied;  // Error: what the guard's read-only rule refused
};

// Prepares and steps `sql` on `db`, called without the GIL (SQLite calls the reader's C guard, no Python),
// reading at most max_rows rows (one more tells that the result was cut).
Read run(sqlite3* db, Statements& cache, const std::string& sql, size_t max_rows, size_t max_bytes, double seconds) {
  Read out;
  auto error = [&](Outcome o) {
    out.outcome = o;
    out.code = api.errcode(db);
    out.extended = api.extended_errcode(db);
    const char* m = api.errmsg(db);
    out.message = m ? m : "";
    out.table.reset();
    return out;
  };
  Stmt st;
  st.cache = &cache;
  st.sql = &sql;
  st.p = cache.get(sql);
  if (st.p == nullptr) {
    if (sql.size() >= static_cast<size_t>(std::numeric_limits<int>::max())) {  // longer than prepare_v2 takes
      out.outcome = Outcome::Fallback;
      return out;
    }
    const char* tail = nullptr;
    if (api.prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()) + 1, &st.p, &tail) != kOk)
      return error(Outcome::Error);
    if (st.p == nullptr) {  // no statement: the Python path says so as sqlite3 does
      out.outcome = Outcome::Fallback;
      return out;
    }
    for (const char* t = tail; t && *t; ++t) {
      if (*t != ' ' && *t != '\n' && *t != '\t' && *t != '\r' && *t != '\f') {  // more than one statement?
        out.outcome = Outcome::Fallback;                                        // sqlite3's own rule decides
        return out;
      }
    }
    if (api.bind_parameter_count(st.p) > 0) {  // placeholders: sqlite3 refuses them unbound
      out.outcome = Outcome::Fallback;
      return out;
    }
  }
  st.keep = true;  // a statement that prepared cleanly is kept whatever its run does (reset clears errors)
  const int ncols = api.column_count(st.p);
  if (ncols == 0) {
    out.outcome = Outcome::Fallback;
    return out;
  }
  auto table = std::make_shared<Table>();
  for (int k = 0; k < ncols; ++k) {
    const char* name = api.column_name(st.p, k);
    if (name == nullptr) {
      out.outcome = Outcome::Fallback;
      return out;
    }
    table->names.emplace_back(name);
  }
  table->cols.resize(static_cast<size_t>(ncols));
  std::string& arena = table->arena();
  // No deadline past a day (or for inf/NaN): converting such a duration to the clock's ticks would overflow.
  const bool timed = seconds >= 0 && seconds < 86400;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timed ? seconds : 0.0));
  const size_t row_bytes = sizes.tuple + sizes.pointer * static_cast<size_t>(ncols);
  // Rows are counted in the chunks sqlrl.sandbox.fetch.fetch_rows fetches (the budget and the deadline are
  // checked between chunks), so that both say the same about the same result.
  const size_t want = max_rows == std::numeric_limits<size_t>::max() ? max_rows : max_rows + 1;
  const size_t widest = std::max<size_t>(1, 65536 / static_cast<size_t>(ncols));
  size_t size = 0, rows = 0, step = 2;
  bool done = false;
  while (!done) {
    step = std::min(step, want - rows);
    size_t got = 0;
    for (; got < step; ++got) {
      const int rc = api.step(st.p);
      if (rc == kDone) break;
      if (rc != kRow) return error(Outcome::Error);
      size += row_bytes;
      const bool keep = rows + got < max_rows;  // the extra row only tells that the result was cut
      for (int k = 0; k < ncols; ++k) {
        Cell c;
        switch (api.column_type(st.p, k)) {
          case kInteger:
            c.kind = Kind::Int;
            c.py = PyType::Int;
            c.i = api.column_int64(st.p, k);
            size += int_size(c.i);
            break;
          case kFloat:
            c.kind = Kind::Float;
            c.py = PyType::Float;
            c.f = api.column_double(st.p, k);
            size += sizes.flt;
            break;
          case kText: {
            const unsigned char* s = api.column_text(st.p, k);
            const size_t n = static_cast<size_t>(api.column_bytes(st.p, k));
            if (s == nullptr && n > 0) return error(Outcome::Error);  // out of memory
            size_t chars;
            int width;
            if (!utf8_chars(s, n, chars, width)) {  // Python refuses it: its lenient decoder decides
              out.outcome = Outcome::Fallback;
              return out;
            }
            size += width == 0 ? sizes.ascii + chars : sizes.compact + (chars + 1) * static_cast<size_t>(width);
            c.kind = Kind::Text;
            c.py = PyType::Str;
            c.off = arena.size();
            if (n) arena.append(reinterpret_cast<const char*>(s), n);
            c.len = static_cast<uint32_t>(n);
            break;
          }
          case kBlob: {
            const void* b = api.column_blob(st.p, k);
            const size_t n = static_cast<size_t>(api.column_bytes(st.p, k));
            if (b == nullptr && n > 0) return error(Outcome::Error);
            size += sizes.bytes + n;
            c.kind = Kind::Bytes;
            c.py = PyType::Bytes;
            c.off = arena.size();
            if (n) arena.append(static_cast<const char*>(b), n);
            c.len = static_cast<uint32_t>(n);
            break;
          }
          default:
            size += sizes.none;
            break;
        }
        if (keep) table->cols[static_cast<size_t>(k)].cells.push_back(c);
      }
    }
    rows += got;
    if (got > 0 && size > max_bytes) {
      out.outcome = Outcome::TooLarge;
      out.rows = rows;
      out.ncols = static_cast<size_t>(ncols);
      out.size = size;
      return out;
    }
    if (got < step || rows >= want) {
      done = true;
      break;
    }
    if (timed && std::chrono::steady_clock::now() > deadline) {
      out.outcome = Outcome::Deadline;
      return out;
    }
    const size_t per_row = size / rows + 1;
    step = std::max<size_t>(1, std::min({widest, 64 * rows, (max_bytes - size) / (4 * per_row)}));
  }
  if (rows > max_rows) {
    table->truncated = true;
    rows = max_rows;
  }
  table->nrows = rows;
  table->finalize();  // text offsets become pointers into the arena
  out.table = std::move(table);
  return out;
}

class Background;

// The reader of one sqlite3.Connection: its handle, checked once, its prepared statements, and the read-only
// guard (the rule given by sqlite_guard_rule) it installs on the handle in place of the Python callbacks.
// close() (before the connection closes) finalizes the statements and leaves callbacks that refuse everything.
class Reader {
 public:
  Reader(py::object con, const std::string& path, size_t capacity, bool stop_at_deadline)
      : con_(std::move(con)), cache_(capacity) {
    if (!api_ready) throw std::runtime_error("the SQLite reader is not bound (sqlrl._core.sqlite_bind)");
    if (!rule.ready) throw std::runtime_error("the sandbox's guard rule is not given (sqlrl._core.sqlite_guard_rule)");
    db_ = handle_of(con_, path);
    api.set_authorizer(db_, authorize, &guard_);
    if (stop_at_deadline) api.progress_handler(db_, rule.progress_steps, past_deadline, &guard_);
    else api.progress_handler(db_, 0, nullptr, nullptr);  // tests of the watchdog alone
  }
  ~Reader() { close(); }
  py::tuple query(const std::string& sql, size_t max_rows, size_t max_bytes, double seconds, bool inline_query) {
    check_open();
    Read r;
    bool closed = false;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> running(running_);  // close() waits for it
      closed = db_ == nullptr;
      if (!closed) r = read_one(sql, max_rows, max_bytes, seconds, inline_query);
      guard_.disarm();
    }
    if (closed) throw std::invalid_argument("the reader was closed");
    return outcome(r);
  }
  // query() of every text in turn, the GIL released once for all of them; each gets its own deadline
  // (`seconds` from its start) and the watchdog sees each as it runs. Returns (outcomes, seconds per text).
  py::tuple query_many(const std::vector<std::string>& sqls, size_t max_rows, size_t max_bytes, double seconds,
                       bool inline_query) {
    check_open();
    std::vector<Read> reads;
    std::vector<double> took;
    {
      py::gil_scoped_release release;
      run_batch(sqls, max_rows, max_bytes, seconds, inline_query, reads, took);
    }
    return outcomes(reads, took);
  }
  // The work of query_many(), on the calling thread, which holds no GIL (query_many released it, or it is
  // a Background's own thread): `reads` and `took` get one entry per text.
  void run_batch(const std::vector<std::string>& sqls, size_t max_rows, size_t max_bytes, double seconds,
                 bool inline_query, std::vector<Read>& reads, std::vector<double>& took) {
    reads.assign(sqls.size(), Read{});
    took.assign(sqls.size(), 0.0);
    std::lock_guard<std::mutex> running(running_);  // close() waits for it, and stops it between queries
    struct InBatch {
      std::atomic<bool>& flag;
      explicit InBatch(std::atomic<bool>& f) : flag(f) { flag = true; }
      ~InBatch() { flag = false; }
    } in_batch(in_batch_);  // what poll() reads
    // One read transaction for the batch: each query then skips taking and releasing the file's shared
    // lock and checking the file's header (a fifth of a quick query's time); the queries read one snapshot.
    const bool batch = sqls.size() > 1 && db_ != nullptr && !closing_ && api.get_autocommit(db_) &&
                       run_internal("BEGIN");
    for (size_t k = 0; k < sqls.size(); ++k) {
      if (db_ == nullptr || closing_) {
        reads[k].outcome = Outcome::Fallback;  // closed meanwhile: each goes the Python way, and fails there
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      reads[k] = read_one(sqls[k], max_rows, max_bytes, seconds, inline_query);  // re-arms: no gap to watch
      took[k] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    // (an error may have ended the transaction already: SQLite rolls it back on some)
    if (batch && db_ != nullptr && !api.get_autocommit(db_) && !run_internal("COMMIT")) run_internal("ROLLBACK");
    guard_.disarm();
  }
  // (outcomes as query() gives them, seconds per text) of a batch run_batch() read; needs the GIL.
  static py::tuple outcomes(const std::vector<Read>& reads, const std::vector<double>& took) {
    py::list out;
    for (const Read& r : reads) out.append(outcome(r));
    return py::make_tuple(out, py::cast(took));
  }
  // Raises ValueError (std::invalid_argument) unless the reader is open on its connection's handle.
  void check_open() const {
    if (db_ == nullptr || handle_of_unchecked(con_) != db_) throw std::invalid_argument("the reader was closed");
  }
  // Arms the guard for a statement the Python path runs on the connection (query() arms it itself);
  // disarm() once it is over.
  void arm(double seconds, bool inline_query) {
    check_open();
    guard_.arm(seconds, inline_query);
  }
  void disarm() { guard_.disarm(); }
  // The watchdog's look (sqlrl.sandbox.watchdog, its own thread): whether a query runs, after interrupting
  // it once if `grace` seconds passed after its deadline (the backstop of the progress handler, which a
  // single long step of the engine does not reach).
  // Returns 0: no query runs, 1: one runs, 2: one runs and was interrupted now.
  int poll(double grace) {
    if (db_ == nullptr) return 0;
    std::lock_guard<std::mutex> lock(guard_.mu);
    // (a batch between its queries, e.g. in its own BEGIN, which no deadline stops, still runs: the watchdog,
    // told so, keeps looking; were it told "idle" it would sleep through the batch's next queries)
    if (guard_.watched == std::chrono::steady_clock::time_point::max()) return in_batch_ || pending_ > 0 ? 1 : 0;
    const auto late = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(grace));
    if (!guard_.fired && std::chrono::steady_clock::now() > guard_.watched + late) {
      api.interrupt(db_);
      guard_.fired = true;
      return 2;
    }
    return 1;
  }
  // (needs_thread, denied) of the last statement armed: whether the inline check refused it, and what the
  // read-only rule refused (for a statement sqlite3 ran; query() and query_many() say it in their outcomes).
  py::tuple refused() const { return py::make_tuple(guard_.needs_thread, py::cast(guard_.denied)); }
  // Waits for a query another thread runs on this reader (interrupted, and a batch stopped between queries).
  void close() {
    if (db_ == nullptr) return;
    closing_ = true;
    if (handle_of_unchecked(con_) == db_) api.interrupt(db_);
    {
      py::gil_scoped_release release;
      running_.lock();
    }
    std::lock_guard<std::mutex> running(running_, std::adopt_lock);
    cache_.clear();
    if (db_ != nullptr && handle_of_unchecked(con_) == db_) {
      api.set_authorizer(db_, deny_all, nullptr);
      api.progress_handler(db_, 1, stop_all, nullptr);
    }
    db_ = nullptr;  // the guard stays, unused: SQLite no longer calls it
  }

 private:
  // Runs one of the reader's own statements (BEGIN, COMMIT, ROLLBACK), which the guard lets through and no
  // deadline stops; whether it succeeded.
  bool run_internal(const char* sql) {
    guard_.arm(-1, false);
    guard_.internal = true;
    sqlite3_stmt* st = nullptr;
    bool done = api.prepare_v2(db_, sql, -1, &st, nullptr) == kOk && st != nullptr && api.step(st) == kDone;
    if (st != nullptr) api.finalize(st);
    guard_.internal = false;
    return done;
  }
  // One query, armed (deadline, inline check) and read; an error keeps what the guard refused.
  Read read_one(const std::string& sql, size_t max_rows, size_t max_bytes, double seconds, bool inline_query) {
    guard_.arm(seconds, inline_query);
    Read r = run(db_, cache_, sql, max_rows, max_bytes, seconds);
    if (r.outcome == Outcome::Error) {
      r.needs_thread = guard_.needs_thread;
      r.denied = guard_.denied;
    }
    return r;
  }
  static py::tuple outcome(const Read& r) {
    switch (r.outcome) {
      case Outcome::Ok:
        return py::make_tuple("ok", py::cast(r.table), py::cast(r.table->names));
      case Outcome::Error: {
        PyObject* msg = PyUnicode_DecodeUTF8(r.message.data(), static_cast<Py_ssize_t>(r.message.size()), "replace");
        if (msg == nullptr) throw py::error_already_set();
        return py::make_tuple("error", r.code, r.extended, py::reinterpret_steal<py::str>(msg), r.needs_thread,
                              py::cast(r.denied));
      }
      case Outcome::TooLarge:
        return py::make_tuple("too_large", r.rows, r.ncols, r.size);
      case Outcome::Deadline:
        return py::make_tuple("deadline");
      case Outcome::Fallback:
        break;
    }
    return py::make_tuple("fallback");
  }
  static sqlite3* handle_of_unchecked(const py::object& con) {
    struct Layout {
      PyObject_HEAD sqlite3* db;
    };
    return reinterpret_cast<Layout*>(con.ptr())->db;
  }
  py::object con_;
  sqlite3* db_ = nullptr;
  Statements cache_;
  Guard guard_;
  std::mutex running_;  // held while a query runs (without the GIL), so that close() never pulls it away
  std::atomic<bool> closing_{false};
  std::atomic<bool> in_batch_{false};  // run_batch() runs (poll() says so between its queries)
  // Batches a Background has for this reader and has not run yet: poll() counts them as running, so that the
  // watchdog, woken when they are handed over, watches them from their first query.
  std::atomic<int> pending_{0};
  friend class Background;
};

// query_many() of several readers, one after the other, on a thread of its own that starts at once; wait()
// gives their outcomes. A caller with other work to do meanwhile (the rewards read the completions while the
// gold queries run: sqlrl.sandbox.service.ExecutionService.prefetch) overlaps it with the engine's. Each
// reader's batch holds its reader's lock as query_many() does, so a query() or close() meanwhile waits, and
// two Backgrounds on one reader take turns. Nothing arms a reader for its Background from outside (another
// Background may be running on it): each query is armed as it starts, and poll() counts a batch handed
// over and not yet run as running.
class Background {
 public:
  // jobs: (reader, sqls, max_rows, max_bytes, seconds, inline_query) for each reader.
  explicit Background(const py::list& jobs) {
    for (const auto& item : jobs) {
      const auto t = item.cast<py::tuple>();
      if (t.size() != 6) throw std::invalid_argument("a job is (reader, sqls, max_rows, max_bytes, seconds, inline_query)");
      Job job;
      job.owner = py::reinterpret_borrow<py::object>(t[0]);  // keeps the reader alive while the thread runs
      job.reader = job.owner.cast<Reader*>();
      job.reader->check_open();
      job.sqls = t[1].cast<std::vector<std::string>>();
      job.max_rows = t[2].cast<size_t>();
      job.max_bytes = t[3].cast<size_t>();
      job.seconds = t[4].cast<double>();
      job.inline_query = t[5].cast<bool>();
      jobs_.push_back(std::move(job));
    }
    for (Job& job : jobs_) ++job.reader->pending_;
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
      // no thread to be had: wait() runs the batches itself
    }
  }
  ~Background() {
    if (thread_.joinable()) thread_.join();  // the thread needs no GIL: joining with it held cannot block it
  }
  // [(outcomes, seconds per text) of each job], as query_many() returns them, once every batch is over.
  py::list wait() {
    if (!finished_) {
      py::gil_scoped_release release;
      if (thread_.joinable()) thread_.join();
      else if (!error_) run();
      finished_ = true;
    }
    if (error_) std::rethrow_exception(error_);
    py::list out;
    for (const Job& job : jobs_) out.append(Reader::outcomes(job.reads, job.took));
    return out;
  }

 private:
  struct Job {
    py::object owner;
    Reader* reader = nullptr;
    std::vector<std::string> sqls;
    size_t max_rows = 0, max_bytes = 0;
    double seconds = 0;
    bool inline_query = false;
    std::vector<Read> reads;
    std::vector<double> took;
  };
  void run() {
    for (Job& job : jobs_) {
      try {
        if (!error_)
          job.reader->run_batch(job.sqls, job.max_rows, job.max_bytes, job.seconds, job.inline_query, job.reads,
                                job.took);
      } catch (...) {
        error_ = std::current_exception();
      }
      --job.reader->pending_;
    }
  }
  std::vector<Job> jobs_;
  std::thread thread_;
  std::exception_ptr error_;
  bool finished_ = false;
};

}  // namespace

void register_sqlite(py::module_& m) {
  m.def("sqlite_bind", &bind, py::arg("library"), py::arg("version"), py::arg("sizes"),
        "Bind SQLite's C API from the loaded _sqlite3 module's file; returns '' or why the reader is unavailable.");
  py::class_<Reader>(m, "SqliteReader",
                     "Runs queries on one sqlite3.Connection and reads their cells into Tables (sqlrl.sandbox.sqlite_reader).")
      .def(py::init<py::object, const std::string&, size_t, bool>(), py::arg("connection"), py::arg("path"),
           py::arg("cached_statements") = 256, py::arg("stop_at_deadline") = true)
      .def("query", &Reader::query, py::arg("sql"), py::arg("max_rows"), py::arg("max_bytes"), py::arg("seconds"),
           py::arg("inline_query") = false,
           "('ok', table, columns), ('error', code, extended_code, message, needs_thread, denied), "
           "('too_large', rows, columns, bytes), ('deadline',) or ('fallback',): read it through Python's rows instead.")
      .def("query_many", &Reader::query_many, py::arg("sqls"), py::arg("max_rows"), py::arg("max_bytes"),
           py::arg("seconds"), py::arg("inline_query") = false,
           "(outcomes as query() gives them, seconds per text): query() of each text, the GIL released once for all.")
      .def("arm", &Reader::arm, py::arg("seconds"), py::arg("inline_query") = false,
           "Arm the guard (deadline, inline check) for a statement run through Python's sqlite3.")
      .def("disarm", &Reader::disarm, "The statement armed by arm() is over.")
      .def("poll", &Reader::poll, py::arg("grace"),
           "The watchdog's look: 0 no query runs, 1 one runs, 2 it was interrupted now (`grace` s after its deadline).")
      .def("refused", &Reader::refused, "(needs_thread, denied actions) of the statement armed last.")
      .def("close", &Reader::close,
           "Finalize the prepared statements and refuse every later statement (before the connection closes).");
  py::class_<Background>(m, "SqliteBackground",
                         "query_many() of several SqliteReaders in turn, on a thread of its own that starts at once.")
      .def(py::init<const py::list&>(), py::arg("jobs"),
           "jobs: [(reader, sqls, max_rows, max_bytes, seconds, inline_query)]; the thread starts now.")
      .def("wait", &Background::wait,
           "[(outcomes, seconds per text)] of each job, as SqliteReader.query_many returns them, once all are over.");
  m.def("sqlite_guard_rule", &guard_rule, py::arg("actions"), py::arg("read_actions"), py::arg("pragma"),
        py::arg("safe_pragmas"), py::arg("update"), py::arg("schema_tables"), py::arg("function"),
        py::arg("recursive"), py::arg("inline_functions"), py::arg("ok"), py::arg("deny"), py::arg("progress_steps"),
        "Give the sandbox's read-only rule to the readers made from now on (they install it as C callbacks).");
}
