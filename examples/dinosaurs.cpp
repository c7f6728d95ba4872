// Dinosaur Island (course 5, week 1): a character-level language model that learns to
// invent dinosaur names, with nndl's SimpleRNN and SequenceDense layers.
//
// Each name is a sequence of one-hot characters: the input at step t is character t - 1
// (zeros at the first step), the target is character t, and '\n' ends the name. The
// network is a tanh RNN of 50 units with a softmax over the characters at every step; the
// loss is the cross-entropy summed over the steps (SequenceCrossEntropy). Training runs one
// name at a time (Network::set_steps gives the network each name's length), carries the
// hidden state from one name to the next, clips every gradient to [-5, 5] and takes a
// gradient-descent step: the course's optimize(), with its numbers.
//
// First it runs the assignment's tests of clip, sample and optimize, as the notebook
// prints them; then it trains and, every --print-every iterations, prints the smoothed
// loss and samples names.
#include "example_support.hpp"

#include <nndl/io/model.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/layers/simple_rnn.hpp>
#include <nndl/network.hpp>
#include <nndl/optim/clipping.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;

/// The characters of a text, sorted by byte value ('\n' first): index <-> character.
struct Vocabulary {
    std::vector<char> characters;
    std::array<int, 256> index{};

    explicit Vocabulary(const std::string& text) {
        std::array<bool, 256> seen{};
        seen['\n'] = true;  // every name ends with it
        for (const char c : text) {
            seen[static_cast<unsigned char>(c)] = true;
        }
        index.fill(-1);
        for (int b = 0; b < 256; ++b) {
            if (seen[static_cast<std::size_t>(b)]) {
                index[static_cast<std::size_t>(b)] = static_cast<int>(characters.size());
                characters.push_back(static_cast<char>(b));
            }
        }
    }
    Index size() const { return static_cast<Index>(characters.size()); }
    int of(char c) const { return index[static_cast<unsigned char>(c)]; }
    int newline() const { return of('\n'); }
};

/// The names of a text: its lines, lower-cased, with surrounding white space removed
/// (Python's str.lower().strip()). Lines longer than `longest` are refused.
std::vector<std::string> names_of(const std::string& text, const std::string& file, std::size_t longest) {
    std::vector<std::string> names;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
        const auto begin = std::find_if_not(line.begin(), line.end(), space);
        const auto end = std::find_if_not(line.rbegin(), std::make_reverse_iterator(begin), space).base();
        std::string name(begin, end);
        if (name.size() > longest) {
            throw nndl::FileError(file + ": line " + std::to_string(names.size() + 1) + " has " +
                                  std::to_string(name.size()) + " characters, expected at most " +
                                  std::to_string(longest) + " (one name a line)");
        }
        names.push_back(std::move(name));
    }
    if (names.empty()) {
        throw nndl::FileError(file + ": no lines, expected one name a line");
    }
    return names;
}

/// The whole file as Python reads text: "\r\n" and "\r" end lines as "\n" does; then
/// lower-cased (ASCII letters only, as str.lower() leaves the other bytes of a byte string).
std::string read_lowercase(const std::string& file, const std::string& name) {
    constexpr std::uintmax_t largest = 64u << 20;
    std::error_code error;
    const std::uintmax_t size = std::filesystem::file_size(file, error);
    if (!error && size > largest) {
        throw nndl::FileError(name + ": " + std::to_string(size) + " bytes, expected at most " +
                              std::to_string(largest) + " (one name a line)");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream raw;
    raw << in.rdbuf();
    if (!in && !in.eof()) {
        throw nndl::FileError(name + ": cannot be read");
    }
    const std::string bytes = raw.str();
    std::string text;
    text.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == '\r') {
            text += '\n';
            if (i + 1 < bytes.size() && bytes[i + 1] == '\n') {
                ++i;
            }
        } else {
            text += static_cast<char>(std::tolower(static_cast<unsigned char>(bytes[i])));
        }
    }
    return text;
}

