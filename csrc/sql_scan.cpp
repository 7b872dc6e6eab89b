// Token scans of ASCII SQL texts for the DuckDB sandbox's SQLite-compat pre-checks.
//
// Each new query text is read before its first run: may it hold a bare column
// (sqlrl.sql.bare_columns.may_have_bare_columns), may its comparisons need SQLite's type affinity
// (sqlrl.sql.sqlite_compat.AffinitySchema.candidate), may it run on the caller's thread
// (sqlrl.sandbox.duckdb_engine.DuckDBEngine._runs_inline). The Python functions keep their cheap
// substring tests and read the texts that are not ASCII; an ASCII text's tokenization and pass over
// the tokens run here, with the same answers (tests/test_sql_scan.py compares both readings).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace {

using Words = std::vector<std::string_view>;

// Python's str.isspace() on ASCII: \t \n \v \f \r, the separators \x1c-\x1f and the space.
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }  // \w on ASCII

struct Unread {};  // a shape the bare-column scan does not read whole (the Python Unread)

// The index after the string or double-quoted name that opens at s[i] (its quote doubled inside it), or npos when
// it is left open: '(?:[^']|'')*' and its "..." twin.
size_t quoted_end(std::string_view s, size_t i) {
  const char quote = s[i];
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] != quote) continue;
    if (j + 1 < s.size() && s[j + 1] == quote) {
      ++j;  // a doubled quote: part of the text
    } else {
      return j + 1;
    }
  }
  return std::string_view::npos;
}

// The index after the name that starts at s[i] ([^\W\d][\w$]* on ASCII; s[i] is a letter or _).
size_t name_end(std::string_view s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && (is_word_char(s[j]) || s[j] == '$')) ++j;
  return j;
}

// ---- may_have_bare_columns -------------------------------------------------------------------

