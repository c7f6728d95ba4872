// Model files (io/model.hpp): every layer type round-trips bit-exactly through one
// generic loop, a user's registered layer too; format 1 files and NumPy dicts still
// load; broken files are refused with a message naming the problem.
#include "scale_layer.hpp"
#include "test_support.hpp"

#include <nndl/all.hpp>
#include <nndl/data/csv.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using nndl::Activation;
using nndl::Matrix;
using nndl::Shape;

namespace {

std::vector<unsigned char> bytes_of(const fs::path& p) { return nndl::read_file_bytes(p, "test"); }

std::string load_error(const fs::path& p) {
    return nndl_test::message_of<nndl::FileError>([&] { nndl::load_network<double>(p); });
}

/// Saves a model above the default bounds: save_network refuses it at those bounds (what
/// load_network would refuse), so it is written with the bounds raised, as a user who
/// raised them would, and the bounds are put back.
void save_above_bounds(nndl::Network<double>& network, const fs::path& p) {
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(network, p); }).find(
              "save_network: load_network would refuse this model: ") == 0);
    CHECK_FALSE(fs::exists(p));
    nndl::set_max_model_values(std::numeric_limits<long long>::max());
    nndl::set_max_model_operations(std::numeric_limits<long long>::max());
    nndl::save_network(network, p);
    nndl::set_max_model_values(nndl::default_max_model_values);
    nndl::set_max_model_operations(nndl::default_max_model_operations);
}

/// Every parameter and state matrix, the settings, the loss and L2 are equal bit for bit.
template <class Scalar>
void check_same(nndl::Network<Scalar>& a, nndl::Network<Scalar>& b) {
    REQUIRE(a.depth() == b.depth());
    CHECK(a.input_shape() == b.input_shape());
    for (std::size_t l = 0; l < a.depth(); ++l) {
        CHECK(a.layer(l).type() == b.layer(l).type());
        CHECK(a.layer(l).settings() == b.layer(l).settings());
        CHECK(a.layer(l).output_shape() == b.layer(l).output_shape());
    }
    const auto pa = a.parameters();
    const auto pb = b.parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        CHECK(pa[i].name == pb[i].name);
        CHECK(pa[i].decay == pb[i].decay);
        CHECK(*pa[i].value == *pb[i].value);  // exact
    }
    const auto sa = a.state();
    const auto sb = b.state();
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        CHECK(*sa[i].value == *sb[i].value);
    }
    CHECK(a.loss().name() == b.loss().name());
    CHECK(a.l2() == b.l2());
}

template <class Scalar>
void randomize_biases(nndl::Network<Scalar>& net) {
    nndl::NumpyRandom random(9);
    for (auto& p : net.parameters()) {
        if (p.name == "b") {
            *p.value = random.randn<Scalar>(p.value->rows(), 1);
        }
    }
}

}  // namespace

TEST_CASE_TEMPLATE("model files: every built-in layer round-trips bit-exactly", Scalar, float, double) {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    nndl::NumpyRandom random(3);
    nndl::Network<Scalar> net(Shape::image(2, 3, 1));
    net.add_activation(Activation::tanh);
    for (Activation a : {Activation::relu, Activation::leaky_relu, Activation::sigmoid, Activation::tanh,
                         Activation::identity}) {
        net.add_dense(4, a, {nndl::Init::he}, random);
    }
    net.add_dropout(0.75, 17);
    net.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
    net.set_l2(0.125);
    randomize_biases(net);
    nndl::save_network(net, dir / "model.npz");
    auto loaded = nndl::load_network<Scalar>(dir / "model.npz");
    check_same(net, loaded);
    CHECK(loaded.loss().name() == "CategoricalCrossEntropy");
    const Matrix<Scalar> x = random.randn<Scalar>(6, 5);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));  // dropout is inactive in inference

    // The file: layer<k>.<name> arrays in the layers' shapes, and the architecture as JSON.
    const auto arrays = nndl::read_npz(dir / "model.npz");
    CHECK(arrays.at("layer2.W").shape == std::vector<std::size_t>{4, 6});
    CHECK(arrays.at("layer8.b").shape == std::vector<std::size_t>{3, 1});
    CHECK(arrays.count("layer7.W") == 0);  // dropout has no parameters
    const auto arch = nndl::detail::json::parse(nndl::npy_to_string(arrays.at("architecture"), "architecture"), "test");
    CHECK(arch.at("version", "").as_integer("") == 2);
    CHECK(arch.at("scalar", "").as_string("") == (std::is_same_v<Scalar, float> ? "float32" : "float64"));
    CHECK(arch.at("layers", "").as_array("")[6].at("type", "").as_string("") == "dropout");
    CHECK(arch.at("layers", "").as_array("")[6].at("settings", "").at("keep_prob", "").as_number("") == 0.75);

    // The other precision converts on load.
    using Other = std::conditional_t<std::is_same_v<Scalar, float>, double, float>;
    auto other = nndl::load_network<Other>(dir / "model.npz");
    CHECK(other.sizes() == net.sizes());
    CHECK(nndl_test::message_of<nndl::FileError>([&] {
              nndl::load_network<Scalar>(dir / "model.npz", std::vector<nndl::Index>{12288, 20, 7, 5, 1});
          }).find("holds a 6-6-4-4-4-4-4-4-3 network, expected 12288-20-7-5-1") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE_TEMPLATE("model files: a user's layer type saves and loads once registered", Scalar, float, double) {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    nndl::NumpyRandom random(4);
    nndl::Network<Scalar> net(Shape(3));
    net.add(std::make_unique<Scale<Scalar>>(Shape(3), 0.25));
    net.add_dense(1, Activation::sigmoid, {nndl::Init::he}, random);
    // Train a little so that the parameters and the state are not what construction gives.
    const Matrix<Scalar> x = random.randn<Scalar>(3, 10);
    const Matrix<Scalar> y = (x.row(0).array() > Scalar(0)).template cast<Scalar>();
    nndl::GradientDescent<Scalar> gd(0.3);
    net.fit(x, y, gd, 5);
    CHECK(net.state()[0].value->coeff(0, 0) == Scalar(5));
    nndl::save_network(net, dir / "user.npz");

    // Saving needs nothing; loading needs the factory.
    if (!nndl::LayerRegistry<Scalar>::instance().contains("scale")) {
        CHECK(load_error(dir / "user.npz").find("layer1 ('scale'): create_layer: unknown layer type 'scale'; "
                                                "registered: activation, avg_pool2d, batch_norm, conv2d, dense, dropout") != std::string::npos);
        CHECK(load_error(dir / "user.npz").find("#include <nndl/layers/all.hpp>; register your own with register_layer)") !=
              std::string::npos);
    }
    Scale<Scalar>::register_type();
    auto loaded = nndl::load_network<Scalar>(dir / "user.npz");
    check_same(net, loaded);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::register_layer<Scalar>("dense", [](const Shape&, const nndl::Settings&) {
                  return std::unique_ptr<nndl::Layer<Scalar>>();
              });
          }) == "register_layer: a layer type 'dense' is already registered");
    fs::remove_all(dir);
}