/// The network: a SimpleRNN of `hidden` units, then a softmax over the characters at every step.
nndl::Network<double> character_model(Index characters, Index hidden) {
    nndl::Network<double> net(Shape::sequence(1, characters));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), hidden, true));
    net.add(std::make_unique<nndl::SequenceDense<double>>(net.output_shape(), characters, nndl::Activation::softmax));
    return net;
}

/// The course's parameter names for the network's matrices.
struct Parameters {
    Matrix<double>& wax;
    Matrix<double>& waa;
    Matrix<double>& b;
    Matrix<double>& wya;
    Matrix<double>& by;
    Matrix<double>& dwax;
    Matrix<double>& dwaa;
    Matrix<double>& db;
    Matrix<double>& dwya;
    Matrix<double>& dby;
};
Parameters parameters_of(nndl::Network<double>& net) {
    const auto p = net.parameters();  // SimpleRNN: Wax, Waa, ba; SequenceDense: W, b
    return {*p[0].value, *p[1].value, *p[2].value, *p[3].value, *p[4].value,
            *p[0].gradient, *p[1].gradient, *p[2].gradient, *p[3].gradient, *p[4].gradient};
}

nndl::SimpleRNN<double>& rnn_of(nndl::Network<double>& net) {
    auto* rnn = dynamic_cast<nndl::SimpleRNN<double>*>(&net.layer(0));
    auto* dense = net.depth() == 2 ? dynamic_cast<nndl::SequenceDense<double>*>(&net.layer(1)) : nullptr;
    if (rnn == nullptr || dense == nullptr || dense->activation() != nndl::Activation::softmax) {
        throw nndl::InvalidArgument("the model is not a simple_rnn followed by a softmax sequence_dense");
    }
    return *rnn;
}

/// Input and target sequences of one name: X = [zeros] + the name's characters,
/// Y = the name's characters + ['\n'], one-hot at each step.
void encode(const std::string& name, const Vocabulary& vocabulary, Matrix<double>& x, Matrix<double>& y) {
    const Index steps = static_cast<Index>(name.size()) + 1;
    const Index v = vocabulary.size();
    x = Matrix<double>::Zero(steps * v, 1);
    y = Matrix<double>::Zero(steps * v, 1);
    for (Index t = 0; t < steps; ++t) {
        const int target = t + 1 < steps ? vocabulary.of(name[static_cast<std::size_t>(t)]) : vocabulary.newline();
        y(t * v + target, 0) = 1.0;
        if (t + 1 < steps) {
            x((t + 1) * v + target, 0) = 1.0;
        }
    }
}

/// The course's sample(): one name from zeros, a character at a time; before each draw the
/// stream is seeded with seed + 2k for the k-th character; at most 50 characters, then '\n'.
std::vector<int> sample(nndl::Network<double>& net, const Vocabulary& vocabulary, std::uint32_t seed) {
    auto rnn = rnn_of(net).clone();  // starts from zeros, leaves the training state alone
    auto& state = dynamic_cast<nndl::SimpleRNN<double>&>(*rnn);
    state.reset_state();
    auto output = net.layer(1).clone();
    dynamic_cast<nndl::SequenceDense<double>&>(*output).set_steps(1);
    const Index v = vocabulary.size();
    Matrix<double> x = Matrix<double>::Zero(v, 1);
    Matrix<double> y;
    std::vector<int> indices;
    int index = -1;
    for (std::uint32_t counter = 0; index != vocabulary.newline() && counter != 50; ++counter, ++seed) {
        output->infer(state.step(x), y);
        nndl::NumpyRandom random(counter + seed);
        index = static_cast<int>(random.choice(y));
        indices.push_back(index);
        x.setZero();
        x(index, 0) = 1.0;
    }
    if (indices.size() == 50 && index != vocabulary.newline()) {
        indices.push_back(vocabulary.newline());
    }
    return indices;
}