// plain_select.TOKEN on a lower-cased ASCII text: comments, strings and quoted names (an unclosed one to the
// end), names, numbers, any other non-space character.
std::vector<std::string_view> fine_tokens(std::string_view s) {
  std::vector<std::string_view> out;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (c == '/' && j < n && s[j] == '*') {
      const size_t end = s.find("*/", i + 2);
      j = end == std::string_view::npos ? n : end + 2;
    } else if (c == '-' && j < n && s[j] == '-') {
      const size_t end = s.find('\n', i);
      j = end == std::string_view::npos ? n : end;
    } else if (c == '\'' || c == '"') {  // '(?:[^']|'')*'?: an open one runs to the end
      const size_t end = quoted_end(s, i);
      j = end == std::string_view::npos ? n : end;
    } else if (c == '`' || c == '[') {  // `[^`]*`? and \[[^\]]*\]?
      const size_t end = s.find(c == '`' ? '`' : ']', j);
      j = end == std::string_view::npos ? n : end + 1;
    } else if (is_alpha(c) || c == '_') {
      j = name_end(s, i);
    } else if (is_digit(c)) {  // \d[\w.]*
      while (j < n && (is_word_char(s[j]) || s[j] == '.')) ++j;
    }
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

const std::unordered_set<std::string_view> kAggregates = {"count", "sum",   "avg",          "min",
                                                          "max",   "total", "group_concat", "string_agg"};
const std::unordered_set<std::string_view> kNotColumns = {
    "and",     "or",       "not",     "null",  "is",   "in",    "between",      "like",
    "glob",    "regexp",   "match",   "escape", "case", "when",  "then",         "else",
    "end",     "asc",      "desc",    "nulls", "first", "last", "distinct",     "all",
    "true",    "false",    "collate", "nocase", "binary", "rtrim", "as",         "isnull",
    "notnull", "current_date", "current_time", "current_timestamp"};
const std::unordered_set<std::string_view> kClauses = {"select", "from",  "where",  "group", "having",
                                                       "order",  "limit", "offset", "window"};
const std::unordered_set<std::string_view> kSetOperators = {"union", "intersect", "except"};

bool is_mark(std::string_view w) {
  return w == "(" || w == ")" || kClauses.count(w) > 0 || kSetOperators.count(w) > 0;
}

bool is_name(std::string_view w) {
  return !w.empty() && (is_alpha(w[0]) || w[0] == '_' || w[0] == '"' || w[0] == '`' || w[0] == '[') &&
         kNotColumns.count(w) == 0;
}

size_t closing(const Words& words, size_t i) {
  int depth = 0;
  for (size_t j = i; j < words.size(); ++j) {
    if (words[j] == "(") {
      ++depth;
    } else if (words[j] == ")") {
      if (--depth == 0) return j;
    }
  }
  throw Unread{};
}

std::vector<Words> split_items(const Words& words) {
  std::vector<Words> items;
  if (words.empty()) return items;
  items.emplace_back();
  int depth = 0;
  for (std::string_view w : words) {
    if (w == "(") {
      ++depth;
    } else if (w == ")") {
      --depth;
    }
    if (w == "," && depth == 0) {
      items.emplace_back();
    } else {
      items.back().push_back(w);
    }
  }
  for (const Words& item : items) {
    if (item.empty()) throw Unread{};
  }
  return items;
}

using Column = std::pair<std::string_view, std::string_view>;  // (qualifier, "" for none; name)

struct ColumnHash {
  size_t operator()(const Column& c) const {
    return std::hash<std::string_view>()(c.first) * 31 + std::hash<std::string_view>()(c.second);
  }
};
using Columns = std::unordered_set<Column, ColumnHash>;

// The (qualifier, name) of each column the words name outside an aggregate call.
Columns columns_of(const Words& words) {
  Columns out;
  const size_t n = words.size();
  size_t j = 0;
  while (j < n) {
    const std::string_view w = words[j];
    const std::string_view next = j + 1 < n ? words[j + 1] : std::string_view();
    if (next == "(" && is_name(w)) {
      j = kAggregates.count(w) ? closing(words, j + 1) + 1 : j + 1;
      continue;
    }
    if (w == "as") {
      j += 2;
      continue;
    }
    if (is_name(w) && next == "." && j + 2 < n) {
      if (words[j + 2] == "*") throw Unread{};
      out.emplace(w, words[j + 2]);
      j += 3;
      continue;
    }
    if (is_name(w)) out.emplace(std::string_view(), w);
    ++j;
  }
  return out;
}

bool is_grouped(const Column& col, const Columns& keys, const std::unordered_set<std::string_view>& aliases) {
  if (keys.count(col) || keys.count(Column(std::string_view(), col.second))) return true;
  if (!col.first.empty()) return false;
  if (aliases.count(col.second)) return true;
  for (const Column& k : keys) {
    if (k.second == col.second) return true;
  }
  return false;
}

Words unaliased(const Words& item) {
  const size_t n = item.size();
  if (n > 2 && item[n - 2] == "as") return Words(item.begin(), item.end() - 2);
  if (n > 1 && item[n - 2] == ")" && is_name(item[n - 1])) return Words(item.begin(), item.end() - 1);
  return item;
}

bool two_names_in_a_row(const Words& item) {
  int depth = 0;
  bool last_was_name = false;
  for (size_t j = 0; j < item.size(); ++j) {
    const std::string_view w = item[j];
    if (w == "(") {
      ++depth;
    } else if (w == ")") {
      --depth;
    }
    const bool name = depth == 0 && is_name(w) && (j == 0 || item[j - 1] != ".");
    if (name && last_was_name) return true;
    last_was_name = name && (j + 1 >= item.size() || item[j + 1] != ".");
  }
  return false;
}

bool aggregate_calls(const Words& words) {
  for (size_t j = 0; j + 1 < words.size(); ++j) {
    if (kAggregates.count(words[j]) && words[j + 1] == "(") return true;
  }
  return false;
}

struct Clauses {  // the clauses of one SELECT, in the order they opened
  std::vector<std::pair<std::string_view, Words>> list;
  Words* find(std::string_view name) {
    for (auto& kv : list) {
      if (kv.first == name) return &kv.second;
    }
    return nullptr;
  }
};

bool select_may_be_bare(Clauses& clauses) {
  Words* select = clauses.find("select");
  if (select == nullptr) throw Unread{};
  for (const auto& kv : clauses.list) {
    if (kv.second.empty()) return false;  // an empty clause: a syntax error for every engine
  }
  std::vector<Words> items = split_items(*select);
  const bool grouped = clauses.find("group") != nullptr;
  bool aggregated = clauses.find("having") != nullptr;
  for (const Words& item : items) aggregated = aggregated || aggregate_calls(item);
  if (!grouped && !aggregated) return false;
  Columns keys;
  if (grouped) {
    for (const Words& key : split_items(*clauses.find("group"))) {
      if (key.size() == 1 && !key[0].empty() && is_digit(key[0][0])) throw Unread{};  // GROUP BY 2
      Columns cols = columns_of(key);
      keys.insert(cols.begin(), cols.end());
    }
  }
  std::unordered_set<std::string_view> aliases;
  for (const Words& item : items) {
    const size_t n = item.size();
    if (n > 1 && is_name(item[n - 1]) && (item[n - 2] == "as" || item[n - 2] == ")")) aliases.insert(item[n - 1]);
  }
  for (Words& item : items) item = unaliased(item);
  for (const Words& item : items) {
    if (two_names_in_a_row(item)) return false;  // ``count(*) FORM t``: a syntax error for every engine
  }
  const std::unordered_set<std::string_view> none;
  for (const Words& item : items) {
    if (item.size() == 1 && item[0] == "*") throw Unread{};
    for (const Column& col : columns_of(item)) {
      if (!is_grouped(col, keys, none)) return true;
    }
  }
  for (std::string_view part : {std::string_view("having"), std::string_view("order")}) {
    Words* words = clauses.find(part);
    if (words == nullptr) continue;
    for (const Column& col : columns_of(*words)) {
      if (!is_grouped(col, keys, aliases)) return true;
    }
  }
  return false;
}

bool scope_may_be_bare(const Words& words, size_t start, size_t end) {
  Clauses clauses;
  Words* current = nullptr;
  int depth = 0;
  size_t i = start;
  while (i < end) {
    std::string_view w = words[i];
    ++i;
    if (!is_mark(w)) {
      if (current == nullptr) throw Unread{};
      current->push_back(w);
      continue;
    }
    if (w == "(") {
      if (i < end && words[i] == "select") {
        const size_t close = closing(words, i - 1);
        if (scope_may_be_bare(words, i, close)) return true;
        w = "0";  // the subquery's value
        i = close + 1;
      } else {
        ++depth;
      }
    } else if (w == ")") {
      --depth;
    } else if (depth == 0 && kSetOperators.count(w)) {
      if (i < end && (words[i] == "all" || words[i] == "distinct")) ++i;
      return select_may_be_bare(clauses) || scope_may_be_bare(words, i, end);
    } else if (depth == 0) {
      if (w == "group" || w == "order") {
        if (i >= end || words[i] != "by") throw Unread{};
        ++i;
      }
      if (clauses.find(w) != nullptr) return false;  // a clause twice at one level
      clauses.list.emplace_back(w, Words());
      current = &clauses.list.back().second;
      continue;
    }
    if (current == nullptr) throw Unread{};
    current->push_back(w);
  }
  return select_may_be_bare(clauses);
}

// A lower-cased token as the bare-column scan compares it: a string as ', a quoted name unquoted.
std::string_view word_of(std::string_view token) {
  const char first = token[0];
  if (first == '\'') return token.substr(0, 1);
  if (first == '"' || first == '`' || first == '[') return token.size() > 1 ? token.substr(1, token.size() - 2) : token;
  return token;
}

std::optional<bool> bare_column_scan(const std::string& low) {
  Words words;
  for (std::string_view tok : fine_tokens(low)) {
    if (tok.rfind("/*", 0) == 0 || tok.rfind("--", 0) == 0) continue;
    words.push_back(word_of(tok));
  }
  for (std::string_view w : words) {
    if (w == "with" || w == "over") return std::nullopt;
  }
  try {
    return scope_may_be_bare(words, 0, words.size());
  } catch (const Unread&) {
    return std::nullopt;
  }
}

// ---- AffinitySchema.candidate ----------------------------------------------------------------

// sqlite_compat._COARSE_TOKEN on a lower-cased ASCII text: names, numbers, quotes, runs of comparison
// characters, one-character operators; everything else is skipped.
std::vector<std::string_view> coarse_tokens(std::string_view s) {
  std::vector<std::string_view> out;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    size_t j = i + 1;
    if (is_alpha(c) || c == '_') {
      j = name_end(s, i);
    } else if (is_digit(c)) {  // [0-9]+[.]?[0-9]*(?:[eE][-+]?[0-9]+)?
      while (j < n && is_digit(s[j])) ++j;
      if (j < n && s[j] == '.') ++j;
      while (j < n && is_digit(s[j])) ++j;
      if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '-' || s[k] == '+')) ++k;
        if (k < n && is_digit(s[k])) {
          while (k < n && is_digit(s[k])) ++k;
          j = k;
        }
      }
    } else if (c == '.' && j < n && is_digit(s[j])) {  // [.][0-9]+
      while (j < n && is_digit(s[j])) ++j;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {  // [=<>!]+
      while (j < n && (s[j] == '=' || s[j] == '<' || s[j] == '>' || s[j] == '!')) ++j;
    } else if (!(c == '\'' || c == '-' || c == '+' || c == '*' || c == '/' || c == '%' || c == '(' || c == '.')) {
      ++i;  // no token here
      continue;
    }
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool coarse_word(std::string_view t) { return t.empty() || is_alpha(t[0]) || t[0] == '_' || t[0] == '$'; }
bool coarse_number(std::string_view t) { return !t.empty() && (is_digit(t[0]) || (t[0] == '.' && t.size() > 1)); }
bool arithmetic(std::string_view t) {
  return t.size() == 1 && (t[0] == '-' || t[0] == '+' || t[0] == '*' || t[0] == '/' || t[0] == '%');
}
bool comparison(std::string_view t) {
  return t == "=" || t == "==" || t == "!=" || t == "<>" || t == "<" || t == "<=" || t == ">" || t == ">=";
}

std::optional<size_t> signed_number_end(const std::vector<std::string_view>& toks, size_t j) {
  if (j < toks.size() && (toks[j] == "-" || toks[j] == "+")) ++j;
  if (j < toks.size() && coarse_number(toks[j])) return j + 1;
  return std::nullopt;
}

bool number_bounds(const std::vector<std::string_view>& toks, size_t j) {
  std::optional<size_t> k = signed_number_end(toks, j);
  if (!k || *k >= toks.size() || toks[*k] != "and") return false;
  k = signed_number_end(toks, *k + 1);
  return k && (*k >= toks.size() || (!arithmetic(toks[*k]) && toks[*k] != "." && toks[*k] != "("));
}

class AffinityNames {
 public:
  AffinityNames(const std::vector<std::string>& texts, const std::vector<std::string>& numbers)
      : texts_(texts.begin(), texts.end()), numbers_(numbers.begin(), numbers.end()) {}

  // The scan of an ASCII text: nullopt where its comments cannot be told without the Python reading (a string or
  // quoted name left open).
  std::optional<bool> candidate(const std::string& text) const {
    std::string low(text);
    for (char& ch : low) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    if (low.find("/*") != std::string::npos || low.find("--") != std::string::npos) {
      std::optional<std::string> code = without_comments(low);
      if (!code) return std::nullopt;
      low = std::move(*code);
    }
    return scan(low);
  }

 private:
  // sqlite_compat._QUOTED_OR_COMMENT's reading: strings and quoted names kept whole, each comment a space (a /*
  // comment left open runs to the end); nullopt where a string or quoted name is left open.
  static std::optional<std::string> without_comments(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
      const char c = s[i];
      size_t j = i + 1;
      if (c == '\'' || c == '"') {
        j = quoted_end(s, i);
        if (j == std::string_view::npos) return std::nullopt;
      } else if (c == '`' || c == '[') {
        const size_t end = s.find(c == '`' ? '`' : ']', j);
        if (end == std::string_view::npos) return std::nullopt;
        j = end + 1;
      } else if ((c == '/' && j < n && s[j] == '*') || (c == '-' && j < n && s[j] == '-')) {
        const size_t end = c == '/' ? s.find("*/", i + 2) : s.find('\n', i);
        i = end == std::string_view::npos ? n : c == '/' ? end + 2 : end;
        out += ' ';
        continue;
      }
      out.append(s, i, j - i);
      i = j;
    }
    return out;
  }

  bool scan(const std::string& low) const {
    const std::vector<std::string_view> toks = coarse_tokens(low);
    const size_t n = toks.size();
    auto text = [&](std::optional<std::string_view> w) { return w && texts_.count(std::string(*w)) > 0; };
    auto number = [&](std::optional<std::string_view> w) { return w && numbers_.count(std::string(*w)) > 0; };
    auto word_after = [&](size_t j) -> std::optional<std::string_view> {
      while (j < n && coarse_word(toks[j])) {
        if (j + 2 < n && toks[j + 1] == "." && coarse_word(toks[j + 2])) {
          j += 2;
          continue;
        }
        return toks[j];
      }
      return std::nullopt;
    };
    for (size_t i = 0; i < n; ++i) {
      const std::string_view tok = toks[i];
      if (comparison(tok) || tok == "is") {
        size_t j = i + 1;
        if (tok == "is" && j < n && toks[j] == "not") ++j;
        if (j < n && (toks[j] == "-" || toks[j] == "+")) ++j;
        const std::string_view right = j < n ? toks[j] : std::string_view();
        const std::string_view left = i > 0 ? toks[i - 1] : std::string_view();
        if (coarse_word(left) && ((coarse_number(right) && text(left)) || (right == "'" && number(left)))) return true;
        if (coarse_number(left) && text(word_after(i + 1))) return true;
        if (left == "'" && number(word_after(i + 1))) return true;
      } else if (tok == "between" || tok == "in") {
        if (tok == "in" && (i + 1 >= n || toks[i + 1] != "(" ||
                            (i + 2 < n && (toks[i + 2] == "select" || toks[i + 2] == "with")))) {
          continue;
        }
        const std::string_view column = i > 1 && toks[i - 1] == "not" ? toks[i - 2] : i > 0 ? toks[i - 1] : "";
        if (text(column)) return true;
        if (number(column) && !(tok == "between" && number_bounds(toks, i + 1))) return true;
      } else if (arithmetic(tok)) {
        if (tok == "*" && (i == 0 || toks[i - 1] == "(" || toks[i - 1] == "." || toks[i - 1] == "select" ||
                           toks[i - 1] == "distinct" || toks[i - 1] == "all")) {
          continue;  // count(*), SELECT *, t.*: no multiplication
        }
        if ((i > 0 && text(toks[i - 1])) || text(word_after(i + 1))) return true;
      } else if ((tok == "sum" || tok == "avg" || tok == "cast") && i + 1 < n && toks[i + 1] == "(") {
        if (text(word_after(i + 2))) return true;
      }
    }
    return false;
  }

  std::unordered_set<std::string> texts_;
  std::unordered_set<std::string> numbers_;
};

