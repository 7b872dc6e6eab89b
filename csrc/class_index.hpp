// An open-addressing index of equivalence classes keyed by 64-bit hashes. Items with equal hashes
// are told apart by the caller's equality test, so a hash collision never merges unequal items.
// The row groups, the value bags and table_f1's index of gold values are all built on it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sqlrl {

class ClassIndex {
 public:
  // Room for `expected` classes at a load factor of at most 1/2.
  explicit ClassIndex(size_t expected = 0) {
    size_t cap = 16;
    while (cap < 2 * expected) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }

  size_t size() const { return classes_; }
  // Whether two classes were given the same hash (then a hash alone does not name a class).
  bool shared_hashes() const { return shared_; }

  // The class with hash h that `same(cls)` accepts, else a new class (numbered in order).
  // Returns (class, whether it is new).
  template <class Same>
  std::pair<uint32_t, bool> insert(uint64_t h, Same&& same) {
    for (size_t i = static_cast<size_t>(h) & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.cls == 0) {
        slot = Slot{h, static_cast<uint32_t>(++classes_)};
        return {slot.cls - 1, true};
      }
      if (slot.hash == h) {
        if (same(slot.cls - 1)) return {slot.cls - 1, false};
        shared_ = true;
      }
    }
  }

  // The class with hash h that `same(cls)` accepts, or -1.
  template <class Same>
  long find(uint64_t h, Same&& same) const {
    for (size_t i = static_cast<size_t>(h) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.cls == 0) return -1;
      if (slot.hash == h && same(slot.cls - 1)) return static_cast<long>(slot.cls - 1);
    }
  }

  // The first class with hash h, or -1 (the only candidate unless shared_hashes()).
  long find_hash(uint64_t h) const {
    return find(h, [](uint32_t) { return true; });
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t cls = 0;  // class + 1; 0 is empty
  };
  std::vector<Slot> slots_;  // the hash kept in the slot: a probe reads one place
  size_t mask_ = 0;
  size_t classes_ = 0;
  bool shared_ = false;
};

}  // namespace sqlrl
