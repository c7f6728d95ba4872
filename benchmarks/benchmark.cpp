// nndl's benchmark: the course's L-layer cat model, a Fashion-MNIST MLP epoch and a CNN
// epoch, against the same work in NumPy and PyTorch (benchmarks/reference_*.py) run
// from this process, plus the GEMM rate of this build as the machine's practical peak.
// Each row runs at each thread count of --threads; --load keeps one core busy with
// another process meanwhile. Prints the best of each row and the thread sweep. Not part
// of ctest: timings belong here, not in tests.

#include "../examples/example_images.hpp"
#include "../examples/fashion_common.hpp"
#include "../examples/small_resnet.hpp"

#include <nndl/data/idx.hpp>
#include <nndl/layers/embedding.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/training.hpp>
#if defined(NNDL_BENCH_ONNX)
#include <nndl/io/onnx.hpp>
#endif

#include <Eigen/Core>

#include <nndl/threads.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Row {
    std::string work;
    std::string library;
    std::string threads;
    double seconds = 0;
    double units = 0;        ///< iterations or examples
    std::string unit;
    double gflop = 0;        ///< useful arithmetic, in GFLOP
    std::string note;
};

/// Useful floating-point operations of one full-batch step of a dense network: the
/// products of forward (W A), backward (dZ A^T) and the input gradients (W^T dZ),
/// which the first layer skips.
double step_flops(const std::vector<nndl::Index>& sizes, double m) {
    double flops = 0;
    for (std::size_t l = 1; l < sizes.size(); ++l) {
        const double product = 2.0 * static_cast<double>(sizes[l]) * static_cast<double>(sizes[l - 1]) * m;
        flops += product * (l == 1 ? 2 : 3);
    }
    return flops;
}

template <class Scalar>
double gemm_gflops(nndl::Index n, int repeats) {
    const nndl::Matrix<Scalar> a = nndl::Matrix<Scalar>::Random(n, n);
    const nndl::Matrix<Scalar> b = nndl::Matrix<Scalar>::Random(n, n);
    nndl::Matrix<Scalar> c(n, n);
    // Through nndl's products, so on the threads nndl's layers use.
    const auto multiply = [&] { nndl::detail::product(nndl::detail::plain(a), nndl::detail::plain(b), c.data(), n); };
    multiply();  // warm-up
    const auto start = Clock::now();
    for (int r = 0; r < repeats; ++r) {
        multiply();
    }
    const double s = seconds_since(start);
    return 2.0 * std::pow(static_cast<double>(n), 3) * repeats / s / 1e9 + 0 * static_cast<double>(c(0, 0));
}

/// The first layer's two products of the cat model as Dense computes them in
/// training (Z1 = W1 X, dW1 = dZ1 X^T), timed alone.
template <class Scalar>
double first_layer_gflops(const nndl::Matrix<Scalar>& x, int repeats) {
    const nndl::Matrix<Scalar> w = nndl::Matrix<Scalar>::Random(20, x.rows());
    const nndl::Matrix<Scalar> dz = nndl::Matrix<Scalar>::Random(20, x.cols());
    nndl::Matrix<Scalar> z(20, x.cols());
    nndl::Matrix<Scalar> dw(20, x.rows());
    nndl::detail::multiply(w, x, z);
    const auto start = Clock::now();
    for (int r = 0; r < repeats; ++r) {
        nndl::detail::multiply(w, x, z);
        nndl::detail::multiply_transposed(dz, x, dw);
    }
    const double s = seconds_since(start);
    return 4.0 * 20 * static_cast<double>(x.rows()) * static_cast<double>(x.cols()) * repeats / s / 1e9;
}

template <class Scalar>
Row nndl_cat(const nndl::Matrix<Scalar>& x, const nndl::Matrix<Scalar>& y, long iterations, double& cost) {
    const std::vector<nndl::Index> sizes{12288, 20, 7, 5, 1};
    nndl::Network<Scalar> net(sizes, nndl::standard_activations(4, nndl::Activation::relu, nndl::Activation::sigmoid),
                              {nndl::Init::inv_sqrt_fan_in}, 1);
    nndl::GradientDescent<Scalar> gd(0.0075);
    const auto start = Clock::now();
    const auto history = net.fit(x, y, gd, iterations);
    Row row;
    row.seconds = seconds_since(start);
    cost = history.epochs.back().loss;
    row.units = static_cast<double>(iterations);
    row.unit = "it";
    row.gflop = step_flops(sizes, static_cast<double>(x.cols())) * static_cast<double>(iterations) / 1e9;
    return row;
}

/// One epoch of `net` on (x, y): Adam at `rate`, batches of 128; the row's seconds and
/// examples (the caller counts the flops).
Row nndl_epoch(nndl::Network<float>& net, const nndl::Matrix<float>& x, const nndl::Matrix<float>& y, double rate) {
    nndl::Adam<float> adam(rate);
    nndl::TrainOptions options;
    options.epochs = 1;
    options.batch_size = 128;
    const auto start = Clock::now();
    nndl::train(net, x, y, adam, options);
    Row row;
    row.seconds = seconds_since(start);
    row.units = static_cast<double>(x.cols());
    row.unit = "ex";
    return row;
}

Row nndl_fashion_epoch(const nndl::Matrix<float>& x, const nndl::Matrix<float>& y) {
    nndl::Network<float> net({784, 256, 128, 10}, {nndl::Activation::relu, nndl::Activation::relu, nndl::Activation::softmax},
                             {nndl::Init::he}, 0);
    Row row = nndl_epoch(net, x, y, 1e-3);
    row.gflop = step_flops({784, 256, 128, 10}, static_cast<double>(x.cols())) / 1e9;
    return row;
}

