// A character-level language model on real text: an LSTM that reads a corpus one byte at
// a time and learns to predict the next one, then writes text of its own.
//
// The text (by default the "cookie" file of Debian's fortunes package) is split into a
// training part and, at its end, a validation part. Each part is cut into pieces of
// --steps + 1 characters; a piece is one example (one column): its first --steps
// characters are the input, the same shifted by one the targets. The network is
// Embedding (a learned vector per character) -> LSTM (every step's hidden state) ->
// SequenceDense with a softmax over the characters at every step; the loss is the
// cross-entropy summed over the steps (SequenceCrossEntropy). train() shuffles the pieces
// each epoch and takes Adam steps on mini-batches, with the gradients clipped by their
// global norm; --truncate K trains each piece in windows of K steps (truncated
// backpropagation through time). After every epoch it prints the perplexity, the exponential
// of the mean loss per character, on both parts; 1 would be a perfect prediction, the
// vocabulary's size a uniform guess.
//
// Then it generates text one character at a time: the LSTM carries its state from step to
// step, and each character is drawn from the softmax made sharper or flatter by
// --temperature.
#include "example_support.hpp"

#include <nndl/io/model.hpp>
#include <nndl/layers/embedding.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/network.hpp>
#include <nndl/optim/optimizers.hpp>
#include <nndl/training.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;

/// The default corpus: fortunes' cookie file (tools/setup.sh installs the package).
const char* const default_corpus = "/usr/share/games/fortunes/cookie";

/// The bytes a text uses, in increasing order: character index <-> byte.
struct Vocabulary {
    std::vector<unsigned char> bytes;
    std::array<int, 256> index{};

    Vocabulary() { index.fill(-1); }
    explicit Vocabulary(const std::string& text) : Vocabulary() {
        std::array<bool, 256> seen{};
        for (const char c : text) {
            seen[static_cast<unsigned char>(c)] = true;
        }
        for (int b = 0; b < 256; ++b) {
            if (seen[static_cast<std::size_t>(b)]) {
                add(static_cast<unsigned char>(b));
            }
        }
    }
    void add(unsigned char byte) {
        index[byte] = static_cast<int>(bytes.size());
        bytes.push_back(byte);
    }
    Index size() const { return static_cast<Index>(bytes.size()); }
    int of(char c) const { return index[static_cast<unsigned char>(c)]; }
};

/// The whole file, refused above `largest` bytes (`raise` says how to allow more).
std::string read_text(const std::string& file, std::uintmax_t largest, const std::string& raise) {
    const std::string name = examples::terminal_safe(file);
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
        throw nndl::FileError("cannot read " + name + ": expected a regular file (not a device, a pipe or a folder)");
    }
    const std::uintmax_t size = std::filesystem::file_size(file, error);
    if (error) {
        throw nndl::FileError("cannot read " + name + ": " + error.message());
    }
    if (size > largest) {
        throw nndl::FileError("" + name + " has " + std::to_string(size) + " bytes, expected at most " +
                              std::to_string(largest) + raise);
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw nndl::FileError("cannot read " + name);
    }
    // Read up to the bound only, so a file that grows meanwhile (or reports no size) cannot pass it.
    std::string text(static_cast<std::size_t>(std::min<std::uintmax_t>(largest, 1u << 20)), '\0');
    std::size_t used = 0;
    while (in) {
        if (used == text.size()) {
            if (text.size() >= largest) {
                if (in.peek() != std::char_traits<char>::eof()) {
                    throw nndl::FileError("" + name + " has more than " + std::to_string(largest) +
                                          " bytes" + raise);
                }
                break;
            }
            text.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(largest, 2 * text.size())));
        }
        in.read(&text[used], static_cast<std::streamsize>(text.size() - used));
        used += static_cast<std::size_t>(in.gcount());
    }
    if (in.bad()) {
        throw nndl::FileError("cannot read " + name);
    }
    text.resize(used);
    return text;
}

/// The vocabulary file saved beside a model: MODEL.npz -> MODEL.characters.txt.
std::filesystem::path vocabulary_path(const std::filesystem::path& model) {
    auto path = model;
    path.replace_extension(".characters.txt");
    return path;
}

