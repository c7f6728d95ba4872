#pragma once
// What the course-2 programs share: full-batch gradient descent printing the cost where
// the course prints it, the accuracy lines, and the decision-boundary picture.
#include "example_images.hpp"

#include <nndl/data/planar.hpp>

namespace examples {

/// Full-batch gradient descent printing `Cost after iteration i: C` where i % every == 0
/// (not after the last iteration, as the course); an infinite cost does not stop it.
inline void course2_fit(nndl::Network<double>& network, const nndl::PointSet<double>& train, double rate,
                        long iterations, long every) {
    nndl::GradientDescent<double> optimizer(rate);
    Progress progress("training");
    nndl::TrainOptions fit_options = course_fit_options(progress, false);
    fit_options.record_every = 0;
    fit_options.allow_infinite_loss = true;  // a saturated sigmoid: the course prints inf and goes on
    const auto show_progress = fit_options.on_epoch_end;
    fit_options.on_epoch_end = [&](const nndl::Progress& p) {
        if (p.epoch % every == 0) {
            print_cost(p.epoch, p.loss);
        }
        return show_progress(p);
    };
    network.fit(train.x, train.y, optimizer, iterations, fit_options);
}

/// The decision boundary over the points, with a margin of a fifth of their spread.
inline void plot_boundary(const nndl::Network<double>& network, const nndl::PointSet<double>& points,
                          const std::string& file) {
    const double spread = (points.x.rowwise().maxCoeff() - points.x.rowwise().minCoeff()).maxCoeff();
    nndl::write_png(file, decision_boundary<double>(
                              points.x, points.y,
                              [&](const nndl::Matrix<double>& grid) { return network.predict_proba(grid); }, 480,
                              0.2 * spread));
    std::cerr << "wrote " << terminal_safe(file) << '\n';
}

/// The course's closing lines (`On the train set:`, `Accuracy: F`, the same for the test
/// set) and, with --plot, the decision boundary over the training points.
inline void course2_report(const nndl::Network<double>& network, const nndl::PointSet<double>& train,
                           const nndl::PointSet<double>& test, const Options& options) {
    std::cout << "On the train set:\n";
    print_accuracy("", network.accuracy(train.x, train.y));
    std::cout << "On the test set:\n";
    print_accuracy("", network.accuracy(test.x, test.y));
    if (options.has("plot")) {
        plot_boundary(network, train, options.text("plot"));
    }
}

}  // namespace examples
