// Embedding: token indices to learned vectors; a lookup forward, dE against numerical
// gradients, refused indices, and a bit-exact save/load inside a sequence network.
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/io/model.hpp>
#include <nndl/layers/embedding.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/network.hpp>

#include <cmath>
#include <filesystem>

TEST_CASE("Embedding: each step becomes its token's column of E") {
    nndl::Embedding<double> embedding(nndl::Shape::sequence(3, 1), 4, 2);
    CHECK(embedding.output_shape() == nndl::Shape::sequence(3, 2));
    nndl::Matrix<double>& table = *embedding.parameters()[0].value;
    table = nndl_test::rows<double>({{0.0, 1.0, 2.0, 3.0}, {10.0, 11.0, 12.0, 13.0}});
    const nndl::Matrix<double> tokens = nndl_test::rows<double>({{3, 0}, {1, 0}, {3, 2}});
    const nndl::Matrix<double> expected =
        nndl_test::rows<double>({{3, 0}, {13, 10}, {1, 0}, {11, 10}, {3, 2}, {13, 12}});
    CHECK(embedding.forward(tokens, nndl::Mode::training) == expected);
    nndl::Matrix<double> inferred;
    embedding.infer(tokens, inferred);
    CHECK(inferred == expected);
    // dE: each step's gradient added at its token; token 3 appears twice in example 0.
    const nndl::Matrix<double> gradient = nndl_test::rows<double>({{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}});
    const nndl::Matrix<double> input_gradient = embedding.backward(gradient, true);
    CHECK(input_gradient == nndl::Matrix<double>::Zero(3, 2));
    CHECK(*embedding.parameters()[0].gradient ==
          nndl_test::rows<double>({{2 + 6, 5, 10, 1 + 9}, {4 + 8, 7, 12, 3 + 11}}));
}

TEST_CASE("Embedding: dE matches numerical gradients; what is not a token is refused") {
    nndl::Embedding<double> embedding(nndl::Shape::sequence(4, 1), 5, 3, 7);
    const nndl::Matrix<double> tokens = nndl_test::rows<double>({{0, 4, 2}, {4, 4, 1}, {2, 3, 0}, {1, 1, 1}});
    nndl::GradientCheckOptions options;
    options.check_input = false;  // indices have no gradient
    const auto result = nndl::check_layer_gradients(embedding, tokens, options);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
    CHECK(result.entries_checked == 15);
    for (const double bad : {-1.0, 5.0, 2.5, std::nan("")}) {
        nndl::Matrix<double> wrong = tokens;
        wrong(2, 1) = bad;
        const std::string message =
            nndl_test::message_of<nndl::InvalidArgument>([&] { embedding.forward(wrong, nndl::Mode::training); });
        INFO(message);
        CHECK(message.find("Embedding::forward: step 2 of example 1 holds ") == 0);
        CHECK(message.find(", expected a token index, a whole number in [0, 5)") != std::string::npos);
        CHECK_FALSE(embedding.has_batch());
    }
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::Matrix<double> almost = tokens;
              almost(0, 0) = 4.9999999;
              embedding.forward(almost, nndl::Mode::training);
          }).find("holds 4.9999998999999997, expected") != std::string::npos);
    // A float table of 2^24 + 1 tokens: the last token, 2^24, is a token.
    nndl::Embedding<float> large(nndl::Shape::sequence(1, 1), (1 << 24) + 1, 1);
    nndl::Matrix<float> last(1, 1);
    last(0, 0) = 16777216.0f;
    CHECK(large.forward(last, nndl::Mode::training)(0, 0) == (*large.parameters()[0].value)(0, 1 << 24));
    CHECK_THROWS_AS(nndl::Embedding<double>(nndl::Shape::sequence(4, 2), 5, 3), nndl::InvalidArgument);
    CHECK_THROWS_AS(nndl::Embedding<double>(nndl::Shape::sequence(4, 1), 0, 3), nndl::InvalidArgument);
}

TEST_CASE("Embedding: a character model's layers save and load bit-exactly") {
    const std::filesystem::path dir = nndl_test::scratch_dir("test_embedding");
    nndl::Network<double> net(nndl::Shape::sequence(6, 1));
    net.add(std::make_unique<nndl::Embedding<double>>(net.output_shape(), 27, 8, 3));
    net.add(std::make_unique<nndl::LSTM<double>>(net.output_shape(), 5, false, 4));
    net.add(nndl::make_dense<double>(5, 27, nndl::Activation::softmax));
    nndl::NumpyRandom random(5);
    for (auto& p : net.parameters()) {
        *p.value = random.randn(p.value->rows(), p.value->cols());
    }
    nndl::save_network(net, dir / "chars.npz");
    nndl::Network<double> loaded = nndl::load_network<double>(dir / "chars.npz");
    CHECK(loaded.layer(0).settings().integer("vocabulary") == 27);
    const auto saved = net.parameters(), read = loaded.parameters();
    REQUIRE(saved.size() == read.size());
    for (std::size_t k = 0; k < saved.size(); ++k) {
        CHECK(*saved[k].value == *read[k].value);
    }
    nndl::Matrix<double> tokens(6, 4);
    for (nndl::Index i = 0; i < tokens.size(); ++i) {
        tokens(i) = static_cast<double>(random.below(27));
    }
    CHECK(net.predict_proba(tokens) == loaded.predict_proba(tokens));
    std::filesystem::remove_all(dir);
}
