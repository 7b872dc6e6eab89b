// Reads an Arrow C stream (the PyCapsule interface's ArrowArrayStream) into a Table.
#pragma once
#include <memory>
#include <stdexcept>

#include "arrow_abi.hpp"
#include "table.hpp"

namespace sqlrl {

// The cells read so far take more than the reader's byte budget (Python: sqlrl._core.ResultTooLarge, a
// MemoryError).
struct ResultTooLarge : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Consumes and releases the stream. Throws std::invalid_argument on unsupported types, ResultTooLarge when
// the table's cells and text bytes exceed max_bytes (checked after every column of every batch).
std::shared_ptr<Table> table_from_arrow_stream(ArrowArrayStream* stream, size_t max_rows, size_t max_bytes);

}  // namespace sqlrl
