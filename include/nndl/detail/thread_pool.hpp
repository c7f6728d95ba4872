#pragma once
// nndl's worker threads. A piece of work is a count of chunks; the calling thread and the
// workers it wakes claim chunks one at a time from a shared counter, so a thread that the
// system deschedules (a busy machine) holds up only a chunk it already has: the caller
// never waits for a worker to arrive, only for chunks that were claimed. Idle workers
// spin briefly and then sleep, so they do not keep a core another process needs.
//
// When the caller finds itself waiting much longer for a claimed chunk than it worked
// itself (another process took that worker's core), the pool runs the next pieces of work
// on the caller alone for a while, longer each time it happens again soon; so on a loaded
// machine nndl runs about as fast as on one thread instead of much slower.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__unix__)
#include <pthread.h>
#endif

#include "../threads.hpp"
#include "../types.hpp"

namespace nndl::detail {

/// Counts of what the pool did, for the benchmark and tests.
struct ThreadPoolStatistics {
    long long parallel = 0;   ///< pieces of work that woke workers
    long long serial = 0;     ///< pieces run on the caller alone while backing off
    long long stragglers = 0; ///< pieces whose caller waited long for a descheduled worker
};

/// True on a thread while it runs a chunk (and always on workers): parallel work started
/// from there runs on that thread alone instead of waiting for the pool it is part of.
inline bool& inside_parallel_work() {
    thread_local bool inside = false;
    return inside;
}

class ThreadPool {
public:
    /// One chunk of a piece of work: function(context, chunk).
    using ChunkFunction = void (*)(const void* context, Index chunk);