/// One byte value a line, in increasing order.
void save_vocabulary(const Vocabulary& vocabulary, const std::filesystem::path& path) {
    nndl::write_file_atomically(path, "char_model", [&](std::ofstream& out) {
        for (const unsigned char b : vocabulary.bytes) {
            out << static_cast<int>(b) << '\n';
        }
    });
}

/// Reads what save_vocabulary wrote: whole numbers 0-255, increasing, one a line.
Vocabulary load_vocabulary(const std::filesystem::path& path) {
    const std::string name = examples::terminal_safe(path.string());
    const std::string text = read_text(path.string(), 4096, " (a characters file lists at most 256 bytes)");
    Vocabulary vocabulary;
    std::istringstream lines(text);
    std::string line;
    int previous = -1;
    for (int number = 1; std::getline(lines, line); ++number) {
        long value = 0;
        try {
            value = examples::Options::parse_integer(line, name + " line " + std::to_string(number), 0, 255);
        } catch (const examples::UsageError& e) {  // a mistake in the file, not on the command line
            throw nndl::FileError(std::string(e.what()));
        }
        if (value <= previous) {
            throw nndl::FileError("" + name + " line " + std::to_string(number) + ": " +
                                  std::to_string(value) + " after " + std::to_string(previous) +
                                  ", expected byte values in increasing order");
        }
        previous = static_cast<int>(value);
        vocabulary.add(static_cast<unsigned char>(value));
    }
    if (vocabulary.size() < 2) {
        throw nndl::FileError("" + name + " lists " + std::to_string(vocabulary.size()) +
                              " characters, expected at least 2");
    }
    return vocabulary;
}

/// Pieces of `steps` + 1 characters of text[begin, end): inputs (the character index at
/// each step, one row a step) and one-hot targets (the next character at each step).
struct Pieces {
    Matrix<float> x;
    Matrix<float> y;
};
Pieces cut(const std::string& text, std::size_t begin, std::size_t end, const Vocabulary& vocabulary, Index steps) {
    const Index v = vocabulary.size();
    const auto count = static_cast<Index>((end - begin - 1) / static_cast<std::size_t>(steps));
    Pieces pieces{Matrix<float>(steps, count), Matrix<float>::Zero(steps * v, count)};
    for (Index j = 0; j < count; ++j) {
        const std::size_t first = begin + static_cast<std::size_t>(j * steps);
        for (Index t = 0; t < steps; ++t) {
            pieces.x(t, j) = static_cast<float>(vocabulary.of(text[first + static_cast<std::size_t>(t)]));
            pieces.y(t * v + vocabulary.of(text[first + static_cast<std::size_t>(t) + 1]), j) = 1.0f;
        }
    }
    return pieces;
}

/// Embedding -> LSTM -> a softmax over the characters at every step. The weights start
/// as PyTorch starts its layers (the course's 0.01 * randn is too small for an LSTM this
/// wide to learn quickly): the character vectors from a standard normal, the LSTM's and the
/// output layer's weights and biases uniform in +-1/sqrt(hidden).
nndl::Network<float> language_model(Index characters, Index steps, Index embedding, Index hidden, std::uint32_t seed) {
    nndl::Network<float> net(Shape::sequence(steps, 1));
    net.add(std::make_unique<nndl::Embedding<float>>(net.output_shape(), characters, embedding));
    net.add(std::make_unique<nndl::LSTM<float>>(net.output_shape(), hidden, true));
    net.add(std::make_unique<nndl::SequenceDense<float>>(net.output_shape(), characters, nndl::Activation::softmax));
    nndl::NumpyRandom random(seed);
    const auto bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hidden)));
    const auto parameters = net.parameters();  // E; the LSTM's W, b; the output's W, b
    *parameters[0].value = random.randn<float>(embedding, characters);
    for (std::size_t k = 1; k < parameters.size(); ++k) {
        Matrix<float>& m = *parameters[k].value;
        m = (random.rand<float>(m.rows(), m.cols()).array() * 2.0f - 1.0f) * bound;
    }
    return net;
}

