#pragma once
// How many threads nndl's parallel work may use. By default every core this process may
// run on; the environment variable NNDL_NUM_THREADS (else OMP_NUM_THREADS), read when
// nndl first needs the count, or nndl::set_threads(n) at any time, says otherwise. Each
// piece of work then takes only as many threads as its size keeps busy
// (detail/parallel.hpp), so a small product runs on one thread even with 64 cores, and on
// a loaded machine work falls back to the calling thread alone for a while.

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

#include "errors.hpp"

namespace nndl {

/// The largest thread count set_threads and NNDL_NUM_THREADS accept.
inline constexpr int max_threads = 1024;

/// The cores this process may run on (its CPU affinity on Linux, so `taskset -c 0`
/// gives 1), at least 1.
inline int available_cores() {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) {
            return count;
        }
    }
#endif
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : static_cast<int>(std::min<unsigned>(cores, max_threads));
}

namespace detail {

/// A thread count from an environment variable: a whole number from 1 to max_threads
/// (for OMP_NUM_THREADS, the first entry of its comma-separated list), or 0 when unset,
/// empty or blank, or 0 (the default). Throws InvalidArgument for anything else when `strict`;
/// returns 0 otherwise.
inline int thread_count_from_environment(const char* variable, bool strict) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') {
        return 0;
    }
    std::string text(value);
    if (!strict) {
        text = text.substr(0, text.find(','));
    }
    const auto first = text.find_first_not_of(" \t\n\r\f\v");
    const auto last = text.find_last_not_of(" \t\n\r\f\v");
    text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
    if (text.empty()) {
        return 0;  // only spaces: unset, as an empty value
    }
    long count = 0;
    bool valid = text.size() <= 5;
    for (const char c : text) {
        valid = valid && c >= '0' && c <= '9';
        count = valid ? count * 10 + (c - '0') : count;
    }
    if (valid && count <= max_threads) {
        return static_cast<int>(count);  // 0: the default, as set_threads(0)
    }
    if (strict) {
        throw InvalidArgument(concat("nndl threads: environment variable ", variable,
                                     " must be a whole number from 0 (the default) to ", max_threads, ", got '", value,
                                     "'"));
    }
    return 0;
}

/// nndl's thread setting; 0 until it is first read or set.
inline std::atomic<int>& thread_setting() {
    static std::atomic<int> setting{0};
    return setting;
}

}  // namespace detail

/// The thread count nndl starts with: NNDL_NUM_THREADS when set (and not 0), else the
/// first number of OMP_NUM_THREADS when that is a valid count (an invalid one is ignored,
/// as OpenMP runtimes do; an inherited OMP_NUM_THREADS=1 makes nndl single-threaded too),
/// else available_cores(). Throws InvalidArgument naming the variable when
/// NNDL_NUM_THREADS is anything but a whole number from 0 to max_threads.
inline int default_threads() {
    if (const int count = detail::thread_count_from_environment("NNDL_NUM_THREADS", true)) {
        return count;
    }
    if (const int count = detail::thread_count_from_environment("OMP_NUM_THREADS", false)) {
        return count;
    }
    return available_cores();
}

/// The most threads nndl's parallel work uses from now on: 1 (everything on the calling
/// thread) to max_threads, or 0 to return to default_threads(). Throws InvalidArgument
/// for other values. Takes effect at the next parallel piece of work; safe to call from
/// any thread. A count above available_cores() is kept (threads() returns it) but work
/// runs on at most that many cores' worth of threads: more would only wait for each other.
inline void set_threads(int count) {
    if (count < 0 || count > max_threads) {
        throw InvalidArgument(detail::concat("nndl::set_threads: expected 0 (the default) or a thread count from 1 to ",
                                             max_threads, ", got ", count));
    }
    detail::thread_setting().store(count == 0 ? default_threads() : count, std::memory_order_relaxed);
}

/// The most threads nndl's parallel work uses now (see set_threads). The first call
/// reads the environment (default_threads(), which may throw: a bad NNDL_NUM_THREADS is
/// reported by the first product, training step or call to threads()).
inline int threads() {
    int count = detail::thread_setting().load(std::memory_order_relaxed);
    if (count == 0) {
        int expected = 0;
        const int fallback = default_threads();
        // A set_threads() that came meanwhile wins over the environment.
        count = detail::thread_setting().compare_exchange_strong(expected, fallback, std::memory_order_relaxed)
                    ? fallback
                    : expected;
    }
    return count;
}

namespace detail {

/// The most threads a piece of work takes whatever threads() says: the cores the process
/// had when it first asked (more threads than cores only wait for each other).
inline std::atomic<int>& core_limit() {
    static std::atomic<int> limit{available_cores()};
    return limit;
}

/// Lets work run on up to `cores` threads (1 to max_threads) whatever the machine has, or
/// with 0 on the cores again. For tests: they check results on more threads than the
/// machine they run on has cores.
inline void set_core_limit(int cores) {
    if (cores < 0 || cores > max_threads) {
        throw InvalidArgument(concat("nndl::detail::set_core_limit: expected 0 (the cores) or 1 to ", max_threads,
                                     ", got ", cores));
    }
    core_limit().store(cores == 0 ? available_cores() : cores, std::memory_order_relaxed);
}

/// The threads a piece of work may take: threads(), but never more than core_limit().
inline int usable_threads() {
    return std::min(threads(), core_limit().load(std::memory_order_relaxed));
}

}  // namespace detail

}  // namespace nndl
