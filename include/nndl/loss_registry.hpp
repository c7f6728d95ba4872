#pragma once
// Losses by name: a model file stores its network's loss as the loss's name()
// ("BinaryCrossEntropy", ...) and the loader builds it again from this table. nndl's own
// losses are in it from the start; register a loss of your own under its name() before
// saving or loading a network that has it:
//
//   nndl::register_loss<double>("Hinge", [](const nndl::Shape&) { return std::make_unique<Hinge<double>>(); });
//
// A factory gets the shape of the network's output and throws InvalidArgument for one it
// cannot serve. A model file holds the name only, so a loss with settings of its own (class
// weights, say) comes back as its factory builds it. (The combination OutputLosses is written
// as a name of its parts; io/model.hpp reads it.)

#include <memory>
#include <string>

#include "errors.hpp"
#include "losses.hpp"
#include "named_factories.hpp"
#include "shape.hpp"

namespace nndl {

/// The table of losses for one Scalar: names to factories taking the output's shape.
template <class Scalar>
using LossRegistry = NamedFactories<Loss<Scalar>, const Shape&>;

/// Builds a loss for a network whose output has the given shape.
template <class Scalar>
using LossFactory = typename LossRegistry<Scalar>::Factory;

namespace detail {
/// nndl's losses, added once when the table is first used.
template <class Scalar>
struct BuiltinLosses {
    LossRegistry<Scalar> table;
    BuiltinLosses() {
        table.add("BinaryCrossEntropy", [](const Shape&) { return std::make_unique<BinaryCrossEntropy<Scalar>>(); });
        table.add("CourseBinaryCrossEntropy",
                  [](const Shape&) { return std::make_unique<CourseBinaryCrossEntropy<Scalar>>(); });
        table.add("CategoricalCrossEntropy", [](const Shape& output) {
            if (output.is_sequence()) {
                throw_invalid("the loss CategoricalCrossEntropy takes a whole column as one set of classes, but the "
                              "network outputs a sequence (", output.to_string(), ")");
            }
            return std::make_unique<CategoricalCrossEntropy<Scalar>>();
        });
        table.add("MeanSquaredError", [](const Shape&) { return std::make_unique<MeanSquaredError<Scalar>>(); });
        table.add("SequenceCrossEntropy", [](const Shape& output) {
            if (!output.is_sequence()) {
                throw_invalid("the loss SequenceCrossEntropy needs a sequence output, the network outputs ",
                              output.to_string());
            }
            return std::make_unique<SequenceCrossEntropy<Scalar>>(output.features());
        });
    }
};
}  // namespace detail

/// The loss table of this Scalar, with nndl's losses in it.
template <class Scalar>
LossRegistry<Scalar>& loss_registry() {
    static detail::BuiltinLosses<Scalar> losses;
    return losses.table;
}

/// Registers a loss under `name` (its name(), which model files store) for Scalar; a program
/// that loads such a file registers it too, for each Scalar it loads as. Throws
/// InvalidArgument for an empty name or factory, a name taken, or a name with , : * ( or )
/// (model files spell combinations with them: "OutputLosses(rows:Name*weight,...)").
template <class Scalar>
void register_loss(const std::string& name, LossFactory<Scalar> factory) {
    if (name.compare(0, 13, "OutputLosses(") == 0) {
        detail::throw_invalid("register_loss: '", printable(name, 60), "' is how model files spell a combination of "
                              "losses, expected another name");
    }
    if (name.find_first_of(",:*()") != std::string::npos) {  // they separate the parts of a combination
        detail::throw_invalid("register_loss: '", printable(name, 60), "' has one of , : * ( ), expected a name "
                              "without them");
    }
    loss_registry<Scalar>().add_checked("loss", name, std::move(factory));
}

/// A loss of a registered name for a network whose output has `output` shape. Throws
/// InvalidArgument for an unknown name, a factory that returns nothing, or one that refuses
/// the shape.
template <class Scalar>
std::unique_ptr<Loss<Scalar>> make_loss(const std::string& name, const Shape& output) {
    try {
        return loss_registry<Scalar>().create("loss", name, output);
    } catch (const InvalidArgument& e) {
        const std::string message = e.what();
        if (message.compare(0, 10, "make_loss:") == 0) {
            throw;
        }
        detail::throw_invalid("make_loss: ", message);  // a factory's refusal: name the function
    }
}

}  // namespace nndl
