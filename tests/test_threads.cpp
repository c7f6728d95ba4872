// nndl's thread policy: the setting and its environment variables, the pool's chunks
// (every one exactly once, any thread count, nested work, exceptions, two callers at
// once), the back-off from a descheduled worker, and results that do not depend on
// the thread count.
#include "test_support.hpp"

#include <nndl/detail/parallel.hpp>
#include <nndl/all.hpp>
#include <nndl/threads.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using nndl::Index;
using nndl::Matrix;

namespace {

/// Sets an environment variable for one scope (unset when `value` is null), then restores it.
class ScopedEnvironment {
public:
    ScopedEnvironment(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
            had_ = true;
        }
        if (value == nullptr) {
            ::unsetenv(name);
        } else {
            ::setenv(name, value, 1);
        }
    }
    ~ScopedEnvironment() {
        if (had_) {
            ::setenv(name_, old_.c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnvironment(const ScopedEnvironment&) = delete;
    ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

}  // namespace

TEST_CASE("set_threads takes 1 to max_threads or 0 for the default, and refuses the rest") {
    nndl::set_threads(3);
    CHECK(nndl::threads() == 3);
    nndl::set_threads(1);
    CHECK(nndl::threads() == 1);
    CHECK_THROWS_WITH_AS(nndl::set_threads(-1),
                         "nndl::set_threads: expected 0 (the default) or a thread count from 1 to 1024, got -1",
                         nndl::InvalidArgument);
    CHECK_THROWS_AS(nndl::set_threads(nndl::max_threads + 1), nndl::InvalidArgument);
    CHECK(nndl::threads() == 1);  // a refused value changes nothing
    {
        const ScopedEnvironment nndl_variable("NNDL_NUM_THREADS", nullptr);
        const ScopedEnvironment omp_variable("OMP_NUM_THREADS", nullptr);
        nndl::set_threads(0);
        CHECK(nndl::threads() == nndl::available_cores());
    }
    CHECK(nndl::available_cores() >= 1);
    nndl::set_threads(0);
}

TEST_CASE("NNDL_NUM_THREADS, then OMP_NUM_THREADS, then the cores give the default") {
    const ScopedEnvironment omp_unset("OMP_NUM_THREADS", nullptr);
    {
        const ScopedEnvironment variable("NNDL_NUM_THREADS", " 4 ");
        CHECK(nndl::default_threads() == 4);
        const ScopedEnvironment omp("OMP_NUM_THREADS", "9");
        CHECK(nndl::default_threads() == 4);  // nndl's own variable comes first
    }
    {
        const ScopedEnvironment variable("NNDL_NUM_THREADS", "0");  // 0: the default, as set_threads(0)
        CHECK(nndl::default_threads() == nndl::available_cores());
        const ScopedEnvironment newline("NNDL_NUM_THREADS", "3\n");
        CHECK(nndl::default_threads() == 3);
        const ScopedEnvironment blank("NNDL_NUM_THREADS", "  ");  // blank, as empty: the default
        CHECK(nndl::default_threads() == nndl::available_cores());
    }
    for (const char* bad : {"abc", "-2", "1025", "4,2", "3x", "99999999999", "+3"}) {
        const ScopedEnvironment variable("NNDL_NUM_THREADS", bad);
        INFO("NNDL_NUM_THREADS=" << bad);
        CHECK_THROWS_WITH_AS(nndl::default_threads(),
                             (std::string("nndl threads: environment variable NNDL_NUM_THREADS must be a whole number "
                                          "from 0 (the default) to 1024, got '") +
                              bad + "'")
                                 .c_str(),
                             nndl::InvalidArgument);
    }
    const ScopedEnvironment nndl_unset("NNDL_NUM_THREADS", nullptr);
    {
        const ScopedEnvironment omp("OMP_NUM_THREADS", "5,2");  // OpenMP's nested list: the first level
        CHECK(nndl::default_threads() == 5);
    }
    {
        const ScopedEnvironment omp("OMP_NUM_THREADS", "many");  // ignored, as OpenMP runtimes do
        CHECK(nndl::default_threads() == nndl::available_cores());
    }
    nndl::set_threads(0);
}

TEST_CASE("parallel_ranges covers every element once, on aligned parts, at any thread count") {
    for (int threads : {1, 2, 3, 8, 16, 64}) {
        nndl::set_threads(threads);
        for (const Index n : {0, 1, 63, 64, 1000, 100'003}) {
            for (const Index align : {1, 16}) {
                std::vector<std::atomic<int>> seen(static_cast<std::size_t>(n));
                std::atomic<bool> misaligned{false};
                nndl::detail::parallel_ranges(n, 100, align, [&](Index begin, Index end) {
                    if (begin % align != 0 || (end != n && end % align != 0) || begin >= end) {
                        misaligned = true;
                    }
                    for (Index i = begin; i < end; ++i) {
                        ++seen[static_cast<std::size_t>(i)];
                    }
                });
                INFO("threads=" << threads << " n=" << n << " align=" << align);
                CHECK(!misaligned);
                bool each_once = true;
                for (const auto& count : seen) {
                    each_once = each_once && count == 1;
                }
                CHECK(each_once);
            }
        }
    }
    nndl::set_threads(0);
}

TEST_CASE("a piece of work's thread count follows its size and never passes the cores") {
    const int cores = nndl::available_cores();
    nndl::set_threads(16);
    CHECK(nndl::threads() == 16);  // the setting is kept...
    CHECK(nndl::detail::usable_threads() == std::min(16, cores));  // ...but not more threads than cores run
    CHECK(nndl::detail::threads_for(100, 1) == 1);  // one grain: one thread
    CHECK(nndl::detail::threads_for(100, 1000) == std::min(16, cores));
    CHECK(nndl::detail::threads_for(2, 1000) == std::min(2, cores));  // two chunks: at most two threads
    nndl::set_threads(1);
    CHECK(nndl::detail::threads_for(100, 1000) == 1);
    nndl::set_threads(0);
}

TEST_CASE("sixteen threads on any machine: every chunk runs exactly once") {
    // run_chunks takes the thread count as given, so many workers are exercised even here.
    for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> seen(1000);
        nndl::detail::run_chunks(1000, 16, [&](Index chunk) { ++seen[static_cast<std::size_t>(chunk)]; });
        bool each_once = true;
        for (const auto& count : seen) {
            each_once = each_once && count == 1;
        }
        REQUIRE(each_once);
    }
}

TEST_CASE("parallel work started inside a chunk runs on that thread, and an exception reaches the caller") {
    nndl::set_threads(4);
    std::atomic<long> inner{0};
    nndl::detail::parallel_chunks(8, nndl::detail::grain_operations, [&](Index) {
        nndl::detail::parallel_chunks(8, nndl::detail::grain_operations, [&](Index) { ++inner; });
    });
    CHECK(inner == 64);

    std::atomic<int> ran{0};
    CHECK_THROWS_WITH_AS(nndl::detail::parallel_chunks(32, nndl::detail::grain_operations,
                                                       [&](Index chunk) {
                                                           ++ran;
                                                           if (chunk == 5) {
                                                               throw std::runtime_error("chunk 5 failed");
                                                           }
                                                       }),
                         "chunk 5 failed", std::runtime_error);
    CHECK(ran == 32);  // the other chunks still ran: no part of the output is left stale
    ran = 0;  // the same on one thread
    CHECK_THROWS_WITH_AS(nndl::detail::run_chunks(32, 1,
                                                  [&](Index chunk) {
                                                      ++ran;
                                                      if (chunk == 5) {
                                                          throw std::runtime_error("chunk 5 failed");
                                                      }
                                                  }),
                         "chunk 5 failed", std::runtime_error);
    CHECK(ran == 32);
    // The pool works afterwards.
    std::atomic<int> after{0};
    nndl::detail::parallel_chunks(32, nndl::detail::grain_operations, [&](Index) { ++after; });
    CHECK(after == 32);
    nndl::set_threads(0);
}

TEST_CASE("two threads using nndl at once both get every chunk") {
    nndl::set_threads(4);
    std::atomic<long> total{0};
    const auto use = [&] {
        for (int round = 0; round < 200; ++round) {
            nndl::detail::parallel_chunks(16, nndl::detail::grain_operations, [&](Index chunk) { total += chunk; });
        }
    };
    std::thread other(use);
    use();
    other.join();
    CHECK(total == 2 * 200 * (15 * 16 / 2));
    nndl::set_threads(0);
}

TEST_CASE("a worker that is held up makes the pool run the next pieces on the caller alone") {
    auto& pool = nndl::detail::ThreadPool::instance();
    const auto caller = std::this_thread::get_id();
    // No back-off left by earlier tests, and the next one lasts a minute: nothing here
    // depends on how fast this machine gets to the next line.
    pool.restart_back_off(std::int64_t{60'000'000'000});
    const auto before = pool.statistics();
    // Hold the worker, as if the system gave its core to another process: the chunk a
    // worker takes waits until the caller has run all the others and then waited 20 ms
    // (the pool calls a wait of 0.2 ms and of twice the caller's longest chunk held up).
    // The caller's first chunk waits for the worker to take one, so one surely does.
    // run_chunks takes two threads as given, so this holds on a machine of one core too.
    constexpr Index chunks = 64;
    using Clock = std::chrono::steady_clock;
    std::atomic<int> on_worker{0};
    std::atomic<int> on_caller{0};
    std::atomic<Clock::rep> caller_longest{0};  // the caller's longest chunk (its first: it waits for the worker)
    nndl::detail::run_chunks(chunks, 2, [&](Index) {
        if (std::this_thread::get_id() == caller) {
            const auto begin = Clock::now();
            while (on_worker.load() == 0) {
                std::this_thread::yield();
            }
            caller_longest = std::max(caller_longest.load(), (Clock::now() - begin).count());
            ++on_caller;
            return;
        }
        ++on_worker;
        while (on_caller.load() + on_worker.load() < chunks) {  // the caller has not finished its chunks
            std::this_thread::yield();
        }
        // Held for 20 ms and three times the caller's longest chunk, however slow the machine.
        const auto release = Clock::now() + std::chrono::milliseconds(20) + 3 * Clock::duration(caller_longest.load());
        while (Clock::now() < release) {
            std::this_thread::yield();
        }
    });
    const auto held = pool.statistics();
    CHECK(on_worker == 1);  // the worker held its chunk; the caller ran the other 63
    CHECK(held.stragglers == before.stragglers + 1);
    // The next piece runs on the caller alone (the back-off lasts a minute here).
    std::atomic<int> off_caller{0};
    nndl::detail::run_chunks(8, 2, [&](Index) {
        if (std::this_thread::get_id() != caller) {
            ++off_caller;
        }
    });
    CHECK(off_caller == 0);
    CHECK(pool.statistics().serial == held.serial + 1);
    pool.restart_back_off();  // the default again, and no back-off for the tests after this one
}

TEST_CASE("a forked child runs nndl's work on its own thread and exits cleanly") {
    nndl::detail::run_chunks(8, 2, [](Index) {});  // the parent's pool has a worker now
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::atomic<int> count{0};
        nndl::detail::run_chunks(100, 2, [&](Index) { ++count; });
        std::exit(count == 100 ? 0 : 1);  // a normal exit: nothing may wait for the parent's workers
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE_TEMPLATE("training gives the same numbers on 1, 2 and 16 threads", Scalar, float, double) {
    nndl::detail::set_core_limit(16);  // sixteen threads, whatever this machine's cores
    // Sizes that take every parallel path: thin kernels (8 units over 3000 inputs), panel
    // products (256 and 96 units), Adam's parallel update, a convolution and pooling.
    const Matrix<Scalar> x = nndl::NumpyRandom(4).randn<Scalar>(3000, 160);
    const Matrix<Scalar> y = (x.row(0).array() > Scalar(0)).template cast<Scalar>();
    std::vector<Matrix<Scalar>> first;
    for (int threads : {1, 2, 16}) {
        nndl::set_threads(threads);
        REQUIRE(nndl::detail::usable_threads() == threads);
        nndl::Network<Scalar> net({3000, 8, 256, 96, 1},
                                  {nndl::Activation::relu, nndl::Activation::relu, nndl::Activation::tanh,
                                   nndl::Activation::sigmoid},
                                  {nndl::Init::he}, 3);
        nndl::Adam<Scalar> adam(0.001);
        for (int step = 0; step < 3; ++step) {
            net.train_step(x, y, adam);
        }
        std::vector<Matrix<Scalar>> parameters;
        for (const auto& p : net.parameters()) {
            parameters.push_back(*p.value);
        }
        parameters.push_back(net.predict_proba(x));
        INFO("threads=" << threads);
        if (first.empty()) {
            first = parameters;
        } else {
            REQUIRE(parameters.size() == first.size());
            for (std::size_t i = 0; i < parameters.size(); ++i) {
                CHECK(parameters[i] == first[i]);
            }
        }
    }
    nndl::set_threads(0);
    nndl::detail::set_core_limit(0);
}
