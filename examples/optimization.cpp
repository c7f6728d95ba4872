// The course's "Optimization Methods" assignment (course 2, week 2): a 2-5-2-1 network
// (ReLU, ReLU, sigmoid) on scikit-learn's moons, trained on mini-batches of 64 with
// gradient descent, momentum or Adam, optionally with a decaying learning rate.
#include "course2_support.hpp"

#include <cstdio>

namespace {

/// The course's three optimizers, built by name through nndl's optimizer table
/// (optim/registry.hpp) with the settings each takes.
std::unique_ptr<nndl::Optimizer<double>> optimizer_named(const std::string& name, double rate, double beta, double beta1,
                                                         double beta2, double epsilon) {
    nndl::Settings settings;
    settings.set("learning_rate", rate);
    if (name == "momentum") {
        settings.set("beta", beta);
    } else if (name == "adam") {
        settings.set("beta1", beta1).set("beta2", beta2).set("epsilon", epsilon);
    } else if (name != "gd") {
        throw examples::UsageError("--optimizer must be gd, momentum or adam, got '" + name + "'");
    }
    return nndl::make_optimizer<double>(name, settings);
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("optimization", [&] {
        examples::Options options("optimization",
                                  "Trains the course's 2-5-2-1 network on the moons (seed 3, 300 points) with\n"
                                  "mini-batches; prints the cost every 1000 epochs (and the learning rate when it\n"
                                  "decays) and the training accuracy.");
        options.value("optimizer", "NAME", "gd, momentum or adam", "gd")
            .value("decay", "NAME", "none, inverse (update_lr: every epoch) or scheduled (schedule_lr_decay)", "none")
            .value("learning-rate", "R", "initial learning rate", "0.0007")
            .value("decay-rate", "R", "with --decay: the decay rate", "1")
            .value("time-interval", "N", "with --decay scheduled: epochs between decays", "1000")
            .value("epochs", "N", "passes over the 300 points", "5000")
            .value("batch-size", "N", "examples per mini-batch", "64")
            .value("beta", "B", "momentum's beta", "0.9")
            .value("beta1", "B", "Adam's beta1", "0.9")
            .value("beta2", "B", "Adam's beta2", "0.999")
            .value("epsilon", "E", "Adam's epsilon", "1e-8")
            .value("plot", "FILE.png", "decision boundary over the points");
        options.parse(argc, argv);
        examples::Files().writes_png("--plot", options.text("plot")).check();
        const std::string decay = options.text("decay");
        if (decay != "none" && decay != "inverse" && decay != "scheduled") {
            throw examples::UsageError("--decay must be none, inverse or scheduled, got '" + decay + "'");
        }
        const std::string name = options.text("optimizer");
        const std::pair<const char*, bool> applies[] = {
            {"decay-rate", decay != "none"}, {"time-interval", decay == "scheduled"}, {"beta", name == "momentum"},
            {"beta1", name == "adam"}, {"beta2", name == "adam"}, {"epsilon", name == "adam"}};
        for (const auto& [option, used] : applies) {
            if (options.has(option) && !used) {
                throw examples::UsageError(std::string("--") + option + " does not apply to --optimizer " + name +
                                           (decay == "none" ? "" : " --decay " + decay));
            }
        }
        if (options.number("decay-rate", false) < 0.0) {
            throw examples::UsageError("--decay-rate must be at least 0, got " + options.text("decay-rate"));
        }
        for (const char* probability : {"beta", "beta1", "beta2"}) {
            if (options.number(probability, false) < 0.0 || options.number(probability, false) >= 1.0) {
                throw examples::UsageError(std::string("--") + probability + " must be in [0, 1), got " +
                                           options.text(probability));
            }
        }
        const double rate = options.number("learning-rate");
        auto optimizer = optimizer_named(options.text("optimizer"), rate, options.number("beta", false),
                                         options.number("beta1", false), options.number("beta2", false),
                                         options.number("epsilon"));
        nndl::TrainOptions train_options;
        train_options.epochs = options.integer("epochs", 1);
        train_options.batch_size = options.integer("batch-size", 1);
        train_options.seed = 10;  // the course's counter: epoch i shuffles with seed 11 + i
        train_options.seed_every_epoch = true;
        train_options.record_every = 0;
        if (decay != "none") {
            train_options.schedule.kind = decay == "inverse" ? nndl::LearningRateSchedule::Kind::inverse_time
                                                             : nndl::LearningRateSchedule::Kind::scheduled;
            train_options.schedule.decay_rate = options.number("decay-rate", false);
            train_options.schedule.decay_epochs =
                decay == "inverse" ? 1.0 : static_cast<double>(options.integer("time-interval", 1));
            train_options.schedule.lag = 1;  // the rate computed after epoch i trains epoch i + 1
            train_options.schedule.validate("optimization");
        }

        nndl::NumpyRandom moons(3);
        const auto points = nndl::make_moons<double>(300, 0.2, moons);
        nndl::Network<double> network({2, 5, 2, 1},
                                      nndl::standard_activations(3, nndl::Activation::relu, nndl::Activation::sigmoid),
                                      {nndl::Init::he}, 3);
        network.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
        examples::Progress progress("epoch");
        train_options.on_epoch_end = [&](const nndl::Progress& p) {
            if (p.epoch % 1000 == 0) {
                std::printf("Cost after epoch %ld: %f\n", p.epoch, p.loss);
                if (decay != "none") {
                    std::printf("learning rate after epoch %ld: %f\n", p.epoch,
                                train_options.schedule.at(rate, p.epoch + 1));
                }
                std::fflush(stdout);
            }
            progress.update(p.epoch + 1, p.epochs, p.loss);
            return true;
        };
        nndl::train(network, points.x, points.y, *optimizer, train_options);
        examples::print_accuracy("", network.accuracy(points.x, points.y));
        if (options.has("plot")) {
            examples::plot_boundary(network, points, options.text("plot"));
        }
        return 0;
    });
}