    /// The program's pool; its workers start when work first needs them. It is never
    /// destroyed: at exit its idle workers end with the process, so nothing waits for a
    /// thread (a chunk that calls exit, a forked child whose copies of the workers'
    /// condition variables count sleepers that do not exist there).
    static ThreadPool& instance() {
        alignas(ThreadPool) static unsigned char storage[sizeof(ThreadPool)];
        static ThreadPool* const pool = ::new (static_cast<void*>(storage)) ThreadPool();
        return *pool;
    }

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    /// Runs function(context, chunk) for every chunk in [0, chunks), on the calling thread
    /// and up to `helpers` workers, and returns when every chunk has run. The first
    /// exception a chunk throws is rethrown here (after the other chunks ran). Runs
    /// everything on the calling thread inside another piece's chunk, while another
    /// thread uses the pool, and while backing off from a loaded machine.
    void run(Index chunks, int helpers, ChunkFunction function, const void* context) {
        if (chunks <= 0) {
            return;
        }
        // A forked child has the pool's objects but not its threads: it works alone.
        const bool can_share = helpers > 0 && chunks > 1 && chunks < (Index{1} << 31) && !inside_parallel_work() &&
                               !forked_child().load(std::memory_order_relaxed);
        if (!can_share || busy_.exchange(true, std::memory_order_acquire)) {
            run_alone(chunks, function, context);
            return;
        }
        struct Release {
            std::atomic<bool>& busy;
            ~Release() { busy.store(false, std::memory_order_release); }
        } release{busy_};
        const std::int64_t start = now();
        spin_ns_.store(start - last_straggler_ > calm_ns ? long_spin_ns : short_spin_ns, std::memory_order_relaxed);
        if (start < serial_until_) {
            ++statistics_.serial;
            run_alone(chunks, function, context);
            return;
        }
        helpers = static_cast<int>(std::min<Index>(helpers, chunks - 1));
        helpers = std::min(helpers, start_workers(helpers));
        if (helpers == 0) {
            run_alone(chunks, function, context);
            return;
        }
        ++statistics_.parallel;
        // Publish the piece (a sequence lock: odd while the fields change), then wake
        // the first worker; each worker wakes the next one it needs.
        const std::uint32_t sequence = sequence_.load(std::memory_order_relaxed);
        sequence_.store(sequence + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        function_.store(function, std::memory_order_relaxed);
        context_.store(context, std::memory_order_relaxed);
        chunks_.store(chunks, std::memory_order_relaxed);
        helpers_.store(helpers, std::memory_order_relaxed);
        done_.store(0, std::memory_order_relaxed);
        const std::uint64_t tag = (sequence + 2) / 2;
        claim_.store(tag << 32, std::memory_order_relaxed);
        sequence_.store(sequence + 2, std::memory_order_release);
        wake(0);

        inside_parallel_work() = true;
        std::int64_t longest_chunk = 0;
        claim_chunks(static_cast<std::uint32_t>(tag), chunks, function, context, &longest_chunk);
        inside_parallel_work() = false;
        const std::int64_t claimed_all = now();
        wait_until_done(chunks);
        const std::int64_t finished = now();
        adapt(longest_chunk, finished - claimed_all, finished);
        rethrow_error();
    }

    /// What the pool did so far (read while no work runs).
    ThreadPoolStatistics statistics() const { return statistics_; }

    /// Ends any back-off and sets how long the next one lasts at first (2 ms by default),
    /// so a test checks the back-off without waiting for an earlier one to run out and
    /// without racing a short one. Call it while no work runs.
    void restart_back_off(std::int64_t first_back_off_ns = default_first_backoff_ns) {
        serial_until_ = 0;
        first_backoff_ns_ = std::max<std::int64_t>(first_back_off_ns, 1);
        backoff_ns_ = first_backoff_ns_;
    }

private:
    struct Worker {
        std::thread thread;
        std::mutex mutex;
        std::condition_variable wake;
    };

    /// How long an idle thread spins before it sleeps: long enough to catch the next
    /// product of a training step (waking a sleeping thread takes tens of microseconds);
    /// short after a held-up worker was seen in the last second, when other processes
    /// want the cores.
    static constexpr std::int64_t long_spin_ns = 300'000;
    static constexpr std::int64_t short_spin_ns = 20'000;
    static constexpr std::int64_t calm_ns = 1'000'000'000;
    /// Backing off: a caller that waited for the others at least this long, and more
    /// than twice its own longest chunk (the most a worker's last chunk takes when it
    /// keeps its core), met a descheduled worker.
    static constexpr std::int64_t straggler_ns = 200'000;
    static constexpr std::int64_t default_first_backoff_ns = 2'000'000;
    static constexpr std::int64_t max_backoff_ns = 500'000'000;

    ThreadPool() : slots_(std::make_unique<std::atomic<Worker*>[]>(max_threads)) {
#if defined(__unix__)
        ::pthread_atfork(nullptr, nullptr, [] { forked_child().store(true); });
#endif
        for (int i = 0; i < max_threads; ++i) {
            slots_[i].store(nullptr, std::memory_order_relaxed);
        }
        owned_.reserve(max_threads);  // so that adding a started worker never throws
    }

    static std::int64_t now() {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    /// Set in a child process that fork() made after the pool existed.
    static std::atomic<bool>& forked_child() {
        static std::atomic<bool> forked{false};
        return forked;
    }

    static void pause() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_ia32_pause();
#else
        std::this_thread::yield();
#endif
    }

    /// Every chunk on the calling thread; as with workers, a chunk that throws does not
    /// stop the others, and the first exception is rethrown at the end.
    static void run_alone(Index chunks, ChunkFunction function, const void* context) {
        const bool outer = !inside_parallel_work();
        inside_parallel_work() = true;
        struct Restore {
            bool outer;
            ~Restore() {
                if (outer) {
                    inside_parallel_work() = false;
                }
            }
        } restore{outer};
        std::exception_ptr error;
        for (Index chunk = 0; chunk < chunks; ++chunk) {
            try {
                function(context, chunk);
            } catch (...) {
                if (!error) {
                    error = std::current_exception();
                }
            }
        }
        if (error) {
            std::rethrow_exception(error);
        }
    }

    /// Starts workers until `count` exist (or the system refuses more); returns how many exist.
    int start_workers(int count) {
        count = std::min(count, max_threads - 1);
        while (static_cast<int>(owned_.size()) < count) {
            const int index = static_cast<int>(owned_.size());
            try {
                auto worker = std::make_unique<Worker>();
                Worker* self = worker.get();
                // The worker starts from the sequence as it is now, before the piece that
                // needs it is published, so it sees that piece.
                const std::uint32_t seen = sequence_.load(std::memory_order_relaxed);
                worker->thread = std::thread([this, self, index, seen] { work_loop(*self, index, seen); });
                slots_[index].store(self, std::memory_order_release);
                owned_.push_back(std::move(worker));  // capacity reserved: cannot throw
            } catch (...) {
                break;  // no more threads to be had: work with those there are
            }
        }
        return static_cast<int>(owned_.size());
    }

    void wake(int index) {
        Worker* worker = slots_[index].load(std::memory_order_acquire);
        if (worker != nullptr) {
            { std::lock_guard<std::mutex> lock(worker->mutex); }
            worker->wake.notify_one();
        }
    }

    /// Claims and runs chunks of the piece tagged `tag` until none is left; with
    /// `longest`, records the longest chunk's time there.
    void claim_chunks(std::uint32_t tag, Index chunks, ChunkFunction function, const void* context,
                      std::int64_t* longest = nullptr) {
        std::uint64_t current = claim_.load(std::memory_order_acquire);
        for (;;) {
            if (static_cast<std::uint32_t>(current >> 32) != tag ||
                static_cast<Index>(current & 0xffffffffu) >= chunks) {
                return;
            }
            if (!claim_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) {
                continue;
            }
            const std::int64_t began = longest != nullptr ? now() : 0;
            try {
                function(context, static_cast<Index>(current & 0xffffffffu));
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex_);
                if (!error_) {
                    error_ = std::current_exception();
                }
            }
            if (longest != nullptr) {
                *longest = std::max(*longest, now() - began);
            }
            if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
                { std::lock_guard<std::mutex> lock(finish_mutex_); }
                finished_.notify_one();
            }
            current = claim_.load(std::memory_order_acquire);
        }
    }