/// One epoch of fashion_cnn's network (float, batch 128, Adam 0.002).
Row nndl_fashion_cnn_epoch(const nndl::Matrix<float>& x, const nndl::Matrix<float>& y) {
    auto net = examples::fashion_cnn<float>(16, 32, 128, 0.3, 0);
    Row row = nndl_epoch(net, x, y, 2e-3);
    // Multiply-adds of the convolutions and dense layers, three products each (forward,
    // weight gradient, input gradient except the first convolution's).
    const double per_example = 2.0 * (3 * 784.0 * 9 * 16 + 3 * 196.0 * 9 * 16 * 32 + 3 * 1568.0 * 128 + 3 * 1280.0) -
                               2.0 * 784 * 9 * 16;
    row.gflop = per_example * static_cast<double>(x.cols()) / 1e9;
    return row;
}

/// One epoch of fashion_resnet's default network without its augmentation layer (float,
/// batch 128, Adam 0.002).
Row nndl_fashion_resnet_epoch(const nndl::Matrix<float>& x, const nndl::Matrix<float>& y) {
    auto net = examples::small_resnet<float>({32, 64, 128}, 1, 0, false, 0);
    Row row = nndl_epoch(net, x, y, 2e-3);
    // Three products per layer (forward, weight gradient, input gradient): about three
    // times the forward's operations, two flops per multiply-add.
    double forward = 0;
    for (std::size_t k = 0; k < net.depth(); ++k) {
        forward += static_cast<double>(net.layer(k).operations());
    }
    row.gflop = 2.0 * 3.0 * forward * static_cast<double>(x.cols()) / 1e9;
    return row;
}

/// The LSTM rows: one LSTM layer over batches of 64 sequences of 100 steps of 128 inputs,
/// 256 units, every step's state out; `iterations` forward and backward passes (the
/// parameter gradients and the gradient through the steps, not the input's).
constexpr nndl::Index lstm_batch = 64, lstm_steps = 100, lstm_features = 128, lstm_units = 256;

template <class Scalar>
Row nndl_lstm(long iterations) {
    nndl::LSTM<Scalar> lstm(nndl::Shape::sequence(lstm_steps, lstm_features), lstm_units, true);
    nndl::NumpyRandom random(3);
    const nndl::Matrix<Scalar> x = random.randn_sequence<Scalar>(lstm_features, lstm_batch, lstm_steps);
    const nndl::Matrix<Scalar> dy = random.randn_sequence<Scalar>(lstm_units, lstm_batch, lstm_steps);
    lstm.forward(x, nndl::Mode::training);  // warm-up: the working memory is allocated once
    lstm.backward(dy, false);
    const auto start = Clock::now();
    for (long i = 0; i < iterations; ++i) {
        lstm.forward(x, nndl::Mode::training);
        lstm.backward(dy, false);
    }
    Row row;
    row.seconds = seconds_since(start);
    row.units = static_cast<double>(iterations);
    row.unit = "it";
    // The gates' product at every step forward, its weight gradient and the gradient to the
    // previous state backward: 2 * 4 units * (3 (units + inputs) - inputs) per example and step.
    const double h = lstm_units, f = lstm_features;
    row.gflop = 2.0 * 4 * h * (3 * (h + f) - f) * lstm_batch * lstm_steps * static_cast<double>(iterations) / 1e9;
    return row;
}

/// One epoch of char_model's default training on `text` (at most `limit` pieces, 0: all):
/// pieces of 100 characters (the next character is each step's target), Embedding(32) ->
/// LSTM(256) -> a softmax over the characters at every step, the cross-entropy summed over
/// the steps, Adam 0.002 on shuffled batches of 32, the gradients clipped to a global norm
/// of 5, float32. No validation. benchmarks/reference_torch.py's char_epoch is the same.
Row nndl_char_epoch(const std::string& text, long limit) {
    constexpr nndl::Index steps = 100, embedding = 32, hidden = 256, batch = 32;
    std::vector<int> index(256, -1);  // byte -> character number, in byte order
    for (const char c : text) {
        index[static_cast<unsigned char>(c)] = 0;
    }
    nndl::Index characters = 0;
    for (int& i : index) {
        i = i < 0 ? -1 : static_cast<int>(characters++);
    }
    nndl::Index pieces = static_cast<nndl::Index>((text.size() - 1) / steps);
    if (limit > 0) {
        pieces = std::min<nndl::Index>(pieces, limit);
    }
    nndl::Matrix<float> x(steps, pieces);
    nndl::Matrix<float> y = nndl::Matrix<float>::Zero(steps * characters, pieces);
    for (nndl::Index j = 0; j < pieces; ++j) {
        for (nndl::Index t = 0; t < steps; ++t) {
            const auto at = static_cast<std::size_t>(j * steps + t);
            x(t, j) = static_cast<float>(index[static_cast<unsigned char>(text[at])]);
            y(t * characters + index[static_cast<unsigned char>(text[at + 1])], j) = 1.0f;
        }
    }
    nndl::Network<float> net(nndl::Shape::sequence(steps, 1));
    net.add(std::make_unique<nndl::Embedding<float>>(net.output_shape(), characters, embedding));
    net.add(std::make_unique<nndl::LSTM<float>>(net.output_shape(), hidden, true));
    net.add(std::make_unique<nndl::SequenceDense<float>>(net.output_shape(), characters, nndl::Activation::softmax));
    nndl::NumpyRandom random(1);
    for (const auto& p : net.parameters()) {  // small uniform weights (the timing does not depend on them)
        *p.value = (random.rand<float>(p.value->rows(), p.value->cols()).array() * 2.0f - 1.0f) / 16.0f;
    }
    net.set_gradient_clipping({0.0, 5.0});
    nndl::Adam<float> adam(0.002);
    nndl::TrainOptions options;
    options.epochs = 1;
    options.batch_size = batch;
    options.metric = nndl::TrainMetric::none;
    const auto start = Clock::now();
    const nndl::TrainHistory history = nndl::train(net, x, y, adam, options);
    Row row;
    row.seconds = seconds_since(start);
    row.units = static_cast<double>(pieces);
    row.unit = "pieces";
    row.note = "loss " + std::to_string(history.epochs.back().loss);
    // The LSTM's products (as in the LSTM rows) and the output layer's three products, per
    // example and step; the embedding has none.
    const double h = hidden, f = embedding, v = static_cast<double>(characters);
    row.gflop = (2.0 * 4 * h * (3 * (h + f) - f) + 2.0 * 3 * v * h) * static_cast<double>(steps * pieces) / 1e9;
    return row;
}

