// run_parallel: split [0, n) over worker threads; serial for small inputs; first exception wins.
#pragma once
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace sqlrl {

// Threads to use for `workers` (-1: all cores). More threads than cores only add overhead to this
// CPU-bound work, so the count is capped at the cores (and at 256 when they are unknown).
inline int resolve_workers(int workers) {
  const unsigned hc = std::thread::hardware_concurrency();
  const int cores = hc ? static_cast<int>(hc) : 256;
  if (workers < 0) return hc ? cores : 1;
  return std::clamp(workers, 1, cores);
}

template <class Fn>
void run_parallel(size_t n, int workers, Fn&& fn) {
  const size_t nthreads = std::min<size_t>(static_cast<size_t>(resolve_workers(workers)), n);
  if (nthreads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next.store(n);
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(nthreads - 1);
  try {
    for (size_t t = 0; t + 1 < nthreads; ++t) threads.emplace_back(worker);
  } catch (const std::system_error&) {
    // The system refused another thread: the ones started (and this one) share the work.
  }
  worker();
  for (auto& th : threads) th.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace sqlrl