/// The LSTM of a model char_model built (or loaded); InvalidArgument for another model.
nndl::LSTM<float>& lstm_of(nndl::Network<float>& net) {
    auto* lstm = net.depth() == 3 ? dynamic_cast<nndl::LSTM<float>*>(&net.layer(1)) : nullptr;
    if (net.depth() != 3 || net.layer(0).type() != "embedding" || lstm == nullptr ||
        net.layer(2).type() != "sequence_dense" || output_activation(net.layer(2)) != nndl::Activation::softmax) {
        std::string layers;
        for (std::size_t i = 0; i < net.depth(); ++i) {
            layers += (i > 0 ? ", " : "") + net.layer(i).type();
        }
        throw nndl::InvalidArgument("the model's layers are " + layers +
                                    ", expected an embedding, an lstm and a softmax sequence_dense (a char_model model)");
    }
    return *lstm;
}

/// Generated text for the terminal: what lies between line ends and tabs goes through
/// terminal_safe (the bytes come from the training text, which may hold control characters).
std::string printable_text(const std::string& text) {
    std::string safe;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const std::size_t end = std::min(text.find_first_of("\n\t", begin), text.size());
        safe += examples::terminal_safe(text.substr(begin, end - begin));
        if (end < text.size()) {
            safe += text[end];
        }
        begin = end + 1;
    }
    return safe;
}

/// `length` characters after `prime`, drawn one at a time from the model's softmax at
/// `temperature`. The model reads the prime first (or starts from zeros without one).
std::string generate(nndl::Network<float>& net, const Vocabulary& vocabulary, const std::string& prime, long length,
                     double temperature, std::uint32_t seed) {
    nndl::LSTM<float>& lstm = lstm_of(net);
    net.set_steps(1);
    lstm.reset_state();
    lstm.set_carry(true);
    nndl::NumpyRandom random(seed);
    Matrix<float> x(1, 1);
    nndl::Vector<float> p = nndl::Vector<float>::Constant(vocabulary.size(), 1.0f / static_cast<float>(vocabulary.size()));
    for (const char c : prime) {
        x(0, 0) = static_cast<float>(vocabulary.of(c));
        p = net.forward(x, nndl::Mode::evaluation).col(0);
    }
    std::string text;
    for (long k = 0; k < length; ++k) {
        const Index next = random.choice(nndl::with_temperature(p, temperature));
        text += static_cast<char>(vocabulary.bytes[static_cast<std::size_t>(next)]);
        x(0, 0) = static_cast<float>(next);
        p = net.forward(x, nndl::Mode::evaluation).col(0);
    }
    lstm.set_carry(false);
    lstm.reset_state();
    return text;
}