/// A sampled name as the course prints it: without '\n', the first letter upper-cased.
std::string name_of(const std::vector<int>& indices, const Vocabulary& vocabulary) {
    std::string name;
    for (const int i : indices) {
        const char c = vocabulary.characters[static_cast<std::size_t>(i)];
        if (c != '\n') {
            name += c;
        }
    }
    if (!name.empty()) {
        name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    }
    return examples::terminal_safe(name);
}

void print_names(nndl::Network<double>& net, const Vocabulary& vocabulary, long names) {
    for (long seed = 0; seed < names; ++seed) {
        std::cout << name_of(sample(net, vocabulary, static_cast<std::uint32_t>(seed)), vocabulary) << '\n';
    }
}

/// A one-entry array as NumPy prints it ("[8.45833407]").
std::string one_entry(double value) { return "[" + examples::numpy_array_value(value) + "]"; }

// ---- the assignment's tests -----------------------------------------------------------

/// clip(): seed(3), gradients randn * 10, each entry cut to [-limit, limit].
void clip_test(double limit) {
    std::cout << "Gradients for mValue=" << limit << '\n';
    nndl::Network<double> small(Shape::sequence(1, 3));  // Wax 5 x 3, Waa 5 x 5, Wya 2 x 5
    small.add(std::make_unique<nndl::SimpleRNN<double>>(small.output_shape(), 5, true));
    small.add(std::make_unique<nndl::SequenceDense<double>>(small.output_shape(), 2, nndl::Activation::softmax));
    Parameters p = parameters_of(small);
    nndl::NumpyRandom random(3);
    p.dwax = random.randn(5, 3) * 10.0;
    p.dwaa = random.randn(5, 5) * 10.0;
    p.dwya = random.randn(2, 5) * 10.0;
    p.db = random.randn(5, 1) * 10.0;
    p.dby = random.randn(2, 1) * 10.0;
    nndl::clip_gradients_by_value(small.parameters(), limit);
    std::cout << "gradients[\"dWaa\"][1][2] = " << examples::python_float(p.dwaa(1, 2)) << '\n'
              << "gradients[\"dWax\"][3][1] = " << examples::python_float(p.dwax(3, 1)) << '\n'
              << "gradients[\"dWya\"][1][2] = " << examples::python_float(p.dwya(1, 2)) << '\n'
              << "gradients[\"db\"][4] = " << one_entry(p.db(4, 0)) << '\n'
              << "gradients[\"dby\"][1] = " << one_entry(p.dby(1, 0)) << '\n';
}

/// sample(): seed(24), 100 units, unscaled randn parameters, one name from seed 0.
void sample_test(const Vocabulary& vocabulary) {
    std::cout << "Sampling:\n";
    nndl::Network<double> net = character_model(vocabulary.size(), 100);
    Parameters p = parameters_of(net);
    nndl::NumpyRandom random(24);
    p.wax = random.randn(100, vocabulary.size());
    p.waa = random.randn(100, 100);
    p.wya = random.randn(vocabulary.size(), 100);
    p.b = random.randn(100, 1);
    p.by = random.randn(vocabulary.size(), 1);
    const std::vector<int> indices = sample(net, vocabulary, 0);
    std::cout << "list of sampled indices:\n [";
    for (std::size_t i = 0; i < indices.size(); ++i) {
        std::cout << (i > 0 ? ", " : "") << indices[i];
    }
    std::cout << "]\nlist of sampled characters:\n [";
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const char c = vocabulary.characters[static_cast<std::size_t>(indices[i])];
        std::cout << (i > 0 ? ", " : "") << "'" << (c == '\n' ? std::string("\\n") : examples::terminal_safe(std::string(1, c)))
                  << "'";
    }
    std::cout << "]\n";
}

