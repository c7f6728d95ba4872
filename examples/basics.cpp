// The first assignment ("Python basics with NumPy") with nndl's helpers.
#include "example_support.hpp"

#include <nndl/basics.hpp>

int main(int argc, char** argv) {
    return examples::run_main("basics", [&] {
        examples::Options options("basics", "Prints the outputs of the course's first assignment, computed with nndl.");
        options.parse(argc, argv);

        const Eigen::IOFormat numpy(8, 0, " ", "\n ", "[", "]", "[", "]");
        nndl::Matrix<double> x(1, 3);
        x << 1, 2, 3;
        std::cout << std::setprecision(16) << "sigmoid(1) = " << nndl::sigmoid(1.0) << '\n';
        std::cout << "sigmoid([1, 2, 3]) = " << nndl::sigmoid(x).format(numpy) << '\n';
        std::cout << "sigmoid_derivative([1, 2, 3]) = " << nndl::sigmoid_derivative(x).format(numpy) << '\n';

        nndl::Matrix<double> rows(2, 3);
        rows << 0, 3, 4, 1, 6, 4;
        std::cout << "normalize_rows([[0, 3, 4], [1, 6, 4]]) =\n" << nndl::normalize_rows(rows).format(numpy) << '\n';

        nndl::Matrix<double> scores(2, 5);
        scores << 9, 2, 5, 0, 0, 7, 5, 0, 0, 0;
        std::cout << "softmax of the rows of [[9, 2, 5, 0, 0], [7, 5, 0, 0, 0]] =\n"
                  << nndl::softmax_rows(scores).format(Eigen::IOFormat(8, 0, " ", "\n ", "[", "]", "[", "]")) << '\n';

        nndl::Matrix<double> yhat(1, 5);
        yhat << .9, .2, .1, .4, .9;
        nndl::Matrix<double> y(1, 5);
        y << 1, 0, 0, 1, 1;
        std::cout << "L1 = " << nndl::l1_loss(yhat, y) << '\n';
        std::cout << "L2 = " << nndl::l2_loss(yhat, y) << '\n';

        nndl::ImageArray<double> image(3, 3, 2);
        const double values[18] = {0.67826139, 0.29380381, 0.90714982, 0.52835647, 0.4215251,  0.45017551,
                                   0.92814219, 0.96677647, 0.85304703, 0.52351845, 0.19981397, 0.27417313,
                                   0.60659855, 0.00533165, 0.10820313, 0.49978937, 0.34144279, 0.94630077};
        image.values.assign(values, values + 18);
        const auto column = nndl::image2vector(image);
        std::cout << "image2vector(image) has shape (" << column.rows() << ", 1):\n"
                  << column.transpose().format(numpy) << "^T\n";
        return 0;
    });
}