    void wait_until_done(Index chunks) {
        const std::int64_t until = now() + spin_ns_.load(std::memory_order_relaxed);
        for (int spins = 0; done_.load(std::memory_order_acquire) != chunks; ++spins) {
            if ((spins & 63) == 63 && now() > until) {
                std::unique_lock<std::mutex> lock(finish_mutex_);
                finished_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == chunks; });
                return;
            }
            pause();
        }
    }

    /// Backs off to the caller alone after a straggler: 2 ms at first, twice as long
    /// each time the next straggler comes soon after, up to half a second.
    void adapt(std::int64_t longest_chunk, std::int64_t waited, std::int64_t finished) {
        if (waited <= straggler_ns || waited <= 2 * longest_chunk) {
            return;
        }
        ++statistics_.stragglers;
        last_straggler_ = finished;
        backoff_ns_ = finished - serial_until_ < 4 * backoff_ns_
                          ? std::min(2 * backoff_ns_, std::max(max_backoff_ns, first_backoff_ns_))
                          : first_backoff_ns_;
        serial_until_ = finished + backoff_ns_;
    }

    void rethrow_error() {
        std::exception_ptr error;
        {
            std::lock_guard<std::mutex> lock(error_mutex_);
            std::swap(error, error_);
        }
        if (error) {
            std::rethrow_exception(error);
        }
    }

    void work_loop(Worker& self, int index, std::uint32_t seen) {
        inside_parallel_work() = true;
        for (;;) {
            wait_for_work(self, seen);
            // Read the piece; a sequence that is odd or changed meanwhile means it is
            // being replaced: read again.
            const std::uint32_t sequence = sequence_.load(std::memory_order_acquire);
            if (sequence & 1u) {
                pause();
                continue;
            }
            const ChunkFunction function = function_.load(std::memory_order_relaxed);
            const void* context = context_.load(std::memory_order_relaxed);
            const Index chunks = chunks_.load(std::memory_order_relaxed);
            const int helpers = helpers_.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (sequence_.load(std::memory_order_relaxed) != sequence) {
                continue;
            }
            seen = sequence;
            if (index >= helpers) {
                continue;
            }
            if (index + 1 < helpers) {
                wake(index + 1);
            }
            // A chunk is claimed only while the tag matches, so a worker that comes late
            // touches nothing of a piece that has finished.
            claim_chunks(sequence / 2, chunks, function, context);
        }
    }

    /// Waits until the sequence moves past `seen`.
    void wait_for_work(Worker& self, std::uint32_t seen) {
        const std::int64_t until = now() + spin_ns_.load(std::memory_order_relaxed);
        for (int spins = 0;; ++spins) {
            if (sequence_.load(std::memory_order_acquire) != seen) {
                return;
            }
            if ((spins & 63) == 63 && now() > until) {
                break;
            }
            pause();
        }
        std::unique_lock<std::mutex> lock(self.mutex);
        self.wake.wait(lock, [&] { return sequence_.load(std::memory_order_acquire) != seen; });
    }

    std::unique_ptr<std::atomic<Worker*>[]> slots_;  // worker i, for threads waking each other
    std::vector<std::unique_ptr<Worker>> owned_;     // changed only by the caller holding busy_

    std::atomic<bool> busy_{false};
    std::atomic<std::uint32_t> sequence_{0};
    std::atomic<ChunkFunction> function_{nullptr};
    std::atomic<const void*> context_{nullptr};
    std::atomic<Index> chunks_{0};
    std::atomic<int> helpers_{0};
    // The piece's tag << 32 | the next chunk. The tag (the sequence / 2) wraps after 2^31
    // pieces; a worker would have to stall between reading a piece and claiming its chunk
    // for exactly that many pieces to take a chunk of the wrong one.
    std::atomic<std::uint64_t> claim_{0};
    std::atomic<Index> done_{0};
    std::atomic<std::int64_t> spin_ns_{long_spin_ns};

    std::mutex finish_mutex_;
    std::condition_variable finished_;
    std::mutex error_mutex_;
    std::exception_ptr error_;

    // Touched only by the caller holding busy_.
    std::int64_t serial_until_ = 0;
    std::int64_t first_backoff_ns_ = default_first_backoff_ns;
    std::int64_t backoff_ns_ = default_first_backoff_ns;
    std::int64_t last_straggler_ = -calm_ns;
    ThreadPoolStatistics statistics_;
};

}  // namespace nndl::detail
