// GRU: PyTorch's nn.GRU values (computed by tools/recurrent_reference.py, float64, from the
// same NumPy draws), backpropagation through time against numerical gradients, the
// recurrent state, and a bit-exact save/load round trip.
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/io/model.hpp>
#include <nndl/layers/gru.hpp>
#include <nndl/network.hpp>

#include <filesystem>

TEST_CASE("GRU: forward and backward give PyTorch's nn.GRU values") {
    // np.random.seed(2); Wx, Wh, bx, bh, x (n, m, T), h0, P as tools/recurrent_reference.py draws them.
    const nndl::Index n = 3, u = 4, m = 2, steps = 5;
    nndl::NumpyRandom random(2);
    nndl::GRU<double> gru(nndl::Shape::sequence(steps, n), u, true);
    const auto p = gru.parameters();
    *p[0].value = random.randn(3 * u, n);
    *p[1].value = random.randn(3 * u, u);
    *p[2].value = random.randn(3 * u, 1);
    *p[3].value = random.randn(3 * u, 1);
    const nndl::Matrix<double> x = random.randn_sequence(n, m, steps);
    gru.set_initial_state(random.randn(u, m));
    const nndl::Matrix<double> projection = random.randn_sequence(u, m, steps);
    const nndl::Matrix<double> h = gru.forward(x, nndl::Mode::training);
    const auto close = [](double actual, double expected) { return doctest::Approx(expected).epsilon(1e-13) == actual; };
    CHECK(close(h(4 * u + 1, 0), 0.9984554210944506));
    CHECK(close(h(2 * u + 3, 1), 0.9762020110598518));
    CHECK(close(h(0 * u + 0, 1), 0.2697699520735545));
    CHECK(close((h.array() * projection.array()).sum(), 2.0222322739908507));
    const nndl::Matrix<double> dx = gru.backward(projection, true);
    CHECK(close((*p[0].gradient)(5, 2), -0.18767208578913658));
    CHECK(close((*p[1].gradient)(10, 1), 0.6899593539889397));
    CHECK(close((*p[2].gradient)(9, 0), 0.23024179235767167));
    CHECK(close((*p[3].gradient)(9, 0), 0.08741307790577807));
    CHECK(close(dx(3 * n + 2, 1), -0.3764919313384337));
    CHECK(close(gru.initial_state_gradient()(2, 0), -1.0785114845358144));
}

TEST_CASE("GRU: backpropagation through time matches numerical gradients") {
    nndl::NumpyRandom random(8);
    const nndl::Matrix<double> x = random.randn_sequence(3, 4, 5);
    for (const bool sequences : {true, false}) {
        nndl::GRU<double> layer(nndl::Shape::sequence(5, 3), 4, sequences, 2);
        for (auto& parameter : layer.parameters()) {
            *parameter.value = random.randn(parameter.value->rows(), parameter.value->cols());
        }
        layer.set_initial_state(random.randn(4, 4) * 0.5);
        const auto result = nndl::check_layer_gradients(layer, x);
        INFO(result.summary());
        CHECK(result.passed(1e-7));
        CHECK(result.entries_checked == 12 * 3 + 12 * 4 + 12 + 12 + 5 * 3 * 4);
    }
}

TEST_CASE("GRU: a carried state and step() agree with one long pass; a network saves and loads bit-exactly") {
    nndl::NumpyRandom random(6);
    const nndl::Matrix<double> x = random.randn_sequence(2, 3, 6);
    nndl::GRU<double> whole(nndl::Shape::sequence(6, 2), 3, true, 5);
    *whole.parameters()[0].value *= 80.0;
    *whole.parameters()[1].value *= 80.0;
    const nndl::Matrix<double> expected = whole.forward(x, nndl::Mode::training);
    nndl::GRU<double> pieces(nndl::Shape::sequence(3, 2), 3, true, 5);
    *pieces.parameters()[0].value = *whole.parameters()[0].value;
    *pieces.parameters()[1].value = *whole.parameters()[1].value;
    pieces.set_carry(true);
    const nndl::Matrix<double> first = x.topRows(6), second = x.bottomRows(6);
    CHECK(pieces.forward(first, nndl::Mode::training) == expected.topRows(9));
    CHECK(pieces.forward(second, nndl::Mode::training) == expected.bottomRows(9));
    pieces.reset_state();
    for (nndl::Index t = 0; t < 6; ++t) {
        CHECK(pieces.step(x.middleRows(t * 2, 2)) == expected.middleRows(t * 3, 3));
    }

    const std::filesystem::path dir = nndl_test::scratch_dir("test_gru");
    nndl::Network<double> net(nndl::Shape::sequence(6, 2));
    net.add(std::make_unique<nndl::GRU<double>>(net.output_shape(), 5, false, 3));
    net.add(nndl::make_dense<double>(5, 1, nndl::Activation::identity));
    for (auto& parameter : net.parameters()) {
        *parameter.value = random.randn(parameter.value->rows(), parameter.value->cols());
    }
    nndl::save_network(net, dir / "gru.npz");
    nndl::Network<double> loaded = nndl::load_network<double>(dir / "gru.npz");
    const auto saved = net.parameters(), read = loaded.parameters();
    REQUIRE(saved.size() == read.size());
    for (std::size_t k = 0; k < saved.size(); ++k) {
        CHECK(*saved[k].value == *read[k].value);
    }
    CHECK(net.predict(x) == loaded.predict(x));
    std::filesystem::remove_all(dir);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::GRU<double>(nndl::Shape(3), 2); }) ==
          "GRU::GRU: the input is 3, expected a sequence (Shape::sequence(steps, features))");
}