// ---- DuckDBEngine._runs_inline -----------------------------------------------------------------

// duckdb_engine._code_only's reading of an ASCII text: each string as '', each quoted name as "", each comment as a
// space. nullopt where it has a backslash or $ (which open other strings in DuckDB: its tokenizer decides), or a
// string, quoted name or /* comment left open (the Python reading decides those).
std::optional<std::string> code_only(std::string_view s) {
  if (s.find_first_of("\\$") != std::string_view::npos) return std::nullopt;  // anywhere, comments included
  std::string code;
  code.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      const size_t end = quoted_end(s, i);
      if (end == std::string_view::npos) return std::nullopt;
      code += c;
      code += c;
      i = end;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return std::nullopt;
      code += ' ';
      i = end + 2;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      size_t j = i + 2;
      while (j < n && s[j] != '\n' && s[j] != '\r') ++j;
      code += ' ';
      i = j;
    } else {
      code += c;
      ++i;
    }
  }
  return code;
}

class CallNames {
 public:
  explicit CallNames(const std::vector<std::string>& names) : names_(names.begin(), names.end()) {}

  // duckdb_engine._calls_listed on code_only(text): the word before each ``(`` is a listed name; nullopt where
  // code_only gives none.
  std::optional<bool> listed(const std::string& text) const {
    std::optional<std::string> maybe = code_only(text);
    if (!maybe) return std::nullopt;
    const std::string& code = *maybe;
    std::string name;
    for (size_t i = code.find('('); i != std::string::npos; i = code.find('(', i + 1)) {
      size_t j = i;
      while (j > 0 && (code[j - 1] == ' ' || (code[j - 1] >= '\t' && code[j - 1] <= '\r'))) --j;
      size_t k = j;
      while (k > 0 && (is_alpha(code[k - 1]) || is_digit(code[k - 1]) || code[k - 1] == '_')) --k;
      if (k < j) {
        if (is_digit(code[k])) return false;
        name.assign(code, k, j - k);
        for (char& ch : name) {
          if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        }
        if (names_.count(name) == 0) return false;
      } else if (j > 0 && (code[j - 1] == '\'' || code[j - 1] == '"')) {
        return false;
      }
    }
    return true;
  }

 private:
  std::unordered_set<std::string> names_;
};

}  // namespace

void register_sql_scan(py::module_& m) {
  m.def(
      "bare_column_scan",
      [](const std::string& low) { return bare_column_scan(low); },
      py::arg("low"),
      "may_have_bare_columns' token scan of a lower-cased ASCII text: True, False, or None (not read whole).");
  py::class_<AffinityNames>(m, "AffinityNames")
      .def(py::init<const std::vector<std::string>&, const std::vector<std::string>&>(), py::arg("texts"),
           py::arg("numbers"))
      .def("candidate", &AffinityNames::candidate, py::arg("low"),
           "AffinitySchema.candidate's reading of an ASCII text; None where a string or quoted name is left open.");
  py::class_<CallNames>(m, "CallNames")
      .def(py::init<const std::vector<std::string>&>(), py::arg("names"))
      .def("listed", &CallNames::listed, py::arg("text"),
           "DuckDBEngine._runs_inline's reading of an ASCII text: whether every word before a parenthesis is a "
           "listed name; None where it has a backslash or $, or a string or comment is left open.");
}
