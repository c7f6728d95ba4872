// The course's "Gradient Checking" assignment (course 2, week 1): a 1-D check of
// J(theta) = theta * x, then the N-D check of a 4-5-3-1 network (ReLU, ReLU, sigmoid)
// with the course's deliberately buggy backward pass and with nndl's, which is right.
#include "example_support.hpp"

#include <nndl/gradient_check.hpp>

namespace {

constexpr double threshold = 2e-7;  // the course's verdict: a larger difference is a mistake

void print_verdict(double difference) {
    std::cout << (difference > threshold ? "There is a mistake in the backward propagation! difference = "
                                         : "Your backward propagation works perfectly fine! difference = ")
              << examples::python_float(difference) << '\n';
}

/// The parameters (or their gradients) as one vector in the course's order: W1 row by
/// row, b1, W2, b2, ...
nndl::Vector<double> stacked(nndl::Network<double>& network, bool gradients) {
    std::vector<double> values;
    for (const auto& p : network.parameters()) {
        const nndl::Matrix<double>& m = gradients ? *p.gradient : *p.value;
        for (nndl::Index i = 0; i < m.rows(); ++i) {
            for (nndl::Index j = 0; j < m.cols(); ++j) {
                values.push_back(m(i, j));
            }
        }
    }
    return Eigen::Map<nndl::Vector<double>>(values.data(), static_cast<nndl::Index>(values.size()));
}

void unstack(nndl::Network<double>& network, const nndl::Vector<double>& theta) {
    nndl::Index k = 0;
    for (const auto& p : network.parameters()) {
        for (nndl::Index i = 0; i < p.value->rows(); ++i) {
            for (nndl::Index j = 0; j < p.value->cols(); ++j) {
                (*p.value)(i, j) = theta(k++);
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("gradient_checking", [&] {
        examples::Options options("gradient_checking",
                                  "The course's gradient checks: J(theta) = theta * x in 1-D, then a 4-5-3-1 network\n"
                                  "whose backward pass has the course's two planted bugs (dW2 doubled, db1 times 4),\n"
                                  "and the same network with nndl's backward pass. Prints each difference\n"
                                  "||grad - gradapprox|| / (||grad|| + ||gradapprox||) and the verdict (threshold 2e-7).");
        options.value("epsilon", "E", "the step of the two-sided differences", "1e-7");
        options.parse(argc, argv);
        const double epsilon = options.number("epsilon");

        // 1-D: J(theta) = theta * x, dJ/dtheta = x.
        std::cout << "J = " << 4.0 * 2.0 << '\n';  // theta = 4, x = 2
        const double x1 = 3.0;
        std::cout << "dtheta = " << x1 << '\n';
        const nndl::Vector<double> theta1 = nndl::Vector<double>::Constant(1, 4.0);
        const auto one = nndl::check_vector_gradient([&](const nndl::Vector<double>& t) { return t(0) * x1; }, theta1,
                                                     nndl::Vector<double>::Constant(1, x1), epsilon);
        print_verdict(one.difference);

        // N-D: seed(1); X = randn(4, 3), Y = [1, 1, 0]; then W1, b1, W2, b2, W3, b3 drawn in that order.
        nndl::NumpyRandom random(1);
        const nndl::Matrix<double> x = random.randn(4, 3);
        nndl::Matrix<double> y(1, 3);
        y << 1, 1, 0;
        nndl::Network<double> network{nndl::Shape(4)};
        for (const auto& [units, activation] : {std::pair{5, nndl::Activation::relu}, std::pair{3, nndl::Activation::relu},
                                                std::pair{1, nndl::Activation::sigmoid}}) {
            auto dense = nndl::make_dense<double>(network.output_size(), units, activation);
            *dense->parameters()[0].value = random.randn(units, network.output_size());
            *dense->parameters()[1].value = random.randn(units, 1);
            network.add(std::move(dense));
        }
        network.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
        const nndl::Vector<double> theta = stacked(network, false);
        const auto cost = [&](const nndl::Vector<double>& t) {
            unstack(network, t);
            network.forward(x, nndl::Mode::training);
            return static_cast<double>(network.cost(y));
        };
        network.forward(x, nndl::Mode::training);
        network.backward(y);
        auto parameters = network.parameters();  // W1, b1, W2, b2, W3, b3
        const nndl::Vector<double> right = stacked(network, true);
        *parameters[2].gradient *= 2.0;  // the course's planted bugs
        *parameters[1].gradient *= 4.0;
        const nndl::Vector<double> buggy = stacked(network, true);
        print_verdict(nndl::check_vector_gradient(cost, theta, buggy, epsilon).difference);
        print_verdict(nndl::check_vector_gradient(cost, theta, right, epsilon).difference);
        unstack(network, theta);
        network.release_batch();
        return 0;
    });
}