/// Mean absolute error: a loss a user writes, named in model files once registered.
template <class Scalar>
class MeanAbsoluteError final : public nndl::Loss<Scalar> {
public:
    explicit MeanAbsoluteError(std::string name = "TestMeanAbsoluteError") : name_(std::move(name)) {}
    std::string name() const override { return name_; }
    Scalar value(const Matrix<Scalar>& a, const Matrix<Scalar>& y) const override {
        return (a - y).cwiseAbs().sum() / static_cast<Scalar>(a.cols());
    }
    void gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& da) const override {
        da = (a - y).array().sign().matrix() / static_cast<Scalar>(a.cols());
    }
    std::unique_ptr<nndl::Loss<Scalar>> clone() const override { return std::make_unique<MeanAbsoluteError>(*this); }

private:
    std::string name_;
};

TEST_CASE_TEMPLATE("model files: a user's loss saves and loads once registered", Scalar, float, double) {
    const fs::path dir = nndl_test::scratch_dir("test_model_loss");
    nndl::NumpyRandom random(6);
    nndl::Network<Scalar> net(Shape(2));
    net.add_dense(1, Activation::identity, {nndl::Init::he}, random);
    net.set_loss(std::make_unique<MeanAbsoluteError<Scalar>>());
    const Matrix<Scalar> x = random.randn<Scalar>(2, 8);
    const Matrix<Scalar> y = random.randn<Scalar>(1, 8);
    auto& losses = nndl::loss_registry<Scalar>();
    if (!losses.contains("TestMeanAbsoluteError")) {  // a run of this test before registering
        CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(net, dir / "loss.npz"); })
                  .find("save_network: the loss 'TestMeanAbsoluteError' could not be loaded back: save_network: "
                        "unknown loss 'TestMeanAbsoluteError', expected BinaryCrossEntropy, CategoricalCrossEntropy, "
                        "CourseBinaryCrossEntropy, MeanSquaredError, SequenceCrossEntropy or OutputLosses") == 0);
        CHECK_FALSE(fs::exists(dir / "loss.npz"));
        nndl::register_loss<Scalar>("TestMeanAbsoluteError",
                                    [](const Shape&) { return std::make_unique<MeanAbsoluteError<Scalar>>(); });
    }
    nndl::save_network(net, dir / "loss.npz");
    const auto loaded = nndl::load_network<Scalar>(dir / "loss.npz");
    CHECK(loaded.loss().name() == "TestMeanAbsoluteError");
    CHECK(loaded.cost_of_output(loaded.predict_proba(x), y) == net.cost_of_output(net.predict_proba(x), y));
    // The table refuses what would make a name mean two things.
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::register_loss<Scalar>("MeanSquaredError",
                                          [](const Shape&) { return std::make_unique<MeanAbsoluteError<Scalar>>(); });
          }) == "register_loss: 'MeanSquaredError' is already registered");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::register_loss<Scalar>("OutputLosses(1:x*1)",
                                          [](const Shape&) { return std::make_unique<MeanAbsoluteError<Scalar>>(); });
          }) == "register_loss: 'OutputLosses(1:x*1)' is how model files spell a combination of losses, expected "
                "another name");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::register_loss<Scalar>("a,b",
                                          [](const Shape&) { return std::make_unique<MeanAbsoluteError<Scalar>>(); });
          }) == "register_loss: 'a,b' has one of , : * ( ), expected a name without them");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::register_loss<Scalar>("Empty", {}); })
              .find("and no factory") != std::string::npos);
    // A name whose factory builds another loss would load a different loss: save refuses it.
    if (!losses.contains("TestMislabelled")) {
        nndl::register_loss<Scalar>("TestMislabelled",
                                    [](const Shape&) { return std::make_unique<nndl::MeanSquaredError<Scalar>>(); });
    }
    net.set_loss(std::make_unique<MeanAbsoluteError<Scalar>>("TestMislabelled"));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(net, dir / "mislabelled.npz"); }) ==
          "save_network: the loss 'TestMislabelled' could not be loaded back: save_network: its name builds "
          "another loss (MeanSquaredError)");
    CHECK_FALSE(fs::exists(dir / "mislabelled.npz"));
    // make_loss builds by name for an output shape, and a loss that cannot serve it says why.
    CHECK(nndl::make_loss<Scalar>("SequenceCrossEntropy", Shape::sequence(4, 3))->name() == "SequenceCrossEntropy");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::make_loss<Scalar>("CategoricalCrossEntropy", Shape::sequence(4, 3));
          }).find("make_loss: the loss CategoricalCrossEntropy takes a whole column as one set of classes") == 0);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::make_loss<Scalar>("Hinge", Shape(1)); })
              .find("make_loss: unknown loss 'Hinge', expected BinaryCrossEntropy, ") == 0);
    fs::remove_all(dir);
}

