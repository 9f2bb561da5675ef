"""BaseNetwork: the estimators' shared parameters and fitted attributes."""

# License: BSD-3-Clause

import copy
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from skae._math.activations import ACTIVATIONS, Activation, get_activation
from skae._training.pretraining import GreedyPretraining
from skae._training.trainable import TrainableNetwork
from skae._training.user_warnings import warn_user
from skae.exceptions import DivergenceError

# attributes scikit-learn's callback machinery sets on an estimator; all but
# the first exist only while a fit runs
_CALLBACK_STATE = {
    "_skl_callbacks",
    "_callback_fit_ctx",
    "_skl_callbacks_to_teardown",
    "_parent_callback_ctx",
}


class BaseNetwork(TrainableNetwork, BaseEstimator):
    """Base class of the skae estimators: everything but target, loss and penalties.

    Subclasses define the layer sizes, the output activation, the loss, an
    optional sparsity penalty and the validation score through the hooks of
    :class:`~skae._training.trainable.TrainableNetwork`; the network, the objective,
    the solvers and the training loop are shared. Here: the scikit-learn
    parameters, their validation and the fitted attributes.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        # or a sequence, one per hidden layer (checked by _per_hidden_layer)
        "activation": [
            StrOptions(set(ACTIVATIONS) | {"logistic"}),
            Activation,
            "array-like",
        ],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "init": [StrOptions({"random", "greedy"})],
        "solver": [StrOptions({"sgd", "adam", "lbfgs"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto", "full"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "cosine", "step"})
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "lr_period": [Interval(Integral, 1, None, closed="left"), None],
        "lr_step_factor": [Interval(Real, 0, 1, closed="right")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),  # scikit-learn's way to switch the rule off
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    # integer parameters, where a bool (an Integral to Python) is refused
    _integer_parameters = (
        "batch_size",
        "lr_period",
        "max_iter",
        "n_iter_no_change",
        "max_fun",
    )

    # the parameters that set the widths of the layers, named in memory errors
    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a tuple of positive ints (an int is one layer)."""
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral):
            sizes = (sizes,)
        elif isinstance(sizes, (list, tuple, range)) or (
            isinstance(sizes, np.ndarray) and sizes.ndim == 1
        ):
            sizes = tuple(sizes)
        else:  # a set has no order, a 0-d array no length
            sizes = None
        if sizes is None or not all(
            isinstance(n, Integral) and not isinstance(n, bool) and n >= 1
            for n in sizes
        ):
            raise InvalidParameterError(
                "hidden_layer_sizes must be a positive int or a sequence (list, "
                "tuple or 1-D array) of positive ints, one width per hidden "
                f"layer; got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(n) for n in sizes)

    def _validate_hyperparameters(self, incremental):
        """What scikit-learn's ``_param_validation`` does not check, and what it
        skips: ``partial_fit`` on a fitted estimator is not validated there,
        but parameters may have been set since the last call."""
        if incremental:
            self._validate_params()
            if self.early_stopping:
                # scikit-learn's incremental fits ignore it; saying so instead
                warn_user(
                    f"{type(self).__name__}: early_stopping applies to fit; "
                    "partial_fit trains one epoch on the batch it is given and "
                    "holds nothing out."
                )
        for name in self._integer_parameters:
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be an "
                    f"int, not a bool; got {value!r}."
                )
        self._hidden_layer_sizes()
        n_hidden = self._n_hidden_layers()
        self._hidden_activations(n_hidden)
        if self._dropout_rates(n_hidden) and self.solver == "lbfgs":
            raise ValueError(
                "dropout needs solver='sgd' or 'adam': L-BFGS's line search "
                "compares the objective at several points, which a new mask "
                "at every evaluation makes incomparable (and one mask for the "
                "whole fit would drop the same units throughout). Use a "
                f"stochastic solver, or dropout=0 (got dropout={self.dropout!r})."
            )

    # -- settings per hidden layer ----------------------------------------

    def _n_hidden_layers(self):
        """How many hidden layers the network has (the data's widths aside)."""
        return len(self._layer_sizes(1, 1)) - 2

    def _per_hidden_layer(self, name, n_hidden):
        """Parameter ``name``'s value for each of the ``n_hidden`` hidden
        layers, bottom first: one value for all, or a sequence of one per
        hidden layer, or, where the decoder mirrors the encoder, one per
        encoder layer (the code included), which the decoder's layers repeat
        in reverse. A stochastic layer (a VAE's Gaussian) takes none: None."""
        value = getattr(self, name)
        stochastic = self._stochastic_layer()
        free = [i for i in range(n_hidden) if i + 1 != stochastic]
        if not isinstance(value, (list, tuple, np.ndarray)):
            entries = [value] * len(free)
        else:
            entries = list(value.tolist() if isinstance(value, np.ndarray) else value)
            n = len(free)
            if self._decoder_mirrors_encoder and n > 1 and len(entries) == (n + 1) // 2:
                entries += entries[: n // 2][::-1]
            elif len(entries) != n or (
                isinstance(value, np.ndarray) and value.ndim != 1
            ):
                raise InvalidParameterError(
                    f"{name}={value!r} has {len(entries)} entries, but "
                    f"{self._layers_explained(n)}: give one {name} for all, "
                    + self._sequence_lengths(n)
                )
        values = [None] * n_hidden
        for index, entry in zip(free, entries):
            values[index] = entry
        return values

    def _layers_explained(self, n):
        """The hidden layers of the network, as the length errors say it."""
        sizes = f"hidden_layer_sizes={self.hidden_layer_sizes!r}"
        layers = "1 hidden layer" if n == 1 else f"{n} hidden layers"
        if not self._decoder_mirrors_encoder:
            return f"{sizes} gives {layers}"
        if self._stochastic_layer() is None:
            return f"{sizes} gives {layers} (the encoder's, the code, the decoder's)"
        return (
            f"{sizes} gives {layers} besides the Gaussian's mean and "
            "log-variance (the encoder's and the decoder's)"
        )

    def _sequence_lengths(self, n):
        if not self._decoder_mirrors_encoder or n <= 1:
            return f"or one per hidden layer ({n})."
        return (
            f"one per hidden layer ({n}), or one per encoder layer "
            f"({(n + 1) // 2}), which the decoder mirrors."
        )

    def _hidden_activations(self, n_hidden):
        activations = []
        for index, activation in enumerate(
            self._per_hidden_layer("activation", n_hidden)
        ):
            if activation is None:  # the Gaussian's parameters: the network's own
                activation = "identity"
            try:
                activations.append(get_activation(activation))
            except ValueError as error:
                where = (
                    ""
                    if isinstance(self.activation, (str, Activation))
                    else f" (hidden layer {index + 1})"
                )
                raise InvalidParameterError(f"activation{where}: {error}") from error
        if self._tied_weights() and activations != activations[::-1]:
            raise InvalidParameterError(
                "Tied weights share each encoder layer's weights with its mirror "
                "decoder layer, so the activations must mirror too; got "
                f"activation={self.activation!r}. Give one per encoder layer "
                "(the decoder repeats them in reverse), or tied_weights=False."
            )
        return activations

    def _dropout_rates(self, n_hidden):
        rates = {}
        for index, rate in enumerate(self._per_hidden_layer("dropout", n_hidden)):
            if rate is None:  # the Gaussian's parameters are never dropped
                continue
            if isinstance(rate, (bool, np.bool_)) or not (
                isinstance(rate, Real) and 0 <= rate < 1
            ):
                raise InvalidParameterError(
                    "dropout is the probability of dropping a unit, in [0, 1), "
                    "for all hidden layers or for each; got "
                    f"dropout={self.dropout!r}."
                )
            if rate > 0:
                rates[index + 1] = float(rate)
        return rates

    def _greedy_pretraining(self):
        return GreedyPretraining(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # under array_api_dispatch, training and outputs in the input's
        # namespace and on its device (skae/_math/array_api.py)
        tags.array_api_support = True
        return tags

    # -- fitted attributes, all views of the one flat vector -----------------

    @property
    def coefs_(self):
        """list of ndarray: weights ``coefs_[l]`` of shape (n_l, n_{l+1}), views."""
        check_is_fitted(self)
        return self._network.weights(self._theta)

    @property
    def intercepts_(self):
        """list of ndarray: biases ``intercepts_[l]`` of shape (n_{l+1},), views."""
        check_is_fitted(self)
        return [b for _, b in self._network.unflatten(self._theta)]

    def __getstate__(self):
        state = super().__getstate__()
        if "_callback_fit_ctx" in state:
            # pickled while a fit runs (a checkpoint from a callback): the
            # model only, without the callbacks and the fit's context (a new
            # dict: the one above may be the instance's own)
            state = {k: v for k, v in state.items() if k not in _CALLBACK_STATE}
        return state

    # -- fitting ----------------------------------------------------

    @contextmanager
    def _batch_width_explained(self):
        """Say why ``partial_fit``'s batches must keep the first one's columns,
        and how a column-chunked dask array loses them."""
        try:
            yield
        except ValueError as error:
            if "features, but" not in str(error):
                raise
            raise ValueError(
                f"{error} partial_fit continues the network fitted on the first "
                "batch, so every batch needs its columns. A dask array chunked "
                "across columns gives dask-ml's Incremental only its first "
                "column block: join the columns with X.rechunk({1: -1})."
            ) from error

    @contextmanager
    def _rollback_on_error(self, keep_divergence):
        """Leave the estimator exactly as it was if the block raises.

        With ``keep_divergence`` (fit), a training run that diverged after
        recording an iteration with a finite objective keeps those
        parameters instead, as the error message says.
        """
        # the parameters and scikit-learn's callback state are not ours to restore
        kept = set(self.get_params(deep=False)) | _CALLBACK_STATE
        # one deep copy of them all: attributes that share an array (classes_
        # and the label binarizer's) still share it once restored
        backup = copy.deepcopy(
            {key: value for key, value in vars(self).items() if key not in kept}
        )
        try:
            yield
        except BaseException as error:
            if not (
                keep_divergence
                and isinstance(error, DivergenceError)
                and error.parameters_kept
            ):
                for key in [key for key in vars(self) if key not in kept]:
                    delattr(self, key)
                vars(self).update(backup)
            raise
