// A typical user program, for measuring compile times (benchmarks/compile_time/run.sh):
// a CSV table in, a scaler, a network built layer by layer, Adam with mini-batches and
// early stopping, save, load, predict. NNDL_TWO_SCALARS also trains a float copy, as a
// program that uses both precisions does.
#include <nndl/nndl.hpp>

#include <iostream>

int main(int argc, char** argv) {
    const std::string csv = argc > 1 ? argv[1] : "data/auto_mpg/auto_mpg.csv";
    const auto table = nndl::read_csv<double>(csv);
    const auto split = nndl::train_test_split(table.x, table.y, 0.2, 1);
    const auto inputs = nndl::Scaler<double>::standardize(split.x_train);
    nndl::NumpyRandom random(1);
    nndl::Network<double> net(nndl::Shape(table.x.rows()));
    net.add(inputs.layer());
    net.add_dense(32, nndl::Activation::relu, nndl::Init::he, random);
    net.add_dropout(0.9);
    net.add_dense(1, nndl::Activation::identity, nndl::Init::xavier, random);
    nndl::Adam<double> adam(0.003);
    nndl::TrainOptions options;
    options.epochs = 50;
    options.validation_split = 0.1;
    options.early_stopping.enabled = true;
    options.on_epoch_end = nndl::print_progress(std::cerr, 10);
    nndl::train(net, split.x_train, split.y_train, adam, options);
    std::cout << net.summary();
    nndl::save_network(net, "user_program.npz");
    const auto loaded = nndl::load_network<double>("user_program.npz");
    std::cout << "test R^2 " << nndl::r2_score(loaded.predict(split.x_test), split.y_test) << '\n';
#ifdef NNDL_TWO_SCALARS
    nndl::Network<float> small({static_cast<int>(table.x.rows()), 16, 1}, nndl::Activation::relu,
                               nndl::Activation::identity, nndl::Init::he, 2);
    nndl::Adam<float> adam32(0.003f);
    nndl::train(small, split.x_train.cast<float>().eval(), split.y_train.cast<float>().eval(), adam32, options);
    std::cout << "float R^2 " << nndl::r2_score<float>(small.predict(split.x_test.cast<float>().eval()),
                                                       split.y_test.cast<float>().eval())
              << '\n';
#endif
    return 0;
}
