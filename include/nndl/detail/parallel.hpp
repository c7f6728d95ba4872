#pragma once
// Splitting a loop over [0, n) between Eigen's threads (OpenMP), for nndl's own
// kernels and updates; without OpenMP, or inside a parallel region, one call does all.

#include <algorithm>

#include <Eigen/Core>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../types.hpp"

namespace nndl::detail {

/// Runs work(begin, end) on contiguous parts of [0, n), one per thread, when each part
/// gets at least `grain` elements; part boundaries are multiples of `align` (except n).
template <class Work>
void parallel_ranges(Index n, Index grain, Index align, const Work& work) {
#ifdef _OPENMP
    const Index threads = std::min<Index>(Eigen::nbThreads(), n / std::max<Index>(grain, 1));
    if (threads > 1 && !omp_in_parallel()) {
        const Index units = n / std::max<Index>(align, 1);
#pragma omp parallel num_threads(static_cast<int>(threads))
        {
            const Index t = omp_get_thread_num();
            const Index count = omp_get_num_threads();
            const Index begin = units * t / count * align;
            const Index end = t + 1 == count ? n : units * (t + 1) / count * align;
            work(begin, end);
        }
        return;
    }
#else
    (void)grain;
    (void)align;
#endif
    work(Index{0}, n);
}

}  // namespace nndl::detail

namespace nndl::detail {

/// Runs work(chunk) for every chunk in [0, chunks), claimed one at a time by Eigen's
/// thread count of threads, so a thread the system deschedules holds up only the chunk
/// it has. Results must not depend on which thread runs a chunk (write per chunk).
template <class Work>
void parallel_chunks(Index chunks, const Work& work) {
#ifdef _OPENMP
    const Index threads = std::min<Index>(Eigen::nbThreads(), chunks);
    if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(static_cast<int>(threads))
        for (Index chunk = 0; chunk < chunks; ++chunk) {
            work(chunk);
        }
        return;
    }
#endif
    for (Index chunk = 0; chunk < chunks; ++chunk) {
        work(chunk);
    }
}

}  // namespace nndl::detail