TEST_CASE("model files: format 1 files written by nndl 0.1 still load") {
    // Written by nndl 0.1.0's save_network (W1..b3 and a "sizes"/"activations" architecture),
    // with the predictions that version made.
    auto net = nndl::load_network<double>("tests/fixtures/format1_model.npz");
    CHECK(net.sizes() == std::vector<nndl::Index>{5, 4, 3, 1});
    CHECK(nndl::output_activation(net.layer(1)) == Activation::tanh);
    CHECK(net.loss().name() == "BinaryCrossEntropy");
    const auto check = nndl::read_npz("tests/fixtures/format1_forward.npz");
    const auto x = nndl::npy_to_matrix<double>(check.at("X"), "X");
    CHECK(net.predict_proba(x) == nndl::npy_to_matrix<double>(check.at("AL"), "AL"));
}

TEST_CASE("model files: a parameters dict written by np.savez loads and predicts like NumPy") {
    // Files written by NumPy 1.24 (tools/make_npz_fixture.py).
    auto net = nndl::load_network<double>("tests/fixtures/numpy_params.npz", {Activation::relu, Activation::sigmoid});
    CHECK(net.sizes() == std::vector<nndl::Index>{4, 3, 1});
    const auto check = nndl::read_npz("tests/fixtures/numpy_forward.npz");
    const auto x = nndl::npy_to_matrix<double>(check.at("X"), "X");
    const auto expected = nndl::npy_to_matrix<double>(check.at("AL"), "AL");
    REQUIRE(x.rows() == 4);
    NNDL_CHECK_CLOSE(net.predict_proba(x), expected, 1e-15);
    CHECK(load_error("tests/fixtures/numpy_params.npz").find("no 'architecture' entry") != std::string::npos);
    // A file that describes itself is not re-read with other activations.
    CHECK(nndl_test::message_of<nndl::FileError>([] {
              nndl::load_network<double>("tests/fixtures/format1_model.npz",
                                         {Activation::relu, Activation::relu, Activation::sigmoid});
          }).find("the file's layers end with [relu, tanh, sigmoid], but [relu, relu, sigmoid] were given") !=
          std::string::npos);
}

TEST_CASE("model files: an empty network is not saved") {
    nndl::Network<double> empty(Shape(3));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(empty, "never.npz"); }) ==
          "save_network: the network has no layers; expected at least 1 to save");
    CHECK_FALSE(fs::exists("never.npz"));
}

