// Every bad input to the library in one table: each case names what it does wrong,
// the exception type it must raise and words its message must contain (the function,
// what was expected, what came). The README's "Errors and guarantees" promises these.
// The command-line programs have their own table (tests/bad_command_lines.txt).
#include "test_support.hpp"

#include <nndl/data/hdf5.hpp>
#include <nndl/data/idx.hpp>
#include <nndl/data/image.hpp>
#include <nndl/all.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace fs = std::filesystem;
using nndl::Activation;
using nndl::Index;
using nndl::Matrix;

namespace {

enum class Kind { invalid_argument, shape, file, divergence };

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::invalid_argument: return "nndl::InvalidArgument";
        case Kind::shape: return "nndl::ShapeError";
        case Kind::file: return "nndl::FileError";
        case Kind::divergence: return "nndl::DivergenceError";
    }
    return "?";
}

struct Case {
    const char* what;                 // the bad input
    Kind kind;                        // the exception it must raise
    std::vector<std::string> words;   // each must appear in the message
    std::function<void()> run;
};

/// Runs one case: the exception thrown (its type's name) and its message.
std::pair<std::string, std::string> outcome(const Case& c) {
    try {
        c.run();
    } catch (const nndl::ShapeError& e) {
        return {kind_name(Kind::shape), e.what()};
    } catch (const nndl::InvalidArgument& e) {
        return {kind_name(Kind::invalid_argument), e.what()};
    } catch (const nndl::FileError& e) {
        return {kind_name(Kind::file), e.what()};
    } catch (const nndl::DivergenceError& e) {
        return {kind_name(Kind::divergence), e.what()};
    } catch (const std::exception& e) {
        return {std::string("another exception (") + typeid(e).name() + ")", e.what()};
    }
    return {"no exception", ""};
}

void check_table(const std::vector<Case>& table) {
    for (const Case& c : table) {
        const auto [kind, message] = outcome(c);
        std::string problems;
        if (kind != kind_name(c.kind)) {
            problems += " threw " + kind + ", expected " + kind_name(c.kind) + ";";
        }
        for (const std::string& word : c.words) {
            if (message.find(word) == std::string::npos) {
                problems += " lacks '" + word + "';";
            }
        }
        if (message.size() >= 600) {  // one readable line, whatever the input held
            problems += " is " + std::to_string(message.size()) + " characters long;";
        }
        CHECK_MESSAGE(problems.empty(), std::string(c.what), ":", problems, " message: ", message);
    }
}

