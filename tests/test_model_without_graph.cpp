// A program that includes the Graph class but not <nndl/graph.hpp> (so not the model-file
// format of graphs, io/graph_model.hpp): save_network and load_network refuse a graph, naming
// the header, instead of writing or reading it wrong. Headers only: nndl::compiled holds the
// graph format, and linking it would register it.
#include <nndl/graph_layer.hpp>
#include <nndl/nndl.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

TEST_CASE("without <nndl/graph.hpp>, model files refuse graphs and name the header") {
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("nndl_without_graph_" + std::to_string(::getpid()) + ".npz");
    auto graph = std::make_unique<nndl::Graph<double>>(nndl::Shape(3));
    graph->add(nndl::make_dense<double>(3, 2, nndl::Activation::sigmoid), graph->input());
    nndl::Network<double> network(nndl::Shape(3));
    network.add(std::move(graph));
    CHECK_THROWS_WITH_AS(nndl::save_network(network, path),
                         doctest::Contains("is a graph; a program writes graphs where it includes <nndl/graph.hpp>"),
                         nndl::InvalidArgument);
    CHECK_FALSE(std::filesystem::exists(path));

    // The file a program with <nndl/graph.hpp> writes for such a network (format 3).
    const std::string architecture =
        R"({"format":"nndl","version":3,"scalar":"float64","input":[3,1,1],"loss":"BinaryCrossEntropy","l2":0.0,)"
        R"("layers":[{"type":"graph","input":[3,1,1],"inputs":[{"name":"input","shape":[3,1,1]}],)"
        R"("nodes":[{"type":"dense","input":[3,1,1],"settings":{"units":2,"activation":"sigmoid"},)"
        R"("parameters":["W","b"],"state":[],"name":"dense_1","from":["input"]}],"outputs":["dense_1"]}]})";
    nndl::write_npz(path,
                    {{"architecture", nndl::to_npy(architecture)},
                     {"layer1.dense_1.W", nndl::to_npy(nndl::Matrix<double>::Zero(2, 3).eval())},
                     {"layer1.dense_1.b", nndl::to_npy(nndl::Matrix<double>::Zero(2, 1).eval())}},
                    "test");
    CHECK_THROWS_WITH_AS(nndl::load_network<double>(path),
                         doctest::Contains("it is a graph; a program reads graphs where it includes <nndl/graph.hpp>"),
                         nndl::FileError);
    std::filesystem::remove(path);
}