/// optimize(): seed(1), 100 units, a_prev then every parameter randn; one step of
/// forward, backward through time, clipping to 5 and gradient descent at rate 0.01.
void optimize_test(const Vocabulary& vocabulary) {
    const Index v = vocabulary.size();
    nndl::Network<double> net = character_model(v, 100);
    Parameters p = parameters_of(net);
    nndl::NumpyRandom random(1);
    const Matrix<double> a_prev = random.randn(100, 1);
    p.wax = random.randn(100, v);
    p.waa = random.randn(100, 100);
    p.wya = random.randn(v, 100);
    p.b = random.randn(100, 1);
    p.by = random.randn(v, 1);
    const std::vector<int> inputs = {12, 3, 5, 11, 22, 3}, targets = {4, 14, 11, 22, 25, 26};
    const Index steps = static_cast<Index>(inputs.size());
    net.set_steps(steps);
    Matrix<double> x = Matrix<double>::Zero(steps * v, 1), y = Matrix<double>::Zero(steps * v, 1);
    for (Index t = 0; t < steps; ++t) {
        x(t * v + inputs[static_cast<std::size_t>(t)], 0) = 1.0;
        y(t * v + targets[static_cast<std::size_t>(t)], 0) = 1.0;
    }
    nndl::SimpleRNN<double>& rnn = rnn_of(net);
    rnn.set_initial_state(a_prev);
    net.set_gradient_clipping({5.0, 0.0});
    nndl::GradientDescent<double> sgd(0.01);
    const double loss = net.train_step(x, y, sgd);
    // np.argmax flattens row-major: row r, column c is r * columns + c.
    Index best = 0;
    for (Index r = 0; r < p.dwax.rows(); ++r) {
        for (Index c = 0; c < p.dwax.cols(); ++c) {
            if (p.dwax(r, c) > p.dwax(best / v, best % v)) {
                best = r * v + c;
            }
        }
    }
    std::cout << "Loss = " << examples::python_float(loss) << '\n'
              << "gradients[\"dWaa\"][1][2] = " << examples::python_float(p.dwaa(1, 2)) << '\n'
              << "np.argmax(gradients[\"dWax\"]) = " << best << '\n'
              << "gradients[\"dWya\"][1][2] = " << examples::python_float(p.dwya(1, 2)) << '\n'
              << "gradients[\"db\"][4] = " << one_entry(p.db(4, 0)) << '\n'
              << "gradients[\"dby\"][1] = " << one_entry(p.dby(1, 0)) << '\n'
              << "a_last[4] = " << one_entry(rnn.final_state()(4, 0)) << '\n';
}

// ---- the model ------------------------------------------------------------------------

struct Settings {
    long iterations = 35000;
    long print_every = 2000;
    long hidden = 50;
    double learning_rate = 0.01;
    std::uint32_t seed = 1;
    long names = 7;
};

