#pragma once
// The rule every fuzz target follows: nndl's documented exceptions are a clean
// rejection; anything else escapes to libFuzzer (or the replay test) as a bug.

#include <stdexcept>

#include <nndl/errors.hpp>

namespace nndl_fuzz {

template <class F>
void expect_clean_rejection(F&& f) {
    try {
        f();
    } catch (const nndl::FileError&) {
    } catch (const std::invalid_argument&) {
    }
}

}  // namespace nndl_fuzz
