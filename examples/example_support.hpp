#pragma once
// What nndl's example programs share, each part in a small header of its own, compiled
// once for all of them in the nndl_example_support library (examples/support/):
//   command_line.hpp   Options (CLI11), UsageError, run_main (one-line errors, exit code 2), data_path
//   course_output.hpp  the course's print format (python_float, cost and accuracy lines), progress
//   charts.hpp         line charts through gnuplot, their numbers as CSV
//   output_files.hpp   Files: what a program reads and writes, checked before any work
// Not part of the library.

#include "charts.hpp"
#include "command_line.hpp"
#include "course_output.hpp"
#include "output_files.hpp"
#include "terminal_text.hpp"

#include <nndl/nndl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