/// The inference rows' networks (float32, random weights): the MLP 784-256-128-10 and
/// fashion_cnn's CNN (without its dropout, which inference leaves out anyway).
nndl::Network<float> inference_mlp() {
    nndl::NumpyRandom random(5);
    nndl::Network<float> net(nndl::Shape(784));
    net.add_dense(256, nndl::Activation::relu, {nndl::Init::he}, random);
    net.add_dense(128, nndl::Activation::relu, {nndl::Init::he}, random);
    net.add_dense(10, nndl::Activation::softmax, {nndl::Init::xavier}, random);
    return net;
}
nndl::Network<float> inference_cnn() { return examples::fashion_cnn<float>(16, 32, 128, 0.0, 5); }
/// fashion_resnet's network (its augmentation layer passes images through at inference anyway).
nndl::Network<float> inference_resnet() { return examples::small_resnet<float>({32, 64, 128}, 1, 0, false, 5); }

/// The network of an inference row: "MLP", "CNN" or "ResNet".
nndl::Network<float> inference_network(const std::string& name) {
    return name == "MLP" ? inference_mlp() : name == "CNN" ? inference_cnn() : inference_resnet();
}

/// Multiply-adds of one image's inference, times 2 (the ResNet's from its layers' count).
double inference_flops(const std::string& name) {
    if (name == "MLP") {
        return 2.0 * (784.0 * 256 + 256.0 * 128 + 128.0 * 10);
    }
    if (name == "CNN") {
        return 2.0 * (784.0 * 9 * 16 + 196.0 * 9 * 16 * 32 + 1568.0 * 128 + 128.0 * 10);
    }
    const auto net = inference_resnet();
    double operations = 0;
    for (std::size_t k = 0; k < net.depth(); ++k) {
        operations += static_cast<double>(net.layer(k).operations());
    }
    return 2.0 * operations;
}

/// One convolution of the benchmark's CNN or ResNet, for the per-layer rates: a kernel of
/// `size` x `size` over `height` x `height` images of `channels`, `filters` out, padding "same".
struct ConvolutionShape {
    const char* model;
    nndl::Index size, channels, filters, stride, height;
    std::string name() const {
        return std::to_string(size) + "x" + std::to_string(size) + " " + std::to_string(channels) + "->" +
               std::to_string(filters) + (stride > 1 ? " stride " + std::to_string(stride) : "") + " at " +
               std::to_string(height) + "x" + std::to_string(height);
    }
};
const std::vector<ConvolutionShape> convolution_shapes = {
    {"CNN", 3, 1, 16, 1, 28},       {"CNN", 3, 16, 32, 1, 14},      {"ResNet", 3, 1, 32, 1, 28},
    {"ResNet", 3, 32, 32, 2, 28},   {"ResNet", 3, 32, 32, 1, 14},   {"ResNet", 1, 32, 32, 2, 28},
    {"ResNet", 3, 32, 64, 2, 14},   {"ResNet", 3, 64, 64, 1, 7},    {"ResNet", 1, 32, 64, 2, 14},
    {"ResNet", 3, 64, 128, 2, 7},   {"ResNet", 3, 128, 128, 1, 4},  {"ResNet", 1, 64, 128, 2, 7}};

/// GFLOP/s of one convolution on a batch of 256 random float images: at prediction (infer)
/// and in training (forward, then the weight and input gradients).
struct ConvolutionRate {
    double inference = 0, training = 0;
};
ConvolutionRate convolution_rate(const ConvolutionShape& c) {
    constexpr nndl::Index batch = 256;
    nndl::NumpyRandom random(11);
    nndl::Conv2D<float> conv(nndl::Shape::image(c.height, c.height, c.channels), c.filters, nndl::Window(c.size),
                             nndl::Stride(c.stride), nndl::Padding::same());
    conv.weights() = random.randn<float>(conv.weights().rows(), conv.weights().cols());
    const nndl::Matrix<float> x = random.rand<float>(conv.input_size(), batch);
    const nndl::Matrix<float> dy = random.rand<float>(conv.output_size(), batch);
    nndl::Matrix<float> y;
    const double flop = 2.0 * static_cast<double>(conv.operations()) * batch;  // operations: multiply-adds
    // Each way repeated for at least a fifth of a second after one warm-up call.
    const auto rate = [&](const auto& call, double flop_per_call) {
        call();
        long calls = 0;
        const auto start = Clock::now();
        do {
            call();
            ++calls;
        } while (seconds_since(start) < 0.2);
        return flop_per_call * static_cast<double>(calls) / seconds_since(start) / 1e9;
    };
    ConvolutionRate result;
    result.inference = rate([&] { conv.infer(x, y); }, flop);
    result.training = rate(
        [&] {
            conv.forward(x, nndl::Mode::training);
            conv.backward(dy, true);
        },
        3.0 * flop);
    return result;
}

/// The inference rows' work: the model and the batch.
struct InferenceWork {
    std::string name;  // "MLP", "CNN" or "ResNet"
    nndl::Index batch;
    std::string work() const { return name + " inference batch " + std::to_string(batch); }
    /// The model's file for ONNX Runtime, in `folder`.
    std::string onnx_path(const std::filesystem::path& folder) const { return (folder / (name + ".onnx")).string(); }
    /// Its input's dimensions after the batch, as the Node script takes them.
    std::string input_dims() const { return name == "MLP" ? "784" : "1 28 28"; }
    /// Images timed: `images` in batches of 256, a tenth of them one at a time.
    long count(long images) const {
        const long wanted = batch == 1 ? std::max(1L, images / 10) : images;
        return std::max(1L, wanted / batch) * batch;
    }
};
const std::vector<InferenceWork> inference_works = {{"MLP", 256},    {"MLP", 1},   {"CNN", 256},
                                                    {"CNN", 1},      {"ResNet", 256}, {"ResNet", 1}};