TEST_CASE("model files: broken files are refused with a message naming the problem") {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    nndl::Network<double> net({3, 2, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::save_network(net, dir / "good.npz");
    const auto good = bytes_of(dir / "good.npz");

    nndl_test::write_bytes(dir / "truncated.npz", std::vector<unsigned char>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)));
    CHECK(load_error(dir / "truncated.npz").find("truncated") != std::string::npos);

    // A zip archive (written by Python's zipfile) whose entries are not .npy arrays.
    CHECK(load_error("tests/fixtures/bad_magic.npz").find("is not a .npy array (wrong magic)") != std::string::npos);
    { std::ofstream(dir / "text.npz") << "hello, this is not a zip archive at all"; }
    CHECK(load_error(dir / "text.npz").find("is not an .npz (zip) archive") != std::string::npos);
    CHECK(load_error(dir / "missing.npz").find("cannot open") != std::string::npos);

    auto corrupt = good;
    corrupt[200] ^= 0xFF;  // inside layer1.W's data
    nndl_test::write_bytes(dir / "corrupt.npz", corrupt);
    CHECK(load_error(dir / "corrupt.npz").find("checksum") != std::string::npos);

    const auto arrays = nndl::read_npz(dir / "good.npz");
    const std::string arch_text = nndl::npy_to_string(arrays.at("architecture"), "architecture");
    const auto rewrite = [&](const char* name, auto change) {
        auto copy = arrays;
        change(copy);
        std::vector<std::pair<std::string, nndl::NpyArray>> list(copy.begin(), copy.end());
        nndl::write_npz(dir / name, list);
        return load_error(dir / name);
    };
    const auto with_arch = [&](const char* name, const std::string& from, const std::string& to) {
        return rewrite(name, [&](auto& a) {
            std::string text = arch_text;
            REQUIRE(text.find(from) != std::string::npos);
            text.replace(text.find(from), from.size(), to);
            a["architecture"] = nndl::to_npy(text);
        });
    };
    const std::string where = "load_network: '" + (dir / "x").string();
    CHECK(rewrite("no_b2.npz", [](auto& a) { a.erase("layer2.b"); }).find("layer2 ('dense'): array 'layer2.b' is missing") !=
          std::string::npos);
    CHECK(rewrite("shape.npz", [](auto& a) { a["layer1.b"] = nndl::to_npy(Matrix<double>(Matrix<double>::Zero(3, 1))); })
              .find("layer1 ('dense'): layer1.b is 3x1, the layer expects 2x1") != std::string::npos);
    CHECK(rewrite("nan.npz", [](auto& a) {
              Matrix<double> w = Matrix<double>::Zero(2, 3);
              w(1, 1) = std::nan("");
              a["layer1.W"] = nndl::to_npy(w);
          }).find("layer1.W has NaN or infinite values") != std::string::npos);
    CHECK(with_arch("version.npz", "\"version\":2", "\"version\":7")
              .find("model format version 7, this nndl reads versions 1, 2 and 3") != std::string::npos);
    CHECK(with_arch("units.npz", "\"units\":2", "\"units\":5").find("layer1.W is 2x3, the layer expects 5x3") !=
          std::string::npos);
    CHECK(with_arch("type.npz", "\"type\":\"dense\"", "\"type\":\"conv9\"")
              .find("layer1 ('conv9'): create_layer: unknown layer type 'conv9'") != std::string::npos);
    CHECK(with_arch("activation.npz", "\"relu\"", "\"swish\"").find("unknown activation 'swish'") != std::string::npos);
    CHECK(with_arch("units_type.npz", "\"units\":2", "\"units\":\"two\"")
              .find("Settings: setting 'units' is not a whole number") != std::string::npos);
    CHECK(with_arch("setting.npz", "\"units\":2", "\"units\":2,\"unit\":3")
              .find("layer1 ('dense'): the setting 'unit' is not one the layer has (it has units, activation)") !=
          std::string::npos);
    CHECK(with_arch("huge.npz", "\"units\":2", "\"units\":4000000000000")
              .find("4000000000000 units over 3 inputs is outside 1..67108864 weights") != std::string::npos);
    CHECK(with_arch("listing.npz", "\"parameters\":[\"W\",\"b\"]", "\"parameters\":[\"W\"]")
              .find("the file lists parameters [W] and state [none], the layer has [W, b] and [none]") !=
          std::string::npos);
    CHECK(with_arch("json.npz", "{\"format\"", "{\"format\",").find("invalid JSON") != std::string::npos);
    CHECK(with_arch("input.npz", "\"input\":[3,1,1]", "\"input\":[3,1]")
              .find("the architecture's \"input\" has 2 entries, expected 3") != std::string::npos);
    CHECK(with_arch("loss.npz", "\"BinaryCrossEntropy\"", "\"Hinge\"").find("unknown loss 'Hinge'") != std::string::npos);
    // A combination's rows and weights are numbers in range (not 0 for an empty or huge one),
    // and a part is never a combination again (refused before it is read, however deep).
    for (const char* bad : {"OutputLosses(1:MeanSquaredError*)", "OutputLosses(1:MeanSquaredError*1e999)",
                            "OutputLosses(:MeanSquaredError*1)", "OutputLosses(99999999999999999999:MeanSquaredError*1)"}) {
        CAPTURE(bad);
        CHECK(with_arch("weight.npz", "\"BinaryCrossEntropy\"", std::string("\"") + bad + "\"")
                  .find("', expected rows:Name*weight") != std::string::npos);
    }
    CHECK(with_arch("nested.npz", "\"BinaryCrossEntropy\"", "\"OutputLosses(1:OutputLosses(1:MeanSquaredError*1)*1)\"")
              .find("has a part '1:OutputLosses(1:MeanSquaredError*1)*1', a combination inside a combination") !=
          std::string::npos);
    CHECK(with_arch("l2.npz", "\"l2\":0.0", "\"l2\":-1.0").find("l2 is -1, expected a finite number >= 0") !=
          std::string::npos);
    CHECK(with_arch("no_layers.npz", "\"layers\":[", "\"layerz\":[").find("has no \"layers\"") != std::string::npos);
    // The file's words reach a message escaped: a terminal escape sequence, a NUL (JSON's
    // \u0000) and a long name come out as \xNN text, cut at 200 characters.
    const std::string escaped_type =
        with_arch("escape.npz", "\"type\":\"dense\"", "\"type\":\"\\u001b[2J\\u0000dense" + std::string(300, 'x') + "\"");
    CHECK(escaped_type.find("('\\x1b[2J\\x00dense") != std::string::npos);
    CHECK(escaped_type.find('\x1b') == std::string::npos);
    CHECK(escaped_type.find(std::string(1, '\0')) == std::string::npos);
    CHECK(escaped_type.find(std::string(190, 'x') + "...") != std::string::npos);  // 200 characters of the name
    CHECK(escaped_type.find(std::string(201, 'x')) == std::string::npos);
    CHECK(with_arch("escape_activation.npz", "\"relu\"", "\"\\u001b]0;owned\\u0007\"")
              .find("unknown activation '\\x1b]0;owned\\x07'") != std::string::npos);
    CHECK(with_arch("escape_loss.npz", "\"BinaryCrossEntropy\"", "\"\\u001b[31mHinge\"")
              .find("unknown loss '\\x1b[31mHinge'") != std::string::npos);
    // A backslash in the file's text is doubled: the name "\x1b" (four characters) cannot
    // pass for an escaped ESC.
    CHECK(with_arch("escape_backslash.npz", "\"relu\"", "\"\\\\x1b\"")
              .find("unknown activation '\\\\x1b'") != std::string::npos);
    // write_npz refuses an array whose bytes its shape does not describe, so such a file is
    // made by hand: layer1.W's header says (2, 4) for the 2 x 3 values stored, CRC made to fit.
    CHECK_THROWS_AS(rewrite("short.npz", [](auto& a) { a["layer1.W"].bytes.resize(3); }), nndl::InvalidArgument);
    {
        nndl::write_npz(dir / "shape.npz", {arrays.begin(), arrays.end()});
        std::vector<unsigned char> file = bytes_of(dir / "shape.npz");
        const std::string text(file.begin(), file.end());
        const std::size_t name_at = text.find("layer1.W.npy");
        REQUIRE(name_at != std::string::npos);
        const std::size_t local = name_at - 30;
        const auto le32 = [&](std::size_t at) {
            return std::uint32_t(file[at]) | std::uint32_t(file[at + 1]) << 8 | std::uint32_t(file[at + 2]) << 16 |
                   std::uint32_t(file[at + 3]) << 24;
        };
        const std::size_t data = name_at + 12;
        const std::size_t size = le32(local + 18);
        const std::size_t shape_at = text.find("'shape': (2, 3)", data);
        REQUIRE(shape_at < data + size);
        file[shape_at + 14] = '4';
        const std::uint32_t crc = nndl::detail::crc32(file.data() + data, size);
        const std::size_t central = text.find("layer1.W.npy", name_at + 1) - 46;
        for (const std::size_t at : {local + 14, central + 16}) {
            for (int k = 0; k < 4; ++k) {
                file[at + static_cast<std::size_t>(k)] = static_cast<unsigned char>(crc >> (8 * k));
            }
        }
        nndl_test::write_bytes(dir / "shape.npz", file);
        CHECK(load_error(dir / "shape.npz").find("layer1.W") != std::string::npos);
    }

    // A save that cannot create its file says so.
    fs::create_directories(dir / "locked");
    nndl::save_network(net, dir / "locked" / "model.npz");
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::save_network(net, dir / "absent" / "model.npz"); })
              .find("save_network: cannot write") == 0);

    // A device or a folder is not replaced by a file (as root, renaming over /dev/null would).
    const std::string device_message =
        nndl_test::message_of<nndl::FileError>([&] { nndl::save_network(net, "/dev/null"); });
    CHECK(device_message.find("save_network: '/dev/null' exists and is not a regular file") == 0);
    CHECK(fs::is_character_file("/dev/null"));
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::save_network(net, dir / "locked"); })
              .find("exists and is not a regular file") != std::string::npos);
    CHECK(fs::is_directory(dir / "locked"));
    fs::remove_all(dir);
}