double perplexity(double loss_per_piece, Index steps) { return std::exp(loss_per_piece / static_cast<double>(steps)); }

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("char_model", [&] {
        examples::Options options("char_model",
                                  "A character-level LSTM language model: trains on a text (by default fortunes'\n"
                                  "cookie file), prints the perplexity on held-out text after every epoch, then\n"
                                  "writes text of its own.");
        options.value("data", "FILE", std::string("the text to learn (default: ") + default_corpus + ")")
            .value("max-bytes", "N", "refuse a text larger than N bytes", "67108864")
            .value("validation", "FRACTION", "the share of the text, at its end, held out for validation (0: none)",
                   "0.1")
            .value("steps", "N", "characters per training piece", "100")
            .value("embedding", "N", "values of each character's learned vector", "32")
            .value("hidden", "N", "hidden units of the LSTM", "256")
            .value("epochs", "N", "passes over the training text", "20")
            .value("batch", "N", "pieces per Adam step", "32")
            .value("learning-rate", "RATE", "Adam's learning rate", "0.002")
            .value("clip-norm", "NORM", "scale the gradients to at most this global norm (0: no clipping)", "5")
            .value("truncate", "K", "backpropagate through windows of K steps (0: whole pieces)", "0")
            .value("seed", "N", "seed of the initial weights, the shuffling and the sampling", "1")
            .value("generate", "N", "characters to write after training", "400")
            .value("temperature", "T", "below 1 sharper, above 1 flatter than the model's softmax", "0.8")
            .value("prime", "TEXT", "text the model reads before it writes", "")
            .value("chart", "FILE.png", "draw the perplexity per epoch")
            .value("save", "FILE.npz", "save the model (and FILE.characters.txt, its characters)")
            .value("load", "FILE.npz", "generate from a saved model instead of training")
            .excludes("load", "save")
            .excludes("load", "chart");
        // A loaded model is not trained: the options that shape training do not apply to it.
        for (const char* training : {"data", "max-bytes", "validation", "steps", "embedding", "hidden", "epochs", "batch",
                                     "learning-rate", "clip-norm", "truncate"}) {
            options.excludes("load", training);
        }
        options.parse(argc, argv);
        const auto max_bytes = static_cast<std::uintmax_t>(options.integer("max-bytes", 1));
        const double validation = options.number("validation", false);
        if (!(validation >= 0.0 && validation < 0.5)) {
            throw examples::UsageError("--validation " + options.text("validation") + ": expected a fraction in [0, 0.5)");
        }
        const Index steps = options.integer("steps", 1, 10000);
        const Index embedding = options.integer("embedding", 1, 1024);
        const Index hidden = options.integer("hidden", 1, 2048);
        const long epochs = options.integer("epochs", 0, 1000000);
        const Index batch = options.integer("batch", 1, 1 << 20);
        const double learning_rate = options.number("learning-rate");
        const double clip_norm = options.number("clip-norm", false);
        if (clip_norm < 0.0) {
            throw examples::UsageError("--clip-norm " + options.text("clip-norm") + ": expected a norm >= 0");
        }
        const Index truncate = options.integer("truncate", 0, steps);
        const auto seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
        const long length = options.integer("generate", 0, 1 << 24);
        const double temperature = options.number("temperature");
        const std::string prime = options.text("prime");

        examples::Files files;
        if (options.has("load")) {
            files.reads(options.text("load")).reads(vocabulary_path(options.text("load")));
        } else {
            files.reads(options.has("data") ? options.text("data") : std::string(default_corpus));
        }
        const std::string save = options.has("save") ? options.text("save") : "";
        files.writes_as("--save", save, ".npz", "an .npz model");
        if (!save.empty()) {
            files.writes("--save's characters", vocabulary_path(save));
        }
        files.writes_chart("--chart", options.has("chart") ? options.text("chart") : "").check();

        if (options.has("load")) {
            const std::string model = options.text("load");
            const Vocabulary vocabulary = load_vocabulary(vocabulary_path(model));
            nndl::Network<float> net = nndl::load_network<float>(model);
            lstm_of(net);
            const auto& table = dynamic_cast<const nndl::Embedding<float>&>(net.layer(0));
            if (net.output_shape().features() != vocabulary.size() || table.vocabulary() != vocabulary.size()) {
                throw nndl::InvalidArgument("--load: the model reads " + std::to_string(table.vocabulary()) +
                                            " and writes " + std::to_string(net.output_shape().features()) +
                                            " characters, its characters file lists " +
                                            std::to_string(vocabulary.size()));
            }
            for (const char c : prime) {
                if (vocabulary.of(c) < 0) {
                    throw examples::UsageError("--prime: the model does not know the byte " +
                                               std::to_string(static_cast<unsigned char>(c)));
                }
            }
            std::cout << printable_text(prime + generate(net, vocabulary, prime, length, temperature, seed)) << '\n';
            return 0;
        }

        const std::string data = options.has("data") ? options.text("data") : std::string(default_corpus);
        const std::string text = read_text(data, max_bytes, " (--max-bytes raises the bound)");
        const Vocabulary vocabulary(text);
        if (vocabulary.size() < 2) {
            throw nndl::FileError("" + examples::terminal_safe(data) + " uses " +
                                  std::to_string(vocabulary.size()) +
                                  " different bytes, expected at least 2 (nothing to predict)");
        }
        for (const char c : prime) {
            if (vocabulary.of(c) < 0) {
                throw examples::UsageError("--prime: the byte " + std::to_string(static_cast<unsigned char>(c)) +
                                           " is not in the text");
            }
        }
        // The one-hot targets hold a float per character of the vocabulary for every byte.
        const double target_bytes = 4.0 * static_cast<double>(text.size()) * static_cast<double>(vocabulary.size());
        if (target_bytes > 8.0 * (1u << 30)) {
            throw nndl::FileError("" + examples::terminal_safe(data) + ": " + std::to_string(text.size()) +
                                  " bytes of " + std::to_string(vocabulary.size()) + " different values need " +
                                  std::to_string(static_cast<long long>(target_bytes / (1u << 30))) +
                                  " GiB of targets, expected at most 8; give a shorter text");
        }
        const auto held = static_cast<std::size_t>(validation * static_cast<double>(text.size()));
        const std::size_t training = text.size() - held;
        const auto piece = static_cast<std::size_t>(steps) + 1;
        if (training < piece || (held > 0 && held < piece)) {
            throw nndl::FileError("" + examples::terminal_safe(data) + " has " +
                                  std::to_string(text.size()) + " bytes: " + std::to_string(training) +
                                  " to train on and " + std::to_string(held) + " to validate, expected at least " +
                                  std::to_string(piece) + " (--steps + 1) in each (--validation 0: none)");
        }
        const Pieces train_set = cut(text, 0, training, vocabulary, steps);
        const Pieces validation_set = held > 0 ? cut(text, training, text.size(), vocabulary, steps) : Pieces{};
        std::cerr << "char_model: " << examples::terminal_safe(data) << ": " << text.size() << " bytes, "
                  << vocabulary.size() << " different; " << train_set.x.cols() << " training pieces and "
                  << validation_set.x.cols() << " validation pieces of " << steps << " steps\n";

        nndl::Network<float> net = language_model(vocabulary.size(), steps, embedding, hidden, seed);
        net.set_gradient_clipping({0.0, clip_norm});
        nndl::Adam<float> adam(learning_rate);
        nndl::TrainOptions train_options;
        train_options.epochs = epochs;
        train_options.batch_size = batch;
        train_options.seed = seed;
        train_options.metric = nndl::TrainMetric::none;
        train_options.truncate_steps = truncate;
        std::vector<std::pair<double, double>> train_curve;
        std::vector<std::pair<double, double>> validation_curve;
        examples::Progress progress("char_model");
        long epoch_batches = 0;
        train_options.on_batch_end = [&](const nndl::Progress& p) {
            epoch_batches = p.batches;
            progress.update(p.batch + 1, p.batches, perplexity(p.loss, steps));
            return true;
        };
        train_options.on_epoch_end = [&](const nndl::Progress& p) {
            const nndl::EpochRecord& r = *p.record;
            const double train_perplexity = perplexity(r.loss, steps);
            train_curve.emplace_back(static_cast<double>(r.epoch + 1), train_perplexity);
            std::cout << "epoch " << r.epoch + 1 << "/" << epochs << ": training perplexity "
                      << examples::Options::format_number(train_perplexity);
            if (r.has_validation) {
                const double validation_perplexity = perplexity(r.validation_loss, steps);
                validation_curve.emplace_back(static_cast<double>(r.epoch + 1), validation_perplexity);
                std::cout << ", validation perplexity " << examples::Options::format_number(validation_perplexity);
            }
            std::cout << " (" << std::fixed << std::setprecision(1) << r.seconds << " s, " << epoch_batches
                      << " batches)\n"
                      << std::defaultfloat << std::flush;
            return true;
        };
        nndl::train(net, train_set.x, train_set.y, adam, train_options, held > 0 ? &validation_set.x : nullptr,
                    held > 0 ? &validation_set.y : nullptr);

        if (options.has("chart")) {
            std::vector<examples::Series> series{{"training", train_curve, false}};
            if (!validation_curve.empty()) {
                series.push_back({"validation", validation_curve, false});
            }
            examples::plot_lines(options.text("chart"), "char_model: perplexity per epoch", "epoch",
                                 "perplexity (per character)", series);
        }
        if (!save.empty()) {
            net.set_steps(1);  // the weights do not depend on the steps; generation takes one at a time
            nndl::save_network(net, save);
            save_vocabulary(vocabulary, vocabulary_path(save));
            std::cerr << "char_model: saved the model to " << examples::terminal_safe(save) << " and its characters to "
                      << examples::terminal_safe(vocabulary_path(save).string()) << '\n';
        }
        if (length > 0) {
            std::cout << "\ngenerated (temperature " << examples::Options::format_number(temperature) << "):\n"
                      << printable_text(prime + generate(net, vocabulary, prime, length, temperature, seed)) << '\n';
        }
        return 0;
    });
}
