// Data utilities: CSV tables with options, scalers and the Normalization layer that
// carries them in a model file, and the seeded train/test split.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <nndl/data/csv.hpp>
#include <nndl/data/planar.hpp>
#include <nndl/data/scalers.hpp>
#include <nndl/data/split.hpp>
#include <nndl/gradient_check.hpp>
#include <nndl/training.hpp>
#include <nndl/io/model.hpp>
#include <nndl/network.hpp>
#include <nndl/optim/optimizers.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;
using nndl_test::rows;

namespace {

nndl::CsvTable<double> parse(const std::string& text, const nndl::CsvOptions& options = {}) {
    std::istringstream in(text);
    return nndl::parse_csv<double>(in, "table.csv", options);
}

template <class Exception>
std::string error_of(const std::string& text, const nndl::CsvOptions& options = {}) {
    return nndl_test::message_of<Exception>([&] { parse(text, options); });
}

}  // namespace

TEST_CASE("csv: a header is detected; the last column is the target by default") {
    const auto table = parse("x1,x2,y\n1,2,0\n3,4,1\n");
    CHECK(table.x == rows<double>({{1, 3}, {2, 4}}));
    CHECK(table.y == rows<double>({{0, 1}}));
    CHECK(table.feature_names == std::vector<std::string>{"x1", "x2"});
    CHECK(table.target_names == std::vector<std::string>{"y"});
    // No header: the first line is data and the columns get numbers for names.
    const auto bare = parse("1,2,0\n3,4,1\n");
    CHECK(bare.x.cols() == 2);
    CHECK(bare.feature_names == std::vector<std::string>{"column 1", "column 2"});
}

TEST_CASE("csv: a header written with quotes (spreadsheets, pandas) names the columns without them") {
    nndl::CsvOptions named;
    named.target_names = {"miles \"per\" gallon"};
    const auto table = parse("\"weight\", \"x\"\"; y\",\"miles \"\"per\"\" gallon\"\n1,2,3\n", named);
    CHECK(table.feature_names == std::vector<std::string>{"weight", "x\"; y"});
    CHECK(table.target_names == std::vector<std::string>{"miles \"per\" gallon"});
    CHECK(table.y == rows<double>({{3}}));
    // A quoted name holding the delimiter is named as the header's problem, not as a short data line.
    CHECK(error_of<nndl::FileError>("a,\"price, USD\",y\n1,2,3\n") ==
          "read_csv: table.csv:1: the header's cell '\"price' opens a quoted name that holds the delimiter ','; "
          "read_csv does not split inside quotes: rename the column");
    // Only a name enclosed in quotes loses them; a quote inside a bare name stays.
    CHECK(parse("a\"b,c\",y\n1,2,3\n").feature_names == std::vector<std::string>{"a\"b", "c\""});
}

TEST_CASE("csv: delimiter, header yes/no, several targets by position or by name, no targets") {
    nndl::CsvOptions semicolons;
    semicolons.delimiter = ';';
    semicolons.header = nndl::CsvHeader::absent;
    semicolons.target_columns = {0, -1};  // the first and the last column, in that order
    const auto table = parse("5;1;2;7\n6;3;4;8\n", semicolons);
    CHECK(table.x == rows<double>({{1, 3}, {2, 4}}));
    CHECK(table.y == rows<double>({{5, 6}, {7, 8}}));

    nndl::CsvOptions named;
    named.delimiter = '\t';
    named.target_names = {"b", "a"};
    const auto by_name = parse("a\tb\tc\n1\t2\t3\n", named);
    CHECK(by_name.y == rows<double>({{2}, {1}}));
    CHECK(by_name.x == rows<double>({{3}}));
    CHECK(by_name.target_names == std::vector<std::string>{"b", "a"});

    nndl::CsvOptions unlabeled;
    unlabeled.target_columns.clear();
    const auto features_only = parse("p,q\n1,2\n", unlabeled);
    CHECK(features_only.x.rows() == 2);
    CHECK(features_only.y.rows() == 0);
    CHECK(features_only.y.cols() == 1);

    // A header forced on: a first line of numbers is refused instead of being lost as names.
    nndl::CsvOptions present;
    present.header = nndl::CsvHeader::present;
    CHECK(error_of<nndl::FileError>("1,2\n3,4\n", present) ==
          "read_csv: table.csv:1: '1,2' is numbers, expected a header line naming the columns");
}