TEST_CASE("model files: a negative running variance is refused on load, not turned into NaN later") {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    nndl::Network<double> net(nndl::Shape(3));
    net.add(std::make_unique<nndl::BatchNorm<double>>(nndl::Shape(3)));
    nndl::save_network(net, dir / "bn.npz");
    auto arrays = nndl::read_npz(dir / "bn.npz");
    Matrix<double> variance = Matrix<double>::Ones(3, 1);
    variance(2, 0) = -0.5;
    arrays["layer1.running_var"] = nndl::to_npy(variance);
    nndl::write_npz(dir / "negative_var.npz", {arrays.begin(), arrays.end()});
    CHECK(load_error(dir / "negative_var.npz")
              .find("layer1 ('batch_norm'): BatchNorm::check_loaded: running_var of channel 2 is -0.5, expected a "
                    "variance >= 0") != std::string::npos);
    variance(2, 0) = 0.0;  // zero is a variance (a constant feature): it loads
    arrays["layer1.running_var"] = nndl::to_npy(variance);
    nndl::write_npz(dir / "zero_var.npz", {arrays.begin(), arrays.end()});
    CHECK(nndl::load_network<double>(dir / "zero_var.npz").layer(0).output_size() == 3);
    fs::remove_all(dir);
}

TEST_CASE("model files: crafted archives are refused before anything large is read or allocated") {
    // Each of these once crashed the reader, overflowed an offset or asked for gigabytes
    // (fuzz/regressions/npz; test_fuzz_replay replays them under the sanitizers too).
    const std::string dir = "fuzz/regressions/npz/";
    CHECK(load_error(dir + "zip64_offset_wraps.npz").find("has a damaged header") != std::string::npos);
    CHECK(load_error(dir + "npy_shape_product_wraps.npz").find("its shape (4294967296, 4294967296) needs more") !=
          std::string::npos);
    CHECK(load_error(dir + "npy_shape_beyond_ptrdiff.npz").find("has a dimension out of range") != std::string::npos);
    CHECK(load_error(dir + "input_shape_overflow.npz").find("multiply to at most 2^31 values") != std::string::npos);
    CHECK(load_error(dir + "overlapping_entries.npz").find("has entries that overlap") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::FileError>([&] {
              nndl::load_network<double>(dir + "format1_shape_wraps.npz", {Activation::relu});
          }).find("needs more or fewer") != std::string::npos);
}

