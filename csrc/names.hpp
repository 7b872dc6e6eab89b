// Enum values with their Python names. Each enum's table (kModes, kMetrics) is the one list of its
// names: parsing, the error message and the Python bindings (_core.Mode, _core.MODES, ...) read it.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace sqlrl {

template <class E>
struct Named {
  E value;
  const char* name;
};

// "a, b, c or d"
template <class E, size_t N>
std::string names_text(const Named<E> (&table)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += table[i].name;
  }
  return out;
}

// The value named `name`; std::invalid_argument (Python ValueError) naming every valid name otherwise.
template <class E, size_t N>
E parse_named(const Named<E> (&table)[N], const std::string& name, const char* what) {
  for (const auto& entry : table)
    if (name == entry.name) return entry.value;
  throw std::invalid_argument("unknown " + std::string(what) + " '" + name + "' (expected " + names_text(table) + ")");
}

}  // namespace sqlrl