TEST_CASE("csv: a select column keeps the rows holding one word and is not read") {
    nndl::CsvOptions options;
    options.select_column = "part";
    options.select_value = "test";
    const auto table = parse("x,part,y\n1,train,0\n2,test,1\n3,test,0\n", options);
    CHECK(table.x == rows<double>({{2, 3}}));
    CHECK(table.y == rows<double>({{1, 0}}));
    options.select_value = "validation";
    CHECK(error_of<nndl::FileError>("x,part,y\n1,train,0\n", options) ==
          "read_csv: 'table.csv' has no 'validation' rows; its 'part' column holds 'train'");
    // Words and names are compared without surrounding spaces; an empty word is refused.
    options.select_value = "test";
    CHECK(parse("x, part ,y\n1, test ,0\n", options).x.cols() == 1);
    options.select_value = " ";
    CHECK(error_of<nndl::InvalidArgument>("x,part,y\n1,,0\n", options).find("empty select_value") !=
          std::string::npos);
}

TEST_CASE("csv: options a table cannot satisfy and malformed rows are named") {
    nndl::CsvOptions past_end;
    past_end.target_columns = {3};
    CHECK(error_of<nndl::InvalidArgument>("a,b,c\n1,2,3\n", past_end) ==
          "read_csv: target column 3 of table.csv, which has 3 column(s); expected 0..2 or -1..-3");
    nndl::CsvOptions unknown;
    unknown.target_names = {"price"};
    CHECK(error_of<nndl::InvalidArgument>("a,b\n1,2\n", unknown) ==
          "read_csv: table.csv has no column named 'price'; its columns are 'a', 'b'");
    nndl::CsvOptions repeated;
    repeated.target_names = {"a"};
    CHECK(error_of<nndl::InvalidArgument>("a,b,a\n1,2,3\n", repeated) ==
          "read_csv: table.csv has two columns named 'a', expected one");
    nndl::CsvOptions twice;
    twice.target_columns = {1, -1};
    CHECK(error_of<nndl::InvalidArgument>("a,b\n1,2\n", twice).find("twice as a target") != std::string::npos);
    nndl::CsvOptions all_targets;
    all_targets.target_columns = {0, 1};
    CHECK(error_of<nndl::FileError>("a,b\n1,2\n", all_targets).find("expected at least 3") != std::string::npos);
    for (const char bad : {'"', '.', '-', 'e', '7'}) {
        nndl::CsvOptions odd;
        odd.delimiter = bad;
        CHECK(error_of<nndl::InvalidArgument>("a\n1\n", odd).find("not part of a number") != std::string::npos);
    }
    // A value double holds but float does not.
    std::istringstream huge("a,b\n1e39,1\n");
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::parse_csv<float>(huge, "table.csv"); }) ==
          "read_csv: table.csv:2: column 1 is '1e39', expected a finite number within the range of float");
    CHECK(parse("a,b\n1e39,1\n").x(0, 0) == 1e39);
    // Hexadecimal is not read as a number; blank lines are skipped; CR-only line ends are named.
    CHECK(error_of<nndl::FileError>("a,b\n0x10,1\n") ==
          "read_csv: table.csv:2: column 1 is '0x10', expected a finite number");
    CHECK(parse("a,b\n1,2\n  \t \n3,4\n").x.cols() == 2);
    CHECK(error_of<nndl::FileError>("a,b\r1,2\r3,4\r").find("carriage return") != std::string::npos);
    CHECK(error_of<nndl::FileError>(std::string("a,b\n1,q\x01z\n")).find("'q\\x01z'") != std::string::npos);
    nndl::CsvOptions semicolons;
    semicolons.delimiter = ';';
    CHECK(error_of<nndl::FileError>("a,b\n1,2\n", semicolons).find("is the delimiter ';' the file's?") !=
          std::string::npos);
    // A long line of delimiters is refused by its count.
    CHECK(error_of<nndl::FileError>("a,b\n" + std::string(100000, ',') + "\n") ==
          "read_csv: table.csv:2: 100001 values, expected 2");
    nndl::CsvOptions names_without_header;
    names_without_header.header = nndl::CsvHeader::absent;
    names_without_header.target_names = {"a"};
    CHECK(error_of<nndl::InvalidArgument>("1,2\n", names_without_header).find("need a header") != std::string::npos);
    CHECK(error_of<nndl::FileError>("a,b\n1,2\n3\n") == "read_csv: table.csv:3: 1 values, expected 2");
    CHECK(error_of<nndl::FileError>("a,b\n1,x\n") == "read_csv: table.csv:2: column 2 is 'x', expected a finite number");
    CHECK(error_of<nndl::FileError>("") == "read_csv: 'table.csv' is empty, expected a header line");
    CHECK(error_of<nndl::FileError>("a,b\n") == "read_csv: 'table.csv' has no data lines after the header");
    CHECK(nndl_test::message_of<nndl::FileError>([] { nndl::read_csv<double>("/dev/zero"); })
              .find("not a regular file") != std::string::npos);
}