fs::path scratch() {
    const fs::path dir = fs::temp_directory_path() / ("nndl_test_bad_inputs_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

std::vector<unsigned char> gzip(const std::vector<unsigned char>& raw) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<unsigned char> out(deflateBound(&stream, static_cast<uLong>(raw.size())));
    stream.next_in = const_cast<unsigned char*>(raw.data());
    stream.avail_in = static_cast<uInt>(raw.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

/// An IDX header: unsigned bytes, the given dimensions (big-endian).
std::vector<unsigned char> idx_header(const std::vector<std::uint32_t>& dims) {
    std::vector<unsigned char> bytes = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
    for (const std::uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            bytes.push_back(static_cast<unsigned char>(d >> shift));
        }
    }
    return bytes;
}

nndl::Network<double> small_classifier() {
    return nndl::Network<double>({2, 3, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
}

nndl::Network<double> small_softmax() {
    return nndl::Network<double>({2, 3}, {Activation::softmax}, {nndl::Init::he}, 1);
}

Matrix<double> with_nan(Matrix<double> m) {
    m(0, 0) = std::numeric_limits<double>::quiet_NaN();
    return m;
}

}  // namespace

TEST_CASE("bad inputs to networks, training and metrics") {
    const Matrix<double> x = Matrix<double>::Ones(2, 4);
    const Matrix<double> y = nndl_test::rows<double>({{0, 1, 0, 1}});
    const std::vector<Case> table = {
        {"a layer size of 0", Kind::invalid_argument, {"size", "0", "expected at least 1"},
         [] { nndl::Network<double>({2, 0, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1); }},
        {"sizes and activations that do not pair", Kind::invalid_argument, {"activation"},
         [] { nndl::Network<double>({2, 3, 1}, {Activation::relu}, {nndl::Init::he}, 1); }},
        {"an input with the wrong number of rows", Kind::shape, {"Network::predict_proba", "3 rows", "expects 2"},
         [] { small_classifier().predict_proba(Matrix<double>::Ones(3, 2)); }},
        {"an input with no examples", Kind::shape, {"Network::predict_proba", "0"},
         [] { small_classifier().predict_proba(Matrix<double>(2, 0)); }},
        {"NaN in the input of predict", Kind::invalid_argument, {"Network::predict:", "X", "non-finite"},
         [&] { small_classifier().predict(with_nan(x)); }},
        {"NaN in the input of train_step", Kind::invalid_argument, {"Network::train_step", "X", "non-finite"},
         [&] {
             auto net = small_classifier();
             nndl::GradientDescent<double> gd(0.1);
             const Matrix<double> bad = with_nan(x);
             net.train_step(bad, y, gd);
         }},
        {"infinity in the targets of train_step", Kind::invalid_argument, {"Network::train_step", "Y", "non-finite value (inf)"},
         [&] {
             auto net = small_classifier();
             nndl::GradientDescent<double> gd(0.1);
             Matrix<double> bad = y;
             bad(0, 1) = std::numeric_limits<double>::infinity();
             net.train_step(x, bad, gd);
         }},
        {"a NaN label in accuracy", Kind::invalid_argument, {"Network::accuracy", "nan", "a label in [0, 1]"},
         [&] { small_classifier().accuracy(x, with_nan(y)); }},
        {"label 7 for a sigmoid output", Kind::invalid_argument, {"Network::accuracy", "7", "a label in [0, 1]"},
         [&] {
             Matrix<double> bad = y;
             bad(0, 2) = 7;
             small_classifier().accuracy(x, bad);
         }},
        {"class 5 for three softmax outputs", Kind::invalid_argument, {"Network::accuracy", "5", "0..2"},
         [&] { small_softmax().accuracy(x, nndl_test::rows<double>({{0, 1, 5, 2}})); }},
        {"a softmax target of -4", Kind::invalid_argument, {"CategoricalCrossEntropy", "-4"},
         [&] {
             auto net = small_softmax();
             Matrix<double> target = Matrix<double>::Zero(3, 4);
             target(0, 0) = -4;
             nndl::GradientDescent<double> gd(0.1);
             net.train_step(x, target, gd);
         }},
        {"a binary target of 2", Kind::invalid_argument, {"2", "expected a label in [0, 1]"},
         [&] {
             auto net = small_classifier();
             nndl::GradientDescent<double> gd(0.1);
             net.train_step(x, nndl_test::rows<double>({{0, 2, 0, 1}}), gd);
         }},
        {"evaluate with a batch of -1", Kind::invalid_argument, {"evaluate", "batch is -1"},
         [&] { nndl::evaluate(small_classifier(), x, y, -1); }},
        {"confusion_matrix with -1 classes", Kind::invalid_argument, {"confusion_matrix", "-1", "at least 1"},
         [&] { nndl::confusion_matrix(y, y, -1); }},
        {"a NaN label in confusion_matrix", Kind::invalid_argument, {"confusion_matrix", "nan", "0..1"},
         [&] { nndl::confusion_matrix(with_nan(y), y, 2); }},
        {"an array whose bytes its shape does not describe", Kind::invalid_argument, {"write_npz", "'W'", "'<f8'"},
         [] {
             nndl::NpyArray bad{"<f8", {2, 2}, false, std::vector<unsigned char>(24)};
             nndl::write_npz(scratch() / "bad.npz", {{"W", bad}});
         }},
        {"one_hot of label 3 with 3 classes", Kind::invalid_argument, {"one_hot", "3"},
         [] { nndl::one_hot(nndl_test::rows<double>({{0, 3}}), 3); }},
        {"randn with -2 rows", Kind::invalid_argument, {"randn", "-2"},
         [] { nndl::NumpyRandom(1).randn(-2, 3); }},
        {"rand with -1 columns", Kind::invalid_argument, {"rand", "-1"},
         [] { nndl::NumpyRandom(1).rand(2, -1); }},
        {"train for -1 epochs", Kind::invalid_argument, {"train", "epochs is -1"},
         [&] {
             auto net = small_classifier();
             nndl::Adam<double> adam;
             nndl::TrainOptions options;
             options.epochs = -1;
             nndl::train(net, x, y, adam, options);
         }},
        {"a validation split of 1.5", Kind::invalid_argument, {"train", "validation_split is 1.5"},
         [&] {
             auto net = small_classifier();
             nndl::Adam<double> adam;
             nndl::TrainOptions options;
             options.validation_split = 1.5;
             nndl::train(net, x, y, adam, options);
         }},
        {"NaN in the validation set", Kind::invalid_argument, {"train", "validation X", "non-finite value (nan)"},
         [&] {
             auto net = small_classifier();
             nndl::Adam<double> adam;
             const Matrix<double> vx = with_nan(x);
             nndl::train(net, x, y, adam, nndl::TrainOptions{}, &vx, &y);
         }},
        {"a schedule that decays to 0 before the last epoch", Kind::invalid_argument,
         {"train", "learning-rate schedule gives 0"},
         [&] {
             auto net = small_classifier();
             nndl::Adam<double> adam;
             nndl::TrainOptions options;
             options.epochs = 5;
             options.schedule.kind = nndl::LearningRateSchedule::Kind::exponential;
             options.schedule.decay_rate = 1e-200;
             nndl::train(net, x, y, adam, options);
         }},
        {"a learning rate of -1", Kind::invalid_argument, {"learning rate", "-1"},
         [] { nndl::Adam<double> adam(-1.0); }},
        {"Adam's beta1 of 1", Kind::invalid_argument, {"beta1", "1"},
         [] { nndl::Adam<double> adam(0.001, 1.0); }},
        {"saving a network with no layers", Kind::invalid_argument, {"save_network", "no layers"},
         [] {
             nndl::Network<double> empty;
             nndl::save_network(empty, scratch() / "empty.npz");
         }},
    };
    check_table(table);
}

TEST_CASE("bad files: models, CSV, IDX, images, HDF5") {
    const fs::path dir = scratch();
    auto net = small_classifier();
    nndl::save_network(net, dir / "model.npz");
    write_text(dir / "no_header.csv", "1,2,0\n3,4,1\n");
    write_text(dir / "bad_cell.csv", "x1,x2,y\n1," + std::string(5000, 'q') + ",0\n");
    write_text(dir / "ragged.csv", "x1,x2,y\n1,2,0\n3,4\n");
    nndl_test::write_bytes(dir / "idx_overflow_images", idx_header({0, 0xFFFFFFFFu, 0xFFFFFFFFu}));
    nndl_test::write_bytes(dir / "idx_no_labels", idx_header({0}));
    nndl_test::write_bytes(dir / "idx_type", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
    nndl_test::write_bytes(dir / "idx_truncated", idx_header({10, 28, 28}));
    nndl_test::write_bytes(dir / "idx_trailing", {0, 0, 0x08, 1, 0, 0, 0, 2, 7, 7, 7});
    {
        // A gzip bomb of another IDX type (0x0D, floats): refused from its first bytes.
        std::vector<unsigned char> raw = {0, 0, 0x0D, 1, 0, 0, 0, 1};
        raw.resize(std::size_t(64) << 20, 0);
        nndl_test::write_bytes(dir / "idx_float_bomb.gz", gzip(raw));
    }
    {
        // A gzip bomb: a header for one 28 x 28 image, then 64 MB of zeros (64 kB compressed).
        std::vector<unsigned char> raw = idx_header({1, 28, 28});
        raw.resize(raw.size() + (std::size_t(64) << 20), 0);
        nndl_test::write_bytes(dir / "idx_bomb.gz", gzip(raw));
    }
    {
        // A PNG whose header claims 100000 x 100000 pixels.
        std::vector<unsigned char> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                          0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0, 0, 0, 0, 0};
        nndl_test::write_bytes(dir / "huge.png", png);
    }
    write_text(dir / "not_an_image.png", "hello");
    nndl_test::write_bytes(dir / "empty.png", {});
    fs::create_directories(dir / "loop" / "cats");
    fs::create_symlink("loop_b", dir / "loop" / "cats" / "loop_a.png");
    fs::create_symlink("loop_a.png", dir / "loop" / "cats" / "loop_b");
    fs::create_directories(dir / "no_classes");
    fs::create_directories(dir / "empty_class" / "dogs");
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    {
        // An HDF5 file of a few kilobytes declaring a 2^48-value dataset (chunked, never written).
        const hid_t file = H5Fcreate((dir / "huge.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        const hsize_t dims[4] = {65536, 65536, 65536, 1};
        const hsize_t chunk[4] = {1, 1, 16, 1};
        const hid_t space = H5Screate_simple(4, dims, nullptr);
        const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(properties, 4, chunk);
        const hid_t dataset = H5Dcreate2(file, "train_set_x", H5T_NATIVE_UCHAR, space, H5P_DEFAULT, properties,
                                         H5P_DEFAULT);
        REQUIRE(dataset >= 0);
        H5Dclose(dataset);
        H5Pclose(properties);
        H5Sclose(space);
        H5Fclose(file);
    }

    const std::vector<Case> table = {
        {"a model file that does not exist", Kind::file, {"read_npz", "missing.npz", "No such file"},
         [&] { nndl::load_network<double>(dir / "missing.npz"); }},
        {"a folder as a model", Kind::file, {"is a folder"}, [&] { nndl::load_network<double>(dir); }},
        {"/dev/zero as a model", Kind::file, {"/dev/zero", "not a regular file"},
         [] { nndl::load_network<double>("/dev/zero"); }},
        {"a CSV file as a model", Kind::file, {"no_header.csv", "not an .npz"},
         [&] { nndl::load_network<double>(dir / "no_header.csv"); }},
        {"a zip64 offset that wraps", Kind::file, {"damaged header"},
         [] { nndl::load_network<double>("fuzz/regressions/npz/zip64_offset_wraps.npz"); }},
        {"an .npy shape whose product wraps", Kind::file, {"(4294967296, 4294967296)"},
         [] { nndl::load_network<double>("fuzz/regressions/npz/npy_shape_product_wraps.npz"); }},
        {"archive entries that overlap", Kind::file, {"overlap"},
         [] { nndl::load_network<double>("fuzz/regressions/npz/overlapping_entries.npz"); }},
        {"a stored architecture that disagrees with the activations given", Kind::file,
         {"load_network", "relu, sigmoid", "tanh, sigmoid"},
         [&] { nndl::load_network<double>(dir / "model.npz", {Activation::tanh, Activation::sigmoid}); }},
        {"a course parameter file whose W1 has 0 rows", Kind::file, {"load_network", "w1_empty.npz", "W1 is 0x3"},
         [&] {
             nndl::write_npz(dir / "w1_empty.npz", {{"W1", nndl::to_npy(Matrix<double>(0, 3))},
                                                    {"b1", nndl::to_npy(Matrix<double>(0, 1))}});
             nndl::load_network<double>(dir / "w1_empty.npz", {Activation::sigmoid});
         }},
        {"saving onto a folder", Kind::file, {"save_network", "not a regular file"},
         [&] { nndl::save_network(net, dir); }},
        {"saving onto /dev/null", Kind::file, {"save_network", "/dev/null", "not a regular file"},
         [&] { nndl::save_network(net, "/dev/null"); }},
        {"saving onto a FIFO", Kind::file, {"write_png", "fifo", "not a regular file"},
         [&] { nndl::write_png(dir / "fifo", nndl::ImageArray<unsigned char>(2, 2, 3)); }},
        {"saving into a folder that does not exist", Kind::file, {"save_network", "nowhere"},
         [&] { nndl::save_network(net, dir / "nowhere" / "m.npz"); }},
        {"a CSV without a header", Kind::file, {"load_csv_points", "no_header.csv", "header"},
         [&] { nndl::load_csv_points<double>(dir / "no_header.csv"); }},
        {"a CSV cell that is not a number (5000 characters)", Kind::file, {"bad_cell.csv:2", "expected a finite number"},
         [&] { nndl::load_csv_points<double>(dir / "bad_cell.csv"); }},
        {"a CSV row with a missing cell", Kind::file, {"ragged.csv:3", "2"},
         [&] { nndl::load_csv_points<double>(dir / "ragged.csv"); }},
        {"a folder as a CSV", Kind::file, {"load_csv_points", "is a folder"},
         [&] { nndl::load_csv_points<double>(dir); }},
        {"a CSV that cannot be read (EIO)", Kind::file, {"load_csv_points", "/proc/self/mem"},
         [] { nndl::load_csv_points<double>("/proc/self/mem"); }},
        {"IDX dimensions whose product overflows", Kind::file, {"load_idx_dataset", "idx_overflow_images", "4294967295"},
         [&] { nndl::load_idx_dataset<double>(dir / "idx_overflow_images", dir / "idx_no_labels"); }},
        {"an IDX file of another data type", Kind::file, {"read_idx", "0xd", "0x08"},
         [&] { nndl::read_idx(dir / "idx_type"); }},
        {"a truncated IDX file", Kind::file, {"read_idx", "idx_truncated", "truncated"},
         [&] { nndl::read_idx(dir / "idx_truncated"); }},
        {"an IDX file with bytes after its data", Kind::file, {"read_idx", "idx_trailing", "1 bytes after the 2 values"},
         [&] { nndl::read_idx(dir / "idx_trailing"); }},
        {"a gzip IDX bomb of another data type", Kind::file, {"read_idx", "idx_float_bomb.gz", "0xd"},
         [&] { nndl::read_idx(dir / "idx_float_bomb.gz"); }},
        {"a gzip IDX that inflates past its header's size", Kind::file, {"read_idx", "idx_bomb.gz", "800 bytes its header declares"},
         [&] { nndl::read_idx(dir / "idx_bomb.gz"); }},
        {"an IDX image set with a label file of another length", Kind::file, {"load_idx_dataset", "labels"},
         [&] {
             nndl_test::write_bytes(dir / "idx_one_image", [] {
                 auto b = idx_header({1, 2, 2});
                 b.resize(b.size() + 4, 0);
                 return b;
             }());
             nndl::load_idx_dataset<double>(dir / "idx_one_image", dir / "idx_no_labels");
         }},
        {"a PNG header of 100000 x 100000 pixels", Kind::file, {"load_image_rgb", "huge.png", "100000"},
         [&] { nndl::load_image_rgb(dir / "huge.png"); }},
        {"a text file named .png", Kind::file, {"load_image_rgb", "not_an_image.png", "not an image"},
         [&] { nndl::load_image_rgb(dir / "not_an_image.png"); }},
        {"an empty .png", Kind::file, {"load_image_rgb", "empty.png", "empty"},
         [&] { nndl::load_image_rgb(dir / "empty.png"); }},
        {"an image folder with a symlink loop", Kind::file, {"load_image_folder", "loop_a.png"},
         [&] { nndl::load_image_folder<double>(dir / "loop"); }},
        {"an image folder that is a file", Kind::file, {"load_image_folder", "is not a folder"},
         [&] { nndl::load_image_folder<double>(dir / "no_header.csv"); }},
        {"an image folder without class folders", Kind::file, {"load_image_folder", "no sub-folders"},
         [&] { nndl::load_image_folder<double>(dir / "no_classes"); }},
        {"a class folder without images", Kind::file, {"load_image_folder", "dogs", "has no images"},
         [&] { nndl::load_image_folder<double>(dir / "empty_class"); }},
        {"resizing to (2^62 + 1) x 4", Kind::invalid_argument, {"resize_image", "4611686018427387905x4"},
         [] { nndl::resize_image(nndl::ImageArray<unsigned char>(2, 2, 3), (Index(1) << 62) + 1, 4); }},
        {"resizing to 0 x 4", Kind::invalid_argument, {"resize_image", "0x4"},
         [] { nndl::resize_image(nndl::ImageArray<unsigned char>(2, 2, 3), 0, 4); }},
        {"a text file as HDF5", Kind::file, {"read_h5_array", "not an HDF5 file"},
         [&] { nndl::read_h5_array<double>(dir / "no_header.csv", "x"); }},
        {"an HDF5 dataset of 2^48 values in a small file", Kind::file,
         {"read_h5_array", "train_set_x", "(65536, 65536, 65536, 1)", "more than the 4294967296 bytes"},
         [&] { nndl::read_h5_array<unsigned char>(dir / "huge.h5", "train_set_x"); }},
        {"an HDF5 image set whose 1 GiB of pixels would take 4 GiB as float (the fuzzer's find)", Kind::file,
         {"read_h5_array", "train_set_x", "(3, 67108864, 4, 3)", "more than the 1073741824 bytes accepted"},
         [] {
             nndl::load_h5_image_set<float>("fuzz/regressions/hdf5/image_set_larger_as_float.h5", "train_set_x",
                                            "train_set_y");
         }},
        {"an HDF5 dataset that does not exist", Kind::file, {"read_h5_array", "nothing_here"},
         [] { nndl::read_h5_array<double>("data/catvnoncat/train_catvnoncat.h5", "nothing_here"); }},
    };
    check_table(table);
    fs::remove_all(dir);
}

TEST_CASE("messages write each part as a stream writes it") {
    // concat formats numbers and characters without a stream of its own: the text must be
    // what `std::ostream <<` gives, part by part.
    const std::string text = "file";
    const std::string_view view = "view";
    const char* none = nullptr;
    const std::filesystem::path shape = "dir/model.npz";  // streamed: written in quotes
    std::ostringstream expected;
    expected << "a " << 'c' << static_cast<unsigned char>('u') << ' ' << -7 << ' ' << 18446744073709551615ULL << ' '
             << true << ' ' << 0.1 << ' ' << 1e-300 << ' ' << 3.25f << ' ' << 1.0L / 3 << ' '
             << -std::numeric_limits<double>::infinity() << ' ' << text << view << ' ' << shape << ' '
             << static_cast<Eigen::Index>(-42);
    const std::string got =
        nndl::detail::concat("a ", 'c', static_cast<unsigned char>('u'), ' ', -7, ' ', 18446744073709551615ULL, ' ', true,
                             ' ', 0.1, ' ', 1e-300, ' ', 3.25f, ' ', 1.0L / 3, ' ',
                             -std::numeric_limits<double>::infinity(), ' ', text, view, ' ', shape, ' ',
                             static_cast<Eigen::Index>(-42), none);
    CHECK(got == expected.str());
    try {
        nndl::detail::throw_shape("f: ", 2, "x", 3.5);
        FAIL("throw_shape returned");
    } catch (const nndl::ShapeError& e) {
        CHECK(std::string(e.what()) == "f: 2x3.5");
    }
}