/// nndl's predict_proba on `count` random images in batches of `batch`, after a warm-up batch.
Row nndl_inference(const nndl::Network<float>& net, const std::string& name, nndl::Index batch, long count) {
    nndl::NumpyRandom random(7);
    const nndl::Matrix<float> x = random.rand<float>(net.input_size(), batch);
    double sink = net.predict_proba(x)(0, 0);
    const long runs = count / batch;
    const auto start = Clock::now();
    for (long r = 0; r < runs; ++r) {
        sink += net.predict_proba(x)(0, 0);
    }
    Row row;
    row.seconds = seconds_since(start);
    row.units = static_cast<double>(count);
    row.unit = "img";
    row.gflop = inference_flops(name) * static_cast<double>(count) / 1e9;
    row.note = sink > 0 ? "" : " ";  // keeps the results used
    return row;
}

/// Runs a reference script; returns its RESULT lines (name -> seconds) and INFO line.
std::map<std::string, double> run_reference(const std::string& command, std::string& info) {
    std::map<std::string, double> results;
    std::cerr << "running: " << command << '\n';
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return results;
    }
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
        std::string line(buffer);
        std::istringstream in(line);
        std::string tag, name;
        double seconds = 0;
        in >> tag >> name;
        if (tag == "RESULT" && (in >> seconds)) {
            results[name] = seconds;
        } else if (tag == "INFO") {
            info = line.substr(5);
            if (!info.empty() && info.back() == '\n') {
                info.pop_back();
            }
        }
        std::cerr << "  " << line;
    }
    const int status = ::pclose(pipe);
    if (status != 0) {
        std::cerr << "  (exit status " << status << ")\n";
    }
    return results;
}

/// `text` as one word for the shell, whatever it holds.
std::string shell_quoted(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) {
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return quoted + "'";
}