TEST_CASE("csv: read_csv reads the football file's test rows as load_csv_points does") {
    nndl::CsvOptions options;
    options.select_column = "split";
    options.select_value = "test";
    const auto table = nndl::read_csv<double>("data/football/football.csv", options);
    const auto points = nndl::load_csv_points<double>("data/football/football.csv", "test");
    CHECK(table.x == points.x);
    CHECK(table.y == points.y);
}

TEST_CASE("csv: the Auto MPG table matches data/README.md's checks") {
    const auto table = nndl::read_csv<double>("data/auto_mpg/auto_mpg.csv");
    CHECK(table.x.rows() == 9);
    CHECK(table.x.cols() == 392);
    CHECK(table.target_names == std::vector<std::string>{"mpg"});
    CHECK(table.feature_names.front() == "cylinders");
    CHECK(table.y.minCoeff() == 9.0);
    CHECK(table.y.maxCoeff() == 46.6);
    CHECK(table.y.mean() == doctest::Approx(23.4459).epsilon(1e-5));
    CHECK(table.x.row(6).sum() == 245.0);  // US cars
    CHECK(table.x.row(7).sum() == 68.0);   // European
    CHECK(table.x.row(8).sum() == 79.0);   // Japanese
}

TEST_CASE_TEMPLATE("scalers: standardize and min-max fit known statistics", Scalar, float, double) {
    // Row 1: mean 2.5, population std sqrt(1.25); row 2 is constant: spread 1, maps to 0.
    const auto x = rows<Scalar>({{1, 2, 3, 4}, {7, 7, 7, 7}});
    const auto standard = nndl::Scaler<Scalar>::standardize(x);
    CHECK(standard.method() == "standardize");
    CHECK(static_cast<double>(standard.center()(0, 0)) == doctest::Approx(2.5));
    CHECK(static_cast<double>(standard.spread()(0, 0)) == doctest::Approx(std::sqrt(1.25)));
    CHECK(standard.spread()(1, 0) == Scalar(1));
    const auto z = standard.transform(x);
    CHECK(static_cast<double>(z(0, 0)) == doctest::Approx(-1.5 / std::sqrt(1.25)));
    CHECK(static_cast<double>(z.row(0).mean()) == doctest::Approx(0.0).epsilon(1e-6));
    CHECK(z.row(1).isZero());
    const double round_trip = std::is_same_v<Scalar, float> ? 1e-5 : 1e-12;
    NNDL_CHECK_CLOSE(standard.inverse_transform(z), x, round_trip);

    // [1, 4] onto [0, 1] and onto [-1, 1]; the constant row maps to low.
    const auto unit = nndl::Scaler<Scalar>::min_max(x).transform(x);
    NNDL_CHECK_CLOSE(unit, rows<double>({{0, 1.0 / 3, 2.0 / 3, 1}, {0, 0, 0, 0}}), 1e-6);
    const auto symmetric = nndl::Scaler<Scalar>::min_max(x, -1.0, 1.0).transform(x);
    NNDL_CHECK_CLOSE(symmetric, rows<double>({{-1, -1.0 / 3, 1.0 / 3, 1}, {-1, -1, -1, -1}}), 1e-6);
}

TEST_CASE("scalers: a feature constant up to rounding keeps spread 1 instead of a rounding error") {
    // Ten 0.1s: their mean is not exactly 0.1, so the variance is rounding noise (1e-34).
    const nndl::Matrix<double> tenths = nndl::Matrix<double>::Constant(1, 10, 0.1);
    const auto exact = nndl::Scaler<double>::standardize(tenths);
    CHECK(exact.spread()(0, 0) == 1.0);
    CHECK(exact.transform(tenths).isZero());
    nndl::Matrix<double> nearly = tenths;
    nearly(0, 3) = std::nextafter(0.1, 1.0);  // one ulp apart: still constant for scaling
    const auto near = nndl::Scaler<double>::standardize(nearly);
    CHECK(near.spread()(0, 0) == 1.0);
    CHECK(std::abs(near.transform(rows<double>({{0.101}}))(0, 0)) < 0.01);
}