/// The course's model(): parameters from seed(1) (Wax, Waa, Wya randn * 0.01, biases zero),
/// the names shuffled once with seed(0), one name per iteration, the state carried across.
nndl::Network<double> train(const std::vector<std::string>& names, const Vocabulary& vocabulary, const Settings& s) {
    const Index v = vocabulary.size();
    nndl::Network<double> net = character_model(v, s.hidden);
    Parameters p = parameters_of(net);
    nndl::NumpyRandom init(s.seed);
    p.wax = init.randn(s.hidden, v) * 0.01;
    p.waa = init.randn(s.hidden, s.hidden) * 0.01;
    p.wya = init.randn(v, s.hidden) * 0.01;
    std::vector<std::string> examples;
    for (const Index i : nndl::NumpyRandom(0).permutation(static_cast<Index>(names.size()))) {
        examples.push_back(names[static_cast<std::size_t>(i)]);  // np.random.shuffle's order
    }
    rnn_of(net).set_carry(true);
    net.set_gradient_clipping({5.0, 0.0});
    nndl::GradientDescent<double> sgd(s.learning_rate);
    // The smoothed loss starts at what guessing uniformly costs for a name of `names` characters.
    double loss = -std::log(1.0 / static_cast<double>(v)) * static_cast<double>(s.names);
    Matrix<double> x, y;
    examples::Progress progress("training");
    for (long j = 0; j < s.iterations; ++j) {
        const std::string& name = examples[static_cast<std::size_t>(j) % examples.size()];
        encode(name, vocabulary, x, y);
        net.set_steps(static_cast<Index>(name.size()) + 1);
        const double current = net.train_step(x, y, sgd);
        if (!std::isfinite(current)) {
            throw nndl::DivergenceError("training diverged at iteration " + std::to_string(j) + " (the loss is " +
                                        std::to_string(current) + "); try a lower --learning-rate");
        }
        loss = loss * 0.999 + current * 0.001;
        if (j % s.print_every == 0) {
            std::printf("Iteration: %ld, Loss: %f\n\n", j, loss);
            std::fflush(stdout);
            print_names(net, vocabulary, s.names);
            std::cout << "\n\n" << std::flush;
        }
        progress.update(j + 1, s.iterations, loss);
    }
    net.set_steps(1);  // a saved model is one step long; set_steps gives it any length
    return net;
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("dinosaurs", [&] {
        examples::Options options("dinosaurs",
                                  "Dinosaur Island (course 5, week 1): a character-level RNN that invents dinosaur\n"
                                  "names. Runs the assignment's clip, sample and optimize tests, then trains one\n"
                                  "name per iteration and prints the smoothed loss and sampled names.");
        options.value("data", "FILE", "the names, one a line (default: data/dinos/dinos.txt)")
            .value("iterations", "N", "training iterations, one name each", "35000")
            .value("print-every", "K", "print the loss and sample names every K iterations", "2000")
            .value("hidden", "N", "hidden units of the RNN", "50")
            .value("learning-rate", "RATE", "gradient descent's learning rate", "0.01")
            .value("seed", "N", "seed of the initial weights", "1")
            .value("names", "N", "names sampled at each print", "7")
            .value("save", "FILE.npz", "save the trained model")
            .value("sample", "FILE.npz", "sample --names names from a saved model (trained on --data) and stop");
        options.parse(argc, argv);
        Settings s;
        s.iterations = options.integer("iterations", 0);
        s.print_every = options.integer("print-every", 1);
        s.hidden = options.integer("hidden", 1, 4096);
        s.learning_rate = options.number("learning-rate");
        s.seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
        s.names = options.integer("names", 0, 1000);
        const std::string data = options.has("data") ? options.text("data") : examples::data_path("data/dinos/dinos.txt");
        if (options.has("sample") && options.has("save")) {
            throw examples::UsageError("--sample and --save: give one (--sample trains nothing)");
        }
        examples::Files files;
        files.reads(data);
        if (options.has("sample")) {
            files.reads(options.text("sample"));
        }
        files.writes_as("--save", options.has("save") ? options.text("save") : "", ".npz", "an .npz model").check();

        const std::string text = read_lowercase(data, examples::terminal_safe(data));
        const std::vector<std::string> names = names_of(text, examples::terminal_safe(data), 10000);
        const Vocabulary vocabulary(text);
        std::cerr << "dinosaurs: " << names.size() << " names, " << vocabulary.size() << " characters\n";

        if (options.has("sample")) {
            nndl::Network<double> net = nndl::load_network<double>(options.text("sample"));
            rnn_of(net);
            if (net.input_shape().features() != vocabulary.size() || net.output_shape().features() != vocabulary.size()) {
                throw nndl::InvalidArgument("--sample: the model takes " + std::to_string(net.input_shape().features()) +
                                            " and gives " + std::to_string(net.output_shape().features()) +
                                            " characters, the text of --data has " + std::to_string(vocabulary.size()));
            }
            print_names(net, vocabulary, s.names);
            return 0;
        }
        if (vocabulary.size() == 27) {  // the assignment's tests assume its 27 characters
            clip_test(10);
            std::cout << '\n';
            clip_test(5);
            std::cout << '\n';
            sample_test(vocabulary);
            std::cout << '\n';
            optimize_test(vocabulary);
            std::cout << '\n';
        }
        nndl::Network<double> net = train(names, vocabulary, s);
        if (options.has("save")) {
            nndl::save_network(net, options.text("save"));
            std::cerr << "dinosaurs: saved the model to " << examples::terminal_safe(options.text("save")) << '\n';
        }
        return 0;
    });
}
