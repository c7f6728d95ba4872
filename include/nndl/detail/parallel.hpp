#pragma once
// nndl's thread policy, used by every parallel loop (products, kernels, layers,
// optimizers): a piece of work is split into chunks that threads claim one at a time
// (detail/thread_pool.hpp), and takes only as many threads as it has chunks of a useful
// size: at most nndl::threads(), at most one per `grain` of work, and one when the work
// is small. Results never depend on the thread count: every chunk writes its own part.

#include <algorithm>
#include <exception>

#include "thread_pool.hpp"
#include "../threads.hpp"
#include "../types.hpp"

namespace nndl::detail {

/// Threads for `chunks` chunks of work holding `grains` grains in all: at most
/// nndl::threads() and the cores (usable_threads()), one per chunk and one per grain.
inline int threads_for(Index chunks, Index grains) {
    return static_cast<int>(
        std::max<Index>(1, std::min<Index>({static_cast<Index>(usable_threads()), chunks, grains})));
}

/// Runs work(chunk) for every chunk in [0, chunks) on up to `thread_count` threads.
/// A chunk that throws does not stop the others; the first exception is rethrown after
/// all of them ran, on one thread or several alike.
template <class Work>
void run_chunks(Index chunks, int thread_count, const Work& work) {
    if (thread_count <= 1 || chunks <= 1) {
        std::exception_ptr error;
        for (Index chunk = 0; chunk < chunks; ++chunk) {
            try {
                work(chunk);
            } catch (...) {
                if (!error) {
                    error = std::current_exception();
                }
            }
        }
        if (error) {
            std::rethrow_exception(error);
        }
        return;
    }
    ThreadPool::instance().run(
        chunks, thread_count - 1, [](const void* context, Index chunk) { (*static_cast<const Work*>(context))(chunk); },
        &work);
}

/// A grain: the least work, in multiply-adds or comparable operations, worth a thread of
/// its own (tens of microseconds: far more than waking a worker costs).
constexpr Index grain_operations = Index{1} << 17;

/// Runs work(chunk) for every chunk in [0, chunks), each chunk about
/// `operations_per_chunk` operations, on one thread per grain of the whole.
template <class Work>
void parallel_chunks(Index chunks, Index operations_per_chunk, const Work& work) {
    const double grains = static_cast<double>(chunks) * static_cast<double>(operations_per_chunk) /
                          static_cast<double>(grain_operations);
    run_chunks(chunks, threads_for(chunks, static_cast<Index>(std::min(grains, 1e9))), work);
}

/// Chunks per thread in parallel_ranges: enough that a thread held up elsewhere leaves
/// its share to the others, few enough that each chunk stays a useful size.
constexpr Index chunks_per_thread = 4;

/// Runs work(begin, end) on non-empty parts of [0, n) whose boundaries are multiples of
/// `align` (except n), claimed dynamically by up to n / grain threads; parts hold about
/// n / (threads * chunks_per_thread) elements and never fewer than `grain` but for the
/// rounding to `align`. Nothing runs for n <= 0.
template <class Work>
void parallel_ranges(Index n, Index grain, Index align, const Work& work) {
    if (n <= 0) {
        return;
    }
    grain = std::max<Index>(grain, 1);
    align = std::max<Index>(align, 1);
    const int thread_count = threads_for(n / grain, n / grain);
    if (thread_count <= 1) {
        work(Index{0}, n);
        return;
    }
    const Index units = (n + align - 1) / align;
    const Index chunks = std::min<Index>(units, std::min<Index>(n / grain, thread_count * chunks_per_thread));
    run_chunks(chunks, thread_count, [&](Index chunk) {
        const Index begin = units * chunk / chunks * align;
        const Index end = chunk + 1 == chunks ? n : std::min(n, units * (chunk + 1) / chunks * align);
        if (begin < end) {
            work(begin, end);
        }
    });
}

}  // namespace nndl::detail
