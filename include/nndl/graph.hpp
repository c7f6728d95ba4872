#pragma once
// Graphs: layers that branch and merge (the class: graph_layer.hpp), with what model files
// need to save and load them (io/graph_model.hpp). What a program that builds or loads
// graphs includes.

#include "graph_layer.hpp"
#include "io/graph_model.hpp"