TEST_CASE("model files: text settings round-trip as UTF-8; save refuses what load would refuse") {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\x88";  // "café € 🐈"
    const auto array = nndl::to_npy(text);
    CHECK(array.dtype == "<U8");  // 8 characters, 13 bytes
    CHECK(nndl::npy_to_string(array, "text") == text);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::to_npy(std::string("bad \xC3")); })
              .find("not valid UTF-8") != std::string::npos);

    nndl::Network<double> net({2, 1}, {Activation::sigmoid}, {nndl::Init::he}, 1);
    struct Huber final : nndl::Loss<double> {  // a user's loss: usable, not loadable
        std::string name() const override { return "Huber"; }
        double value(const Matrix<double>& a, const Matrix<double>& y) const override { return (a - y).squaredNorm(); }
        void gradient(const Matrix<double>& a, const Matrix<double>& y, Matrix<double>& d) const override {
            d = 2.0 * (a - y);
        }
        std::unique_ptr<nndl::Loss<double>> clone() const override { return std::make_unique<Huber>(*this); }
    };
    net.set_loss(std::make_unique<Huber>());
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(net, dir / "huber.npz"); })
              .find("save_network: the loss 'Huber' could not be loaded back") == 0);
    CHECK_FALSE(fs::exists(dir / "huber.npz"));

    nndl::Network<double> deep(2);
    for (int i = 0; i < 20000; ++i) {
        deep.add_activation(Activation::tanh);
    }
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(deep, dir / "deep.npz"); })
              .find("characters; a model file holds at most 1048576") != std::string::npos);
    fs::remove_all(dir);
}

