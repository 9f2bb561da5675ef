"""BaseNetwork: the estimators' shared parameters, hooks and fit plumbing."""

# License: BSD-3-Clause

import copy
import warnings
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from skae._blas import single_threaded_scipy_blas
from skae._callbacks import CallbackSupportMixin, FitTasks
from skae._losses import LOSSES
from skae._network import Network
from skae._objective import Objective
from skae._optimizers import SGD, Adam
from skae._penalties import WeightDecay
from skae._training import TrainingRun, Validation, _DivergenceError, rows_sliceable
from skae.activations import ACTIVATIONS, Activation, get_activation

# attributes scikit-learn's callback machinery sets on an estimator
_CALLBACK_STATE = {
    "_skl_callbacks",
    "_callback_fit_ctx",
    "_skl_callbacks_to_teardown",
    "_parent_callback_ctx",
}


class BaseNetwork(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the skae estimators: everything but target, loss and penalties.

    Subclasses define the layer sizes, the output activation, the loss, an
    optional sparsity penalty and the validation score through small hooks;
    the network, the objective, the solvers and the training loop are shared.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS) | {"logistic"}), Activation],
        "solver": [StrOptions({"sgd", "adam", "lbfgs"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto", "full"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
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
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    # -- hooks for the estimators -------------------------------------------

    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a tuple of positive ints (an int is one layer)."""
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(n, Integral) and n >= 1 for n in sizes):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, one width per "
                f"hidden layer; got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(n) for n in sizes)

    @abstractmethod
    def _layer_sizes(self, n_features, n_outputs):
        """Widths of all layers, input first, output last."""

    @abstractmethod
    def _output_activation(self):
        """Activation object of the output layer."""

    def _loss_name(self):
        """Key of the loss in ``LOSSES``."""
        return "squared_error"

    def _sparsity(self):
        """``(KLSparsity, layer index)`` or None: the penalty on a hidden layer."""
        return None

    def _tied_weights(self):
        """Whether decoder layers use their mirror encoder layers' weights."""
        return False

    def _check_setup(self, T):
        """Raise ValueError if loss, activations and targets do not fit (hook)."""

    @abstractmethod
    def _validation_score(self, X, T, sample_weight):
        """Score of the current parameters on held-out data (higher is better)."""

    # -- fitted attributes, all views of the one flat vector -----------------

    @property
    def coefs_(self):
        """list of ndarray: weights ``coefs_[l]`` of shape (n_l, n_{l+1}), views."""
        return self._network.weights(self._theta)

    @property
    def intercepts_(self):
        """list of ndarray: biases ``intercepts_[l]`` of shape (n_{l+1},), views."""
        return [b for _, b in self._network.unflatten(self._theta)]

    # -- building blocks ------------------------------------------------------

    def _build_objective(self):
        """The objective of the current parameters (read at every fit call)."""
        return Objective(
            self._network,
            LOSSES[self._loss_name()](),
            WeightDecay(self.weight_decay),
            *(self._sparsity() or (None, None)),
        )

    def _initialize(self, n_features, n_outputs, dtype):
        """Build the network, draw parameters and reset the training record."""
        self._random_state = check_random_state(self.random_state)
        self._network = Network(
            self._layer_sizes(n_features, n_outputs),
            get_activation(self.activation),
            self._output_activation(),
            tied=self._tied_weights(),
        )
        self._theta = self._network.initialize(self._random_state, dtype)
        self._optimizer = None
        self.n_outputs_ = n_outputs
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_ = None
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        # lists once there is a validation set (X_val, or early stopping)
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None

    def _make_optimizer(self):
        """A solver from the current parameters, keeping the state of an earlier
        solver of the same kind."""
        kind = Adam if self.solver == "adam" else SGD
        state = self._optimizer.state if isinstance(self._optimizer, kind) else None
        if kind is Adam:
            return Adam(
                self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon, state
            )
        return SGD(
            self.learning_rate_init,
            self.learning_rate,
            self.power_t,
            self.momentum,
            self.nesterovs_momentum,
            state,
        )

    def _batch_size(self, n_samples):
        """Resolve ``batch_size``: "auto" is min(200, n), "full" is n."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size == "full":
            return n_samples
        if self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} > n_samples={n_samples}; "
                "using the whole training set as one batch.",
                UserWarning,
            )
        return min(self.batch_size, n_samples)

    # -- fitting ----------------------------------------------------

    @contextmanager
    def _rollback_on_error(self, keep_divergence):
        """Leave the estimator exactly as it was if the block raises.

        With ``keep_divergence`` (fit), a training run that diverged keeps its
        last finite parameters instead, as the error message says.
        """
        # the parameters and scikit-learn's callback state are not ours to restore
        kept = set(self.get_params(deep=False)) | _CALLBACK_STATE
        backup = {
            key: copy.deepcopy(value)
            for key, value in vars(self).items()
            if key not in kept
        }
        try:
            yield
        except BaseException as error:
            if not (keep_divergence and isinstance(error, _DivergenceError)):
                for key in [key for key in vars(self) if key not in kept]:
                    delattr(self, key)
                vars(self).update(backup)
            raise

    def _fit_network(
        self, X, T, sample_weight=None, incremental=False, validation=None
    ):
        """Train on ``(X, T)``: the one training loop of every estimator.

        ``incremental`` (partial_fit) trains one epoch and keeps the solver's
        state; otherwise ``max_iter`` epochs, continuing with ``warm_start``.
        ``validation`` is the user's ``(X_val, T_val, sample_weight_val)``;
        without it, early stopping holds out ``validation_fraction``.
        """
        X, T = rows_sliceable(X, T)
        self._check_setup(T)
        if validation is not None:
            self._check_setup(validation[1])
        if hasattr(self, "_theta") and (incremental or self.warm_start):
            self._check_architecture(X.shape[1], T.shape[1])
        else:
            self._initialize(X.shape[1], T.shape[1], X.dtype)
        if not incremental:
            self._no_improvement_count = 0
        # best parameters of an earlier fit that failed are not this fit's
        self.__dict__.pop("_best_theta", None)
        objective = self._build_objective()

        if validation is None and self.early_stopping and not incremental:
            X, T, sample_weight, validation = self._split_validation(
                X, T, sample_weight
            )
        if validation is not None:
            X_val, T_val = rows_sliceable(*validation[:2])
            validation = Validation(X_val, T_val, validation[2], objective)
            if self.validation_scores_ is None:
                # from the first fit, or a warm start that adds validation
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
            if not incremental:
                # each fit keeps the best parameters it sees itself
                self.best_validation_score_ = -np.inf

        # non-finite values are caught and reported as divergence, with the
        # step and the fix, rather than as NumPy's floating-point warnings
        fp_errors = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._fit_tasks = FitTasks(
            self, X, T, metadata, 1 if incremental else self.max_iter
        )
        run = TrainingRun(
            self,
            objective,
            X,
            T,
            sample_weight,
            validation,
            self._fit_tasks,
            incremental,
        )
        try:
            with single_threaded_scipy_blas(), fp_errors:
                run.run()
        finally:
            self._fit_tasks.close()
            del self._fit_tasks  # it holds the training data
        self._after_fit(X)
        return self

    def _check_architecture(self, n_features, n_outputs):
        """warm_start and partial_fit continue the fitted network: its shape and
        activations must be the ones the current parameters ask for."""
        network = self._network
        wanted = (
            self._layer_sizes(n_features, n_outputs),
            get_activation(self.activation),
            self._output_activation(),
            self._tied_weights(),
        )
        fitted = (network.layer_sizes, network.hidden, network.output, network.tied)
        if wanted != fitted:
            raise ValueError(
                "warm_start and partial_fit continue the fitted network, with "
                f"layer sizes {fitted[0]}, hidden activation {fitted[1]!r} and "
                f"output activation {fitted[2]!r}, tied weights {fitted[3]}; the "
                f"current parameters and data ask for layer sizes {wanted[0]}, "
                f"hidden activation {wanted[1]!r}, output activation "
                f"{wanted[2]!r}, tied weights {wanted[3]}. Restore "
                "those parameters, or fit from scratch with warm_start=False."
            )

    def _after_fit(self, X):
        """Set estimator-specific fitted attributes (hook)."""

    def _split_validation(self, X, T, sample_weight):
        """Hold out ``validation_fraction`` of the data for early stopping."""
        target_is_input = T is X
        arrays = [X] if target_is_input else [X, T]
        if sample_weight is not None:
            arrays.append(sample_weight)
        parts = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=self._random_state,
        )
        train, held_out = parts[0::2], parts[1::2]
        if target_is_input:  # an autoencoder: split once, target = input
            train.insert(1, train[0])
            held_out.insert(1, held_out[0])
        if held_out[0].shape[0] < 2:
            raise ValueError(
                "early_stopping holds out "
                f"validation_fraction={self.validation_fraction}"
                f" of {X.shape[0]} samples, which leaves fewer than 2 for validation;"
                " use more samples or a larger validation_fraction."
            )
        w_train = train[2] if sample_weight is not None else None
        w_val = held_out[2] if sample_weight is not None else None
        return train[0], train[1], w_train, (held_out[0], held_out[1], w_val)

    def _forward(self, X, start=0, stop=None):
        """Activations of layer ``stop`` (default: the output) for the input ``X``."""
        activations, _ = self._network.forward(self._theta, X, start, stop)
        return activations[-1]