TEST_CASE("scalers: bad training data and bad statistics are refused") {
    // The largest doubles standardize too (statistics in scaled units never overflow).
    const auto largest = nndl::Scaler<double>::standardize(rows<double>({{1.7e308, -1.7e308}}));
    CHECK(largest.spread()(0, 0) == doctest::Approx(1.7e308));
    CHECK(largest.center()(0, 0) == 0.0);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>::min_max(rows<double>({{-1e308, 1e308}})),
                         doctest::Contains("a range that overflows"), nndl::InvalidArgument);
    // A spread float rounds to 0 (1e-44 / 1e38) is named by the factory that made it.
    CHECK_THROWS_WITH_AS(nndl::Scaler<float>::min_max(rows<float>({{0, 1e-44f}}), 0.0, 1e38),
                         doctest::Contains("Scaler::min_max: spread of value 0 is 0"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>(rows<double>({{1, 2}}), rows<double>({{1, 2}})),
                         doctest::Contains("center is 1x2 and spread 1x2, expected two columns"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>::standardize(nndl::Matrix<double>(2, 0)),
                         doctest::Contains("expected at least one feature and one example"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>::standardize(rows<double>({{1, NAN}})),
                         doctest::Contains("Scaler::standardize"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>::min_max(rows<double>({{1, 2}}), 1.0, 1.0),
                         doctest::Contains("expected finite low < high"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>(rows<double>({{0}}), rows<double>({{1e-320}})),
                         doctest::Contains("spread of value 0 is 9.99989e-321, expected a finite number > 0 and not "
                                           "subnormal"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>::standardize(rows<double>({{1}})).transform(rows<double>({{NAN}})),
                         doctest::Contains("Scaler::transform: X"), nndl::InvalidArgument);
    // Values near the largest double still standardize (squares are taken in scaled units).
    const auto big = nndl::Scaler<double>::standardize(rows<double>({{1e154, -1e154}}));
    CHECK(big.spread()(0, 0) == doctest::Approx(1e154));
    CHECK_THROWS_WITH_AS(nndl::Scaler<double>(rows<double>({{0}}), rows<double>({{0}})),
                         doctest::Contains("spread of value 0 is 0, expected a finite number > 0"),
                         nndl::InvalidArgument);
    const auto scaler = nndl::Scaler<double>::standardize(rows<double>({{1, 2}}));
    CHECK_THROWS_WITH_AS(scaler.transform(rows<double>({{1}, {2}})),
                         doctest::Contains("Scaler::transform: X has 2 rows, the scaler was fitted on 1"),
                         nndl::ShapeError);
}

TEST_CASE_TEMPLATE("normalization layer: known forward, gradient check, inverse", Scalar, float, double) {
    const auto center = rows<Scalar>({{1}, {-2}});
    const auto spread = rows<Scalar>({{2}, {0.5}});
    nndl::Normalization<Scalar> layer(nndl::Shape(2), center, spread);
    const auto x = rows<Scalar>({{3, 1}, {-1, -3}});
    // (3 - 1) / 2 = 1, (1 - 1) / 2 = 0; (-1 + 2) / 0.5 = 2, (-3 + 2) / 0.5 = -2.
    CHECK(layer.forward(x, nndl::Mode::training) == rows<Scalar>({{1, 0}, {2, -2}}));
    nndl::Normalization<Scalar> inverse(nndl::Shape(2), center, spread, true);
    nndl::Matrix<Scalar> back;
    inverse.infer(rows<Scalar>({{1, 0}, {2, -2}}), back);
    CHECK(back == x);

    const nndl::Matrix<Scalar> input = nndl::NumpyRandom(4).randn<Scalar>(2, 3);
    for (auto* l : {&layer, &inverse}) {
        const nndl::GradientCheckResult check = nndl::check_layer_gradients<Scalar>(*l, input);
        INFO(check.where);
        CHECK(check.max_relative_error < nndl_test::gradient_tolerance<Scalar>());
        CHECK(check.entries_checked == 6);  // the input's entries: no parameters
    }
    CHECK(layer.parameters().empty());
    CHECK(layer.state().size() == 2);
}

TEST_CASE_TEMPLATE("normalization layer: a model with scalers round-trips bit-exactly and predicts in the "
                   "targets' units", Scalar, float, double) {
    const fs::path dir = nndl_test::scratch_dir("test_data_tools");
    nndl::NumpyRandom random(7);
    const nndl::Matrix<Scalar> x = random.randn<Scalar>(3, 40) * Scalar(10) + nndl::Matrix<Scalar>::Constant(3, 40, 50);
    const nndl::Matrix<Scalar> y = (x.colwise().sum() * Scalar(3)).eval();
    const auto inputs = nndl::Scaler<Scalar>::standardize(x);
    const auto targets = nndl::Scaler<Scalar>::min_max(y);
    nndl::Network<Scalar> net(nndl::Shape(3));
    net.add(inputs.layer());
    net.add_dense(4, nndl::Activation::tanh, nndl::Init::xavier, random);
    net.add_dense(1, nndl::Activation::identity, nndl::Init::xavier, random);
    nndl::Adam<Scalar> adam(0.01);
    nndl::TrainOptions options;
    options.epochs = 5;
    options.batch_size = 8;
    nndl::train(net, x, targets.transform(y), adam, options);
    net.add(targets.inverse_layer());  // from now on the network answers in y's units

    // predict is a regression's values: the scaled output put back through the inverse map.
    const nndl::Matrix<Scalar> out = net.predict(x);
    REQUIRE(out.rows() == 1);
    CHECK(out == net.predict_proba(x));
    CHECK(net.summary().find("normalization(invert=1, method=min_max)") != std::string::npos);

    nndl::save_network(net, dir / "model.npz");
    const auto loaded = nndl::load_network<Scalar>(dir / "model.npz");
    CHECK(loaded.depth() == 4);
    CHECK(loaded.predict(x) == out);
    const auto& first = dynamic_cast<const nndl::Normalization<Scalar>&>(loaded.layer(0));
    CHECK(first.center() == inputs.center());
    CHECK(first.spread() == inputs.spread());
    CHECK_FALSE(first.inverted());
    CHECK(dynamic_cast<const nndl::Normalization<Scalar>&>(loaded.layer(3)).inverted());

    // A file whose spread is 0 is refused on load, naming the layer's check.
    auto arrays = nndl::read_npz(dir / "model.npz");
    const std::string key = "layer1.spread";
    REQUIRE(arrays.count(key) == 1);
    nndl::Matrix<Scalar> zero = inputs.spread();
    zero(1, 0) = Scalar(0);
    arrays[key] = nndl::to_npy(zero);
    nndl::write_npz(dir / "bad.npz", std::vector<std::pair<std::string, nndl::NpyArray>>(arrays.begin(), arrays.end()));
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::load_network<Scalar>(dir / "bad.npz"); })
              .find("layer1 ('normalization'): Normalization::check_loaded: spread of value 1 is 0, expected a "
                    "finite number > 0") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("split: the indices scikit-learn's train_test_split picks for the same seed") {
    // tools/split_reference.py: np.random.RandomState(seed).permutation(m), the first
    // ceil(f * m) for testing.
    nndl::Matrix<double> x(2, 10);
    nndl::Matrix<double> y(1, 10);
    for (nndl::Index j = 0; j < 10; ++j) {
        x(0, j) = static_cast<double>(j);
        x(1, j) = static_cast<double>(10 * j);
        y(0, j) = static_cast<double>(100 * j);
    }
    const auto split = nndl::train_test_split(x, y, 0.25, 42);
    CHECK(split.test_index == std::vector<nndl::Index>{8, 1, 5});
    CHECK(split.train_index == std::vector<nndl::Index>{0, 7, 2, 9, 4, 3, 6});
    CHECK(split.x_test == rows<double>({{8, 1, 5}, {80, 10, 50}}));
    CHECK(split.y_train.row(0) == rows<double>({{0, 700, 200, 900, 400, 300, 600}}));
    const auto odd = nndl::train_test_split(x.leftCols(7).eval(), y.leftCols(7).eval(), 0.5, 0);
    CHECK(odd.test_index == std::vector<nndl::Index>{6, 2, 1, 3});
    CHECK(odd.train_index == std::vector<nndl::Index>{0, 5, 4});

    CHECK_THROWS_WITH_AS(nndl::train_test_split(x, y, 1.0, 1), doctest::Contains("expected a fraction in (0, 1)"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::train_test_split(x.leftCols(1).eval(), y.leftCols(1).eval(), 0.5, 1),
                         doctest::Contains("leaves 1 for testing and 0 for training"), nndl::InvalidArgument);
    CHECK_THROWS_AS(nndl::train_test_split(x, y.leftCols(3).eval(), 0.5, 1), nndl::ShapeError);
}