namespace {

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("atomic writes: links stay links, permissions stay, no temporary is left, a user's .tmp is not touched") {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    nndl::Network<double> net({3, 2, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::Network<double> other({3, 2, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 2);
    // A symbolic link is followed: the file it names is replaced and the link stays.
    nndl::save_network(net, dir / "real.npz");
    fs::create_symlink("real.npz", dir / "link.npz");
    nndl::save_network(other, dir / "link.npz");
    CHECK(fs::is_symlink(dir / "link.npz"));
    CHECK(nndl::load_network<double>(dir / "real.npz").predict_proba(Matrix<double>::Ones(3, 1)) ==
          other.predict_proba(Matrix<double>::Ones(3, 1)));
    // A link to a file not made yet: the file is made and the link stays.
    fs::create_symlink("later.npz", dir / "dangling.npz");
    nndl::save_network(net, dir / "dangling.npz");
    CHECK(fs::is_symlink(dir / "dangling.npz"));
    CHECK(fs::is_regular_file(dir / "later.npz"));
    fs::remove(dir / "dangling.npz");
    fs::remove(dir / "later.npz");
    // An existing file keeps its permissions.
    fs::permissions(dir / "real.npz", fs::perms::owner_read | fs::perms::owner_write);
    nndl::save_network(net, dir / "real.npz");
    CHECK(fs::status(dir / "real.npz").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    // A user's own file named like the old temporary is left alone.
    { std::ofstream(dir / "real.npz.tmp") << "mine"; }
    nndl::save_network(net, dir / "real.npz");
    CHECK(bytes_of(dir / "real.npz.tmp") == std::vector<unsigned char>{'m', 'i', 'n', 'e'});
    CHECK(files_in(dir) == std::vector<std::string>{"link.npz", "real.npz", "real.npz.tmp"});
    // A write that fails half-way leaves the previous file as it was and no temporary.
    const auto before = bytes_of(dir / "real.npz");
    CHECK(nndl_test::message_of<std::runtime_error>([&] {
              nndl::write_file_atomically(dir / "real.npz", "test", [](std::ofstream& out) {
                  out << "half";
                  throw std::runtime_error("stopped");
              });
          }) == "stopped");
    CHECK(bytes_of(dir / "real.npz") == before);
    CHECK(files_in(dir) == std::vector<std::string>{"link.npz", "real.npz", "real.npz.tmp"});
    // A FIFO is refused and stays a FIFO.
    REQUIRE(::mkfifo((dir / "pipe.npz").c_str(), 0600) == 0);
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::save_network(net, dir / "pipe.npz"); })
              .find("exists and is not a regular file") != std::string::npos);
    CHECK(fs::is_fifo(dir / "pipe.npz"));
    fs::remove_all(dir);
}

TEST_CASE("atomic writes: two writers of one file both succeed, and the file is one of theirs") {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    nndl::Network<double> a({3, 2, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::Network<double> b({3, 2, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 2);
    std::atomic<int> failures{0};
    const auto save_many = [&](nndl::Network<double>& net) {
        for (int i = 0; i < 20; ++i) {
            try {
                nndl::save_network(net, dir / "shared.npz");
            } catch (const nndl::FileError&) {
                ++failures;
            }
        }
    };
    std::thread first(save_many, std::ref(a));
    std::thread second(save_many, std::ref(b));
    first.join();
    second.join();
    CHECK(failures == 0);
    const Matrix<double> x = Matrix<double>::Ones(3, 1);
    const Matrix<double> p = nndl::load_network<double>(dir / "shared.npz").predict_proba(x);
    CHECK((p == a.predict_proba(x) || p == b.predict_proba(x)));
    CHECK(files_in(dir) == std::vector<std::string>{"shared.npz"});
    fs::remove_all(dir);
}

TEST_CASE("atomic writes: a SIGINT the shell ignores (a background job) stays ignored") {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::signal(SIGINT, SIG_IGN);
        nndl::remove_temporary_files_on_signals();
        std::raise(SIGINT);
        std::_Exit(7);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("atomic writes: SIGINT during a save removes the temporary (with the programs' handler)") {
    const fs::path dir = nndl_test::scratch_dir("test_model");
    { std::ofstream(dir / "model.npz") << "previous"; }
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        nndl::remove_temporary_files_on_signals();
        nndl::write_file_atomically(dir / "model.npz", "test", [](std::ofstream& out) {
            out << "half written";
            out.flush();
            std::raise(SIGINT);
        });
        std::_Exit(0);  // not reached: SIGINT ends the child
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGINT);
    CHECK(files_in(dir) == std::vector<std::string>{"model.npz"});
    CHECK(bytes_of(dir / "model.npz") == std::vector<unsigned char>{'p', 'r', 'e', 'v', 'i', 'o', 'u', 's'});
    fs::remove_all(dir);
}

TEST_CASE("model files: a model whose layers would output more than max_model_values() per example is refused") {
    // A 1x1 convolution with padding 8000: a few bytes of weights, 16001 x 16001 outputs
    // per image (2 GiB in double) that loading refuses before anything of that size exists.
    const fs::path dir = nndl_test::scratch_dir("test_model_files_limits");
    nndl::Network<double> padded(Shape::image(1, 1, 1));
    padded.add(std::make_unique<nndl::Conv2D<double>>(padded.output_shape(), 1, nndl::Window(1), nndl::Stride(1),
                                                      nndl::Padding::uniform(8000), Activation::identity));
    save_above_bounds(padded, dir / "padded.npz");
    CHECK(nndl::max_model_values() == nndl::default_max_model_values);
    const std::string message = load_error(dir / "padded.npz");
    CHECK(message.find("layer1 ('conv2d'): the input and layers up to here hold 512064003 values per example (this one "
                       "16001x16001x1 (height x width x channels) and 256032001 working values), more than the 33554432 a loaded model may use; "
                       "nndl::set_max_model_values raises the bound") != std::string::npos);
    // A 100x100 kernel over a 1000x1000 image: 80 KB of weights whose patches would take
    // 10000 values at each of 901 x 901 positions (65 GB in double) when the model runs.
    nndl::Network<double> wide(Shape::image(1000, 1000, 1));
    wide.add(std::make_unique<nndl::Conv2D<double>>(wide.output_shape(), 1, nndl::Window(100)));
    save_above_bounds(wide, dir / "wide.npz");
    const std::string patches = load_error(dir / "wide.npz");
    CHECK(patches.find("layer1 ('conv2d'): the input and layers up to here hold 8119821801 values per example (this "
                       "one 901x901x1 (height x width x channels) and 8118010000 working values), more than the "
                       "33554432") != std::string::npos);
    // The bound is the user's to raise (here: to lower, on an ordinary model).
    nndl::Network<double> small({3, 4, 2}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::save_network(small, dir / "small.npz");
    nndl::set_max_model_values(8);  // the input's 3 values, then 4 and 2
    const std::string lowered = load_error(dir / "small.npz");
    nndl::set_max_model_values(2);  // the input alone is above it: no layer is built
    const std::string input = load_error(dir / "small.npz");
    nndl::set_max_model_values(nndl::default_max_model_values);
    CHECK(lowered.find("layer2 ('dense'): the input and layers up to here hold 9 values per example") !=
          std::string::npos);
    CHECK(input.find("small.npz': the input: the input and layers up to here hold 3 values per example (this one 3)") !=
          std::string::npos);
    CHECK(nndl::load_network<double>(dir / "small.npz").depth() == 2);
    CHECK_THROWS_AS(nndl::set_max_model_values(0), nndl::InvalidArgument);
}

TEST_CASE("model files: a model whose example would cost more than max_model_operations() is refused") {
    // A 1000x1000 max-pooling window at stride 1 over a 2000x2000 image: a few hundred bytes
    // of file, 1001 x 1001 outputs of 10^6 comparisons each (about 10^12) for one example.
    const fs::path dir = nndl_test::scratch_dir("test_model_files_operations");
    nndl::Network<double> pooled(Shape::image(2000, 2000, 1));
    pooled.add(nndl::make_max_pool<double>(pooled.output_shape(), nndl::Window(1000), nndl::Stride(1)));
    save_above_bounds(pooled, dir / "pooled.npz");
    CHECK(nndl::max_model_operations() == nndl::default_max_model_operations);
    const std::string message = load_error(dir / "pooled.npz");
    CHECK(message.find("layer1 ('max_pool2d'): one example costs 16032016000000 operations in this layer, more than the "
                       "17179869184 a loaded model may use; nndl::set_max_model_operations raises the bound") !=
          std::string::npos);
    // A 2^20 x 2^20 window over a padded 1x1 image: 4096 x 4096 outputs of 2^40 comparisons
    // each; the count saturates instead of wrapping to a small number.
    nndl::Network<double> wrapped(Shape::image(1, 1, 1));
    const nndl::Index side = nndl::Index(1) << 20;
    wrapped.add(nndl::make_max_pool<double>(wrapped.output_shape(), nndl::Window(side), nndl::Stride(1),
                                            nndl::Padding::amounts(side - 1, 4095, side - 1, 4095)));
    CHECK(wrapped.layer(0).operations() == std::numeric_limits<nndl::Index>::max());
    save_above_bounds(wrapped, dir / "wrapped.npz");
    CHECK(load_error(dir / "wrapped.npz").find("one example costs 9223372036854775807 operations") != std::string::npos);
    // Operations add up over the layers: a 3-4-2 dense network costs 12 + 8 multiply-adds.
    nndl::Network<double> small({3, 4, 2}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::save_network(small, dir / "small.npz");
    nndl::set_max_model_operations(19);
    const std::string lowered = load_error(dir / "small.npz");
    nndl::set_max_model_operations(20);
    CHECK(nndl::load_network<double>(dir / "small.npz").depth() == 2);
    nndl::set_max_model_operations(nndl::default_max_model_operations);
    CHECK(lowered.find("layer2 ('dense'): one example costs 8 operations in this layer and 12 before it, more than "
                       "the 19") != std::string::npos);
    CHECK_THROWS_AS(nndl::set_max_model_operations(0), nndl::InvalidArgument);
    fs::remove_all(dir);
}

TEST_CASE("model files: a file name reaches messages escaped") {
    // A name from a command line may hold a terminal escape; messages print it as text.
    const fs::path dir = nndl_test::scratch_dir("test_model_files_names");
    const fs::path missing = dir / "no\x1b[2Jsuch.npz";
    const fs::path junk = dir / "junk\x1b[2J.npz";
    std::ofstream(junk) << "not an archive";
    const fs::path csv = dir / "empty\x1b[2J.csv";
    std::ofstream(csv).flush();
    const std::vector<std::string> messages = {
        nndl_test::message_of<nndl::FileError>([&] { nndl::read_npz(missing); }),
        load_error(missing),
        load_error(junk),
        nndl_test::message_of<nndl::FileError>([&] { nndl::read_csv<double>(csv, nndl::CsvOptions{}); }),
    };
    for (const std::string& message : messages) {
        INFO(message);
        CHECK(message.find('\x1b') == std::string::npos);
        CHECK(message.find("\\x1b[2J") != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("model files: a word read from a file reaches summary() escaped") {
    // A normalization's "method" is free text that a model file carries; a terminal escape
    // in it is printed as text.
    const fs::path dir = nndl_test::scratch_dir("test_model_files_summary");
    nndl::Network<double> net(Shape(2));
    net.add(std::make_unique<nndl::Normalization<double>>(Shape(2), nndl_test::rows<double>({{0}, {1}}),
                                                          nndl_test::rows<double>({{1}, {2}}), false,
                                                          "\x1b[2Jstandardize\\"));
    nndl::save_network(net, dir / "normalized.npz");
    const std::string summary = nndl::load_network<double>(dir / "normalized.npz").summary();
    INFO(summary);
    CHECK(summary.find("method=\\x1b[2Jstandardize\\\\)") != std::string::npos);
    CHECK(summary.find('\x1b') == std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("layers/all.hpp includes every header that registers a layer type") {
    // load_onnx, nndl::compiled and a program that loads any model file include
    // layers/all.hpp, so a layer header missing there would be a type they cannot build.
    const fs::path layers = fs::path(__FILE__).parent_path().parent_path() / "include" / "nndl" / "layers";
    const auto text_of = [](const fs::path& file) {
        std::ifstream in(file);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string umbrella = text_of(layers / "all.hpp");
    REQUIRE(!umbrella.empty());
    int registering = 0;
    for (const auto& entry : fs::directory_iterator(layers)) {
        const std::string text = text_of(entry.path());
        const bool registers = text.find("register_builtin_layer(") != std::string::npos &&
                               text.find("inline bool register_builtin_layer(") == std::string::npos;
        if (registers) {
            ++registering;
            const std::string name = entry.path().filename().string();
            CHECK_MESSAGE(umbrella.find("#include \"" + name + "\"") != std::string::npos, name);
        }
    }
    CHECK(registering >= 10);  // conv2d, pooling, batch_norm, the recurrent layers, ...
    // This program includes nndl/all.hpp, which includes layers/all.hpp: each type is known.
    const std::vector<std::string> types = nndl::detail::BuiltinLayers::instance().names();
    for (const char* expected : {"conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool", "batch_norm", "simple_rnn",
                                 "lstm", "gru", "embedding", "sequence_dense", "random_shift_flip", "upsample2d"}) {
        CHECK_MESSAGE(std::count(types.begin(), types.end(), expected) == 1, expected);
    }
}