bool python_module_available(const std::string& python, const std::string& module) {
    return std::system((shell_quoted(python) + " -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0;
}

/// Another process that keeps one core busy while it lives (--load): what a user's
/// machine looks like with a build or a browser running beside the training.
class BusyProcess {
public:
    BusyProcess() {
        pid_ = ::fork();
        if (pid_ == 0) {
#if defined(__linux__)
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the benchmark
#endif
            volatile unsigned long spins = 0;
            for (;;) {
                spins = spins + 1;
            }
        }
        if (pid_ < 0) {
            throw std::runtime_error("nndl_benchmark: --load could not start a busy process");
        }
    }
    ~BusyProcess() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    BusyProcess(const BusyProcess&) = delete;
    BusyProcess& operator=(const BusyProcess&) = delete;

private:
    pid_t pid_ = -1;
};

/// --threads: "1,2,default" -> {1, 2, nndl's default}, each once, in the given order.
std::vector<int> parse_thread_list(const std::string& text) {
    if (text.empty() || text.front() == ',' || text.back() == ',' || text.find(",,") != std::string::npos) {
        throw examples::UsageError("--threads must be a comma-separated list of whole numbers or 'default', got '" +
                                   text + "'");
    }
    // Whole entries named "default" become the default count; the rest must be numbers.
    std::string numbers;
    std::size_t begin = 0;
    for (;;) {
        const std::size_t comma = text.find(',', begin);
        const std::string entry = text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
        numbers += (numbers.empty() && begin == 0 ? "" : ",") +
                   (entry == "default" ? std::to_string(nndl::default_threads()) : entry);
        if (comma == std::string::npos) {
            break;
        }
        begin = comma + 1;
    }
    std::vector<int> counts;
    for (const long count : examples::Options::parse_integer_list(numbers, "--threads", 1)) {
        if (count > nndl::max_threads) {
            throw examples::UsageError("--threads entry must be at most " + std::to_string(nndl::max_threads) +
                                       ", got " + std::to_string(count));
        }
        if (std::find(counts.begin(), counts.end(), static_cast<int>(count)) == counts.end()) {
            counts.push_back(static_cast<int>(count));
        }
    }
    return counts;
}

/// ONNX Runtime's inference rows: nndl's inference networks written with save_onnx into
/// `folder`, run by benchmarks/onnxruntime_inference.js at each thread count. Skipped, with
/// a line on stderr, without nndl::onnx, node or the npm package (tools/setup.sh installs it).
void run_onnxruntime(long images, const std::vector<int>& thread_counts, const std::filesystem::path& folder,
                     std::vector<std::string>* infos, std::vector<Row>& rows) {
    if (images <= 0) {
        return;
    }
#if defined(NNDL_BENCH_ONNX)
    const std::string package = examples::data_path("tools/onnxruntime/node_modules/onnxruntime-node/package.json");
    if (!std::filesystem::exists(package) || std::system("node --version >/dev/null 2>&1") != 0) {
        std::cerr << "ONNX Runtime is not installed (tools/setup.sh installs node and onnxruntime-node): its rows are "
                     "skipped\n";
        return;
    }
    std::filesystem::create_directories(folder);
    for (const auto& w : inference_works) {
        if (w.batch != 1) {  // one file per model
            auto net = inference_network(w.name);
            nndl::save_onnx(net, w.onnx_path(folder));
        }
    }
    if (infos != nullptr) {
        std::ifstream in(package);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto at = text.find("\"version\": \"");
        infos->push_back("ONNX Runtime: onnxruntime-node " +
                         (at == std::string::npos ? std::string("?") : text.substr(at + 12, text.find('"', at + 12) - at - 12)));
    }
    const std::string script = examples::data_path("benchmarks/onnxruntime_inference.js");
    for (const int t : thread_counts) {
        for (const auto& w : inference_works) {
            std::string info;
            const std::string command = "node " + shell_quoted(script) + " " + shell_quoted(w.onnx_path(folder)) + " " +
                                        std::to_string(w.batch) + " " + std::to_string(t) + " " +
                                        std::to_string(w.count(images)) + " " + w.input_dims();
            const auto results = run_reference(command, info);
            const auto found = results.find("onnxruntime");
            if (found != results.end()) {
                const double seconds = found->second;
                Row row;
                row.work = w.work();
                row.library = "ONNX Runtime";
                row.threads = std::to_string(t);
                row.seconds = seconds;
                row.units = static_cast<double>(w.count(images));
                row.unit = "img";
                row.gflop = inference_flops(w.name) * row.units / 1e9;
                rows.push_back(row);
            }
        }
    }
#else
    (void)thread_counts;
    (void)folder;
    (void)infos;
    (void)rows;
    std::cerr << "this benchmark was built without nndl::onnx: the ONNX Runtime rows are skipped\n";
#endif
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("nndl_benchmark", [&] {
        examples::Options options("nndl_benchmark",
                                  "Times nndl against NumPy and PyTorch on the same work and prints one table.");
        options.value("iterations", "N", "iterations of the cat model", "2500")
            .value("fashion", "DIR", "Fashion-MNIST IDX files", "/usr/share/datasets/fashion-mnist")
            .value("epoch-limit", "N", "examples in the Fashion-MNIST epochs (0: all 60000)", "0")
            .value("lstm-iterations", "N", "forward and backward passes of the LSTM rows (0: none)", "10")
            .value("text", "FILE", "the text of the char_model epoch row ('none': no such row)",
                   "/usr/share/games/fortunes/cookie")
            .value("text-limit", "N", "pieces of 100 characters in the char_model epoch (0: all)", "0")
            .value("inference-images", "N",
                   "images in each batch-256 inference row (batch 1 rows: a tenth of them; 0: no inference rows)",
                   "10000")
            .value("data", "DIR", "cat data", "data/catvnoncat")
            .value("rounds", "N", "times every measurement is repeated; the table keeps each one's best", "3")
            .value("threads", "LIST",
                   "thread counts every row runs at (nndl::set_threads; NumPy's and PyTorch's own settings), "
                   "'default' for nndl's default (all cores)",
                   "1,default")
            .value("python", "PATH", "the Python whose NumPy and PyTorch are measured", "/usr/bin/python3")
            .flag("load", "keep one core busy with another process while measuring (a loaded machine)")
            .flag("skip-cnn", "leave out the CNN and ResNet epochs (the longest rows)")
            .flag("skip-references", "do not run NumPy and PyTorch");
        options.parse(argc, argv);
        const long iterations = options.integer("iterations", 1);
        const long limit = options.integer("epoch-limit", 0);
        const long lstm_iterations = options.integer("lstm-iterations", 0);
        const long text_limit = options.integer("text-limit", 0);
        const long inference_images = options.integer("inference-images", 0);
        std::string text;
        const std::string text_path = options.text("text");
        if (text_path != "none") {
            std::ifstream in(text_path, std::ios::binary);
            if (!in) {
                throw examples::UsageError("--text: cannot read '" + examples::terminal_safe(text_path) +
                                           "' (tools/setup.sh installs fortunes; 'none' leaves the row out)");
            }
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            if (text.size() < 102 || text.size() > (std::size_t(1) << 26)) {
                throw examples::UsageError("--text: '" + examples::terminal_safe(text_path) + "' has " +
                                           std::to_string(text.size()) + " bytes, expected 102 to 2^26");
            }
        }
        const long rounds = options.integer("rounds", 1);
        const std::vector<int> thread_counts = parse_thread_list(options.text("threads"));
        // A path with a folder in it is made absolute (the scripts run from their folder);
        // a bare name is looked up on PATH.
        std::string python = options.text("python");
        if (python.find('/') != std::string::npos) {
            python = std::filesystem::absolute(python).string();
        }
        const std::string dir = options.has("data") ? options.text("data") : examples::data_path("data/catvnoncat");
        const std::string fashion_dir = options.text("fashion");
        const bool have_fashion = std::filesystem::exists(fashion_dir + "/train-images-idx3-ubyte.gz");
        const bool with_cnn = !options.has("skip-cnn");
        const int default_threads = nndl::default_threads();

        const auto cat64 = examples::load_cat_data<double>(dir);
        const nndl::Matrix<float> x32 = cat64.train.x.cast<float>();
        const nndl::Matrix<float> y32 = cat64.train.y.cast<float>();
        std::vector<Row> rows;  // every round's measurements
        // nndl never runs more threads than cores: say so where a count asks for more.
        const auto thread_label = [&](int count) {
            const int cores = nndl::available_cores();
            return std::to_string(count) + (count == default_threads ? " (default)" : "") +
                   (count > cores ? " (runs " + std::to_string(cores) + ")" : "");
        };

        double peak64 = 0, peak32 = 0, first64 = 0, first32 = 0;
        std::vector<ConvolutionRate> convolution_rates(convolution_shapes.size());
        std::vector<std::string> infos;
        nndl::IdxDataset<float> fashion;
        nndl::Matrix<float> fashion_targets;
        if (have_fashion) {
            fashion = nndl::load_idx_dataset<float>(fashion_dir + "/train-images-idx3-ubyte.gz",
                                                    fashion_dir + "/train-labels-idx1-ubyte.gz", limit);
            fashion_targets = nndl::one_hot(fashion.y, 10);
        }
        // The reference scripts read the cat data from a .npz written once.
        const bool references = !options.has("skip-references");
        if (references && std::system((shell_quoted(python) + " -c pass >/dev/null 2>&1").c_str()) != 0) {
            throw examples::UsageError("--python: cannot run '" + python + "'");
        }
        const auto temp = std::filesystem::temp_directory_path() / ("nndl_bench_" + std::to_string(::getpid()));
        const std::string cat_npz = (temp / "cat.npz").string();
        if (references) {
            std::filesystem::create_directories(temp);
            nndl::write_npz(cat_npz, {{"X", nndl::to_npy(cat64.train.x)}, {"Y", nndl::to_npy(cat64.train.y)}});
        }
        std::optional<BusyProcess> load;
        if (options.has("load")) {
            std::cerr << "--load: one busy process runs beside every measurement\n";
            load.emplace();
        }
        const auto stats_before = nndl::detail::ThreadPool::instance().statistics();
        for (long round = 1; round <= rounds; ++round) {
            std::cerr << "round " << round << " of " << rounds << '\n';
            std::cerr << "measuring the GEMM rate (nndl's products, default threads)...\n";
            nndl::set_threads(default_threads);
            peak64 = std::max(peak64, gemm_gflops<double>(2048, 5));
            peak32 = std::max(peak32, gemm_gflops<float>(2048, 10));
            first64 = std::max(first64, first_layer_gflops<double>(cat64.train.x, 50));
            first32 = std::max(first32, first_layer_gflops<float>(x32, 50));
            if (with_cnn) {
                std::cerr << "measuring each convolution (float32, default threads)...\n";
                for (std::size_t k = 0; k < convolution_shapes.size(); ++k) {
                    const ConvolutionRate r = convolution_rate(convolution_shapes[k]);
                    convolution_rates[k].inference = std::max(convolution_rates[k].inference, r.inference);
                    convolution_rates[k].training = std::max(convolution_rates[k].training, r.training);
                }
            }

            for (const int threads : thread_counts) {
                nndl::set_threads(threads);
                const std::string label = thread_label(threads);
                double cost = 0;
                std::cerr << "nndl, " << threads << " threads: cat model, float64...\n";
                Row r = nndl_cat(cat64.train.x, cat64.train.y, iterations, cost);
                r.work = "cat L-layer float64";
                r.library = "nndl";
                r.threads = label;
                r.note = "cost " + std::to_string(cost);
                rows.push_back(r);
                std::cerr << "nndl, " << threads << " threads: cat model, float32...\n";
                r = nndl_cat(x32, y32, iterations, cost);
                r.work = "cat L-layer float32";
                r.library = "nndl";
                r.threads = label;
                r.note = "cost " + std::to_string(cost);
                rows.push_back(r);
                if (lstm_iterations > 0) {
                    std::cerr << "nndl, " << threads << " threads: LSTM layer, float32 and float64...\n";
                    for (const bool single : {true, false}) {
                        r = single ? nndl_lstm<float>(lstm_iterations) : nndl_lstm<double>(lstm_iterations);
                        r.work = single ? "LSTM layer float32" : "LSTM layer float64";
                        r.library = "nndl";
                        r.threads = label;
                        rows.push_back(r);
                    }
                }
                if (inference_images > 0) {
                    std::cerr << "nndl, " << threads << " threads: inference, MLP, CNN and ResNet, batches of 256 and 1...\n";
                    std::map<std::string, nndl::Network<float>> networks;
                    for (const auto& w : inference_works) {
                        if (networks.count(w.name) == 0) {
                            networks.emplace(w.name, inference_network(w.name));
                        }
                        r = nndl_inference(networks.at(w.name), w.name, w.batch, w.count(inference_images));
                        r.work = w.work();
                        r.library = "nndl";
                        r.threads = label;
                        rows.push_back(r);
                    }
                }
                if (!text.empty()) {
                    std::cerr << "nndl, " << threads << " threads: char_model epoch, float32...\n";
                    r = nndl_char_epoch(text, text_limit);
                    r.work = "char_model epoch float32";
                    r.library = "nndl";
                    r.threads = label;
                    rows.push_back(r);
                }
                if (have_fashion) {
                    std::cerr << "nndl, " << threads << " threads: Fashion-MNIST epoch, float32...\n";
                    r = nndl_fashion_epoch(fashion.x, fashion_targets);
                    r.work = "fashion epoch float32";
                    r.library = "nndl";
                    r.threads = label;
                    rows.push_back(r);
                    if (with_cnn) {
                        std::cerr << "nndl, " << threads << " threads: Fashion-MNIST CNN epoch, float32...\n";
                        r = nndl_fashion_cnn_epoch(fashion.x, fashion_targets);
                        r.work = "fashion CNN epoch float32";
                        r.library = "nndl";
                        r.threads = label;
                        rows.push_back(r);
                        std::cerr << "nndl, " << threads << " threads: Fashion-MNIST ResNet epoch, float32...\n";
                        r = nndl_fashion_resnet_epoch(fashion.x, fashion_targets);
                        r.work = "fashion ResNet epoch float32";
                        r.library = "nndl";
                        r.threads = label;
                        rows.push_back(r);
                    }
                }
            }
            nndl::set_threads(default_threads);

            if (references) {
                const std::string script_dir = examples::data_path("benchmarks");
                const std::string common = " --cat " + shell_quoted(cat_npz) + " --iterations " + std::to_string(iterations) +
                                           (have_fashion ? " --fashion " + shell_quoted(fashion_dir) + " --epoch-limit " + std::to_string(limit) : "") +
                                           (with_cnn ? "" : " --skip-cnn") +
                                           " --lstm-iterations " + std::to_string(lstm_iterations) +
                                           (text.empty() ? "" : " --text " + shell_quoted(text_path) + " --text-limit " +
                                                                    std::to_string(text_limit)) +
                                           " --inference-images " + std::to_string(inference_images);
                const std::map<std::string, std::string> work_names = {{"cat_float64", "cat L-layer float64"},
                                                                       {"cat_float32", "cat L-layer float32"},
                                                                       {"fashion_epoch_float32", "fashion epoch float32"},
                                                                       {"fashion_cnn_epoch_float32", "fashion CNN epoch float32"},
                                                                       {"fashion_resnet_epoch_float32", "fashion ResNet epoch float32"},
                                                                       {"lstm_float32", "LSTM layer float32"},
                                                                       {"lstm_float64", "LSTM layer float64"},
                                                                       {"char_epoch_float32", "char_model epoch float32"},
                                                                       {"inference_mlp_256", "MLP inference batch 256"},
                                                                       {"inference_mlp_1", "MLP inference batch 1"},
                                                                       {"inference_cnn_256", "CNN inference batch 256"},
                                                                       {"inference_cnn_1", "CNN inference batch 1"},
                                                                       {"inference_resnet_256", "ResNet inference batch 256"},
                                                                       {"inference_resnet_1", "ResNet inference batch 1"}};
                const auto add_rows = [&](const std::string& library, const std::string& thread_note,
                                          const std::map<std::string, double>& results) {
                    for (const auto& [name, seconds] : results) {
                        const auto it = work_names.find(name);
                        if (it == work_names.end()) {
                            continue;
                        }
                        Row ref;
                        ref.work = it->second;
                        ref.library = library;
                        ref.threads = thread_note;
                        ref.seconds = seconds;
                        for (const auto& mine : rows) {
                            if (mine.library == "nndl" && mine.work == ref.work) {
                                ref.units = mine.units;
                                ref.unit = mine.unit;
                                ref.gflop = mine.gflop;
                            }
                        }
                        rows.push_back(ref);
                    }
                };
                if (python_module_available(python, "numpy")) {
                    // As users run NumPy: without the OpenBLAS overrides this machine sets.
                    for (const int t : thread_counts) {
                        std::string info;
                        auto results = run_reference("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=" +
                                                         std::to_string(t) + " " + shell_quoted(python) + " " +
                                                         shell_quoted(script_dir + "/reference_numpy.py") + common,
                                                     info);
                        if (round == 1 && t == thread_counts.front()) {
                            infos.push_back("NumPy: " + info);
                        }
                        add_rows("NumPy", std::to_string(t), results);
                    }
                } else {
                    std::cerr << python << " has no NumPy (apt-get install python3-numpy): its rows are skipped\n";
                }
                if (python_module_available(python, "torch")) {
                    for (const int t : thread_counts) {
                        std::string info;
                        auto results = run_reference("cd " + shell_quoted(script_dir) + " && " + shell_quoted(python) +
                                                         " reference_torch.py --threads " + std::to_string(t) + common,
                                                     info);
                        if (round == 1 && t == thread_counts.front()) {
                            infos.push_back("PyTorch: " + info);
                        }
                        add_rows("PyTorch", std::to_string(t), results);
                    }
                } else {
                    std::cerr << python << " has no PyTorch (apt-get install python3-torch, or tools/setup.sh --bench): "
                                 "its rows are skipped\n";
                }
                run_onnxruntime(inference_images, thread_counts, temp, round == 1 ? &infos : nullptr, rows);
            }
        }
        load.reset();
        if (references) {
            std::filesystem::remove_all(temp);
        }
        const auto stats = nndl::detail::ThreadPool::instance().statistics();

        // Keep each library's best round and thread count per work, and each thread
        // count's best round for the sweep.
        std::map<std::pair<std::string, std::string>, Row> best;
        std::map<std::tuple<std::string, std::string, std::string>, double> sweep;
        for (const auto& row : rows) {
            const auto key = std::make_pair(row.work, row.library);
            if (best.count(key) == 0 || row.seconds < best[key].seconds) {
                best[key] = row;
            }
            const auto sweep_key = std::make_tuple(row.work, row.library, row.threads);
            if (sweep.count(sweep_key) == 0 || row.seconds < sweep[sweep_key]) {
                sweep[sweep_key] = row.seconds;
            }
        }
        std::cout << "\nnndl " << nndl::version_string << " benchmark, " << iterations << " cat iterations"
                  << ", best of " << rounds << (rounds == 1 ? " round" : " rounds")
                  << (limit ? ", Fashion-MNIST epochs of " + std::to_string(limit) + " examples" : "")
                  << (options.has("load") ? ", one core kept busy by another process (--load)" : ", no load") << '\n';
        std::cout << "nndl's kernels: " << nndl::detail::to_string(nndl::detail::kernel_isa()) << "; " << default_threads
                  << " threads by default of " << nndl::available_cores() << " cores; pool: "
                  << stats.parallel - stats_before.parallel << " pieces shared, "
                  << stats.serial - stats_before.serial << " run alone after "
                  << stats.stragglers - stats_before.stragglers << " held-up workers\n";
        std::cout << "GEMM 2048x2048 (nndl's products on Eigen's kernel, " << default_threads
                  << " threads): " << std::fixed << std::setprecision(1) << peak64 << " GFLOP/s float64, " << peak32
                  << " GFLOP/s float32\n";
        std::cout << "cat first layer products (Z1 = W1 X, dW1 = dZ1 X^T, " << default_threads
                  << " threads): " << first64 << " GFLOP/s float64 (" << std::setprecision(0) << 100 * first64 / peak64
                  << "% of GEMM), " << std::setprecision(1) << first32 << " GFLOP/s float32 (" << std::setprecision(0)
                  << 100 * first32 / peak32 << "% of GEMM)\n";
        if (with_cnn) {
            std::cout << "\nEach convolution of the CNN and the ResNet alone, float32, batch 256, " << default_threads
                      << " threads, padding same, no activation (GFLOP/s, best of " << rounds
                      << "; training: forward, weight and input gradients)\n\n"
                      << "| model | convolution | inference GFLOP/s | % of float GEMM | training GFLOP/s | % of float GEMM |\n"
                      << "|---|---|---|---|---|---|\n";
            for (std::size_t k = 0; k < convolution_shapes.size(); ++k) {
                const ConvolutionRate& r = convolution_rates[k];
                std::cout << "| " << convolution_shapes[k].model << " | " << convolution_shapes[k].name() << " | "
                          << std::setprecision(1) << r.inference << " | " << std::setprecision(0)
                          << 100 * r.inference / peak32 << "% | " << std::setprecision(1) << r.training << " | "
                          << std::setprecision(0) << 100 * r.training / peak32 << "% |\n";
            }
            std::cout << '\n';
        }
        for (const auto& info : infos) {
            std::cout << info << '\n';
        }
        std::cout << "\n| work | library | threads | seconds | per second | GFLOP/s | vs NumPy | vs PyTorch |\n"
                  << "|---|---|---|---|---|---|---|---|\n";
        const std::vector<std::string> works = {"cat L-layer float64", "cat L-layer float32", "fashion epoch float32",
                                                "fashion CNN epoch float32", "fashion ResNet epoch float32", "LSTM layer float32",
                                                "LSTM layer float64", "char_model epoch float32"};
        for (const auto& work : works) {
            for (const std::string library : {"nndl", "NumPy", "PyTorch"}) {
                const auto it = best.find({work, library});
                if (it == best.end()) {
                    continue;
                }
                const Row& row = it->second;
                const auto ratio = [&](const std::string& other_library, const std::string& other_work) -> std::string {
                    const auto other = best.find({other_work, other_library});
                    if (other == best.end() || library == other_library) {
                        return "-";
                    }
                    std::ostringstream out;
                    out << std::fixed << std::setprecision(2) << other->second.seconds / row.seconds << "x";
                    return out.str();
                };
                // NumPy has no float32 cat row: compare float32 with NumPy float64, as the targets do.
                const std::string numpy_work = work == "cat L-layer float32" ? "cat L-layer float64" : work;
                std::cout << "| " << work << " | " << library << " | " << row.threads << " | " << std::setprecision(2)
                          << row.seconds << " | " << std::setprecision(0) << row.units / row.seconds << " " << row.unit
                          << "/s | " << std::setprecision(1) << row.gflop / row.seconds << " | "
                          << ratio("NumPy", numpy_work) << " | " << ratio("PyTorch", work) << " |\n";
            }
        }
        std::cout << "\nvs X: how many times faster than X on the same work (X's seconds / this row's seconds); "
                     "cat float32 rows are compared with NumPy float64.\n";
        if (inference_images > 0) {
            std::cout << "\nInference, float32 (images per second, best of " << rounds
                      << "; nndl's predict_proba, ONNX Runtime on nndl's save_onnx file, PyTorch eval under no_grad)\n\n"
                      << "| model | batch | threads | nndl | ONNX Runtime | PyTorch | nndl vs ONNX Runtime | nndl vs PyTorch |\n"
                      << "|---|---|---|---|---|---|---|---|\n";
            for (const auto& w : inference_works) {
                for (const int t : thread_counts) {
                    const auto seconds = [&](const std::string& library) -> double {
                        const auto it = sweep.find({w.work(), library, library == "nndl" ? thread_label(t) : std::to_string(t)});
                        return it == sweep.end() ? 0.0 : it->second;
                    };
                    const double count = static_cast<double>(w.count(inference_images));
                    const double mine = seconds("nndl"), ort = seconds("ONNX Runtime"), torch = seconds("PyTorch");
                    const auto rate = [&](double s) {
                        return s > 0 ? std::to_string(static_cast<long long>(count / s)) : std::string("-");
                    };
                    const auto versus = [&](double s) {
                        if (s <= 0 || mine <= 0) {
                            return std::string("-");
                        }
                        std::ostringstream out;
                        out << std::fixed << std::setprecision(2) << s / mine << "x";
                        return out.str();
                    };
                    std::cout << "| " << w.name << " | " << w.batch << " | " << thread_label(t) << " | " << rate(mine)
                              << " | " << rate(ort) << " | " << rate(torch) << " | " << versus(ort) << " | "
                              << versus(torch) << " |\n";
                }
            }
        }
        if (thread_counts.size() > 1) {
            std::cout << "\nThread sweep (seconds, best of " << rounds << "; the last column: nndl's default against "
                      << "its one-thread time, where both ran)\n\n| work | library |";
            for (const int t : thread_counts) {
                std::cout << ' ' << t << (t == default_threads ? " (default)" : "") << " |";
            }
            std::cout << " default / 1 |\n|---|---|";
            for (std::size_t i = 0; i <= thread_counts.size(); ++i) {
                std::cout << "---|";
            }
            std::cout << '\n';
            for (const auto& work : works) {
                for (const std::string library : {"nndl", "NumPy", "PyTorch"}) {
                    const auto label_for = [&](int t) { return library == "nndl" ? thread_label(t) : std::to_string(t); };
                    if (sweep.count({work, library, label_for(thread_counts.front())}) == 0) {
                        continue;
                    }
                    std::cout << "| " << work << " | " << library << " |";
                    for (const int t : thread_counts) {
                        const auto it = sweep.find({work, library, label_for(t)});
                        std::cout << ' ' << std::setprecision(2)
                                  << (it == sweep.end() ? std::string("-") : std::to_string(it->second).substr(0, 5))
                                  << " |";
                    }
                    const auto one = sweep.find({work, library, label_for(1)});
                    const auto all = sweep.find({work, library, label_for(default_threads)});
                    if (one != sweep.end() && all != sweep.end()) {
                        std::ostringstream ratio;
                        ratio << std::fixed << std::setprecision(2) << all->second / one->second << "x";
                        std::cout << ' ' << ratio.str() << " |\n";
                    } else {
                        std::cout << " - |\n";
                    }
                }
            }
        }
        return 0;
    });
}
