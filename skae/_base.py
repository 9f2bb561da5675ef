"""BaseNetwork: shared parameters, the training loop and its bookkeeping."""

# License: BSD-3-Clause

import copy
import math
import time
import warnings
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, StrOptions

from skae._blas import single_threaded_scipy_blas
from skae._callbacks import CallbackSupportMixin, FitTasks
from skae._losses import LOSSES
from skae._network import Network
from skae._objective import Objective
from skae._optimizers import SGD, Adam, minimize_lbfgs
from skae._penalties import WeightDecay
from skae.activations import ACTIVATIONS, Activation, get_activation

# attributes scikit-learn's callback machinery sets on an estimator
_CALLBACK_STATE = {
    "_skl_callbacks",
    "_callback_fit_ctx",
    "_skl_callbacks_to_teardown",
    "_parent_callback_ctx",
}


class _DivergenceError(ValueError):
    """Training made the loss or the parameters non-finite."""


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

    # -- the training loop ----------------------------------------------------

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
        X, T = _rows_sliceable(X, T)
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
            X_val, T_val = _rows_sliceable(*validation[:2])
            validation = _Validation(X_val, T_val, validation[2], objective)
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
        try:
            with single_threaded_scipy_blas(), fp_errors:
                if self.solver == "lbfgs":
                    self._train_lbfgs(objective, X, T, sample_weight, validation)
                else:
                    self._train_stochastic(
                        objective, X, T, sample_weight, validation, incremental
                    )
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

    def _train_stochastic(
        self, objective, X, T, sample_weight, validation, incremental
    ):
        """Gradient descent or Adam over mini-batches, one epoch per iteration."""
        self._optimizer = optimizer = self._make_optimizer()
        batches = _Batches(X, T, sample_weight, self._batch_size(X.shape[0]))
        gradient = np.empty_like(self._theta)
        # fallbacks if a step makes the parameters unusable: those at the start
        # of the epoch, and those before its last step (checked at its end)
        epoch_start, before_last = self._theta.copy(), self._theta.copy()
        converged = False
        try:
            for _ in range(1 if incremental else self.max_iter):
                start = time.perf_counter()
                np.copyto(epoch_start, self._theta)
                loss = self._run_epoch(
                    objective, optimizer, batches, gradient, epoch_start, before_last
                )
                stop = self._end_iteration(loss, validation, start)
                if self._fit_tasks.stop_requested or (stop and not optimizer.decay()):
                    converged = True
                    break
                if stop:
                    self._no_improvement_count = 0
        except KeyboardInterrupt:
            self._interrupted(epoch_start)
        else:
            if not (converged or incremental):
                self._warn_not_converged("max_iter")
        self._restore_best()

    def _run_epoch(
        self, objective, optimizer, batches, gradient, epoch_start, before_last
    ):
        """One pass over the data, a solver step per batch; returns the mean J.

        A step is taken only with a finite loss and gradient, and the result of
        the last step is checked on its batch, so the parameters stay those of
        the last finite step (``epoch_start`` is the fallback if a step still
        overflowed them).
        """
        theta = self._theta
        shuffle = self.shuffle and batches.batch_size < batches.n_samples
        order = self._random_state.permutation(batches.n_samples) if shuffle else None
        epoch_loss = 0.0
        for step, (X, T, w, share) in enumerate(batches.epoch(order), 1):
            loss, _ = objective.loss_and_gradient(theta, X, T, w, out=gradient)
            # one read of the gradient (BLAS) instead of a copy of theta a step
            if not (math.isfinite(loss) and math.isfinite(np.vdot(gradient, gradient))):
                self._diverged(epoch_start, step)
            if step == batches.n_batches:
                np.copyto(before_last, theta)
            optimizer.step(theta, gradient)
            epoch_loss += loss * share
        if not math.isfinite(objective.value(theta, X, T, w)):
            last_step_copied = step == batches.n_batches
            fallback = before_last if last_step_copied else epoch_start
            self._diverged(fallback, step, keep_current=False)
        self.t_ += batches.n_samples
        optimizer.end_epoch(self.t_)
        return epoch_loss

    def _train_lbfgs(self, objective, X, T, sample_weight, validation):
        """L-BFGS-B on the flat vector; ``_end_iteration`` decides when to stop."""
        dtype = self._theta.dtype
        state = {"start": time.perf_counter(), "converged": False}

        def fun(theta):
            # computed in the data's dtype; scipy works in float64
            loss, gradient = objective.loss_and_gradient(
                theta.astype(dtype, copy=False), X, T, sample_weight
            )
            return loss, gradient.astype(np.float64, copy=False)

        def callback(intermediate_result):
            theta = intermediate_result.x
            if not (np.isfinite(intermediate_result.fun) and np.isfinite(theta).all()):
                self._diverged(self._theta)
            self._theta = theta.astype(dtype)
            stop = self._end_iteration(
                intermediate_result.fun, validation, state["start"]
            )
            state["start"] = time.perf_counter()
            if stop or self._fit_tasks.stop_requested:
                state["converged"] = True
                raise StopIteration

        try:
            result = minimize_lbfgs(
                fun,
                self._theta.astype(np.float64),
                self.max_iter,
                self.max_fun,
                callback,
            )
        except KeyboardInterrupt:
            # self._theta holds the last iterate the callback saw, all finite
            self._interrupted(self._theta)
            self._restore_best()
            return
        if not (np.isfinite(result.fun) and np.isfinite(result.x).all()):
            self._diverged(self._theta)
        self._theta = result.x.astype(dtype)
        if not state["converged"] and result.status == 1:  # max_iter or max_fun
            self._warn_not_converged(
                "max_fun" if result.nfev >= self.max_fun else "max_iter"
            )
        self._restore_best()

    def _end_iteration(self, loss, validation, start):
        """Record one epoch (L-BFGS iteration); return True when training should stop.

        Training stops when ``loss`` (or, with a validation set, the
        validation score) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive iterations.
        """
        self.n_iter_ += 1
        self.loss_ = float(loss)
        self.loss_curve_.append(self.loss_)
        message = f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}"
        improved = self.loss_ < self.best_loss_ - self.tol
        if validation is not None:
            score = self._validation_score(validation.X, validation.T, validation.w)
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(validation.loss(self._theta))
            message += f", validation score = {score:.8f}"
            if self.early_stopping:
                improved = score > self.best_validation_score_ + self.tol
                if score > self.best_validation_score_:
                    self._best_theta = self._theta.copy()
            self.best_validation_score_ = max(self.best_validation_score_, score)
        self.best_loss_ = min(self.best_loss_, self.loss_)
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        if self.verbose:
            print(f"{message}, time = {time.perf_counter() - start:.4f} s")
        self._fit_tasks.end_iteration()  # callbacks: a task per iteration
        return self._no_improvement_count >= self.n_iter_no_change

    def _restore_best(self):
        """With early stopping, keep the parameters of the best validation score."""
        best = self.__dict__.pop("_best_theta", None)
        if best is not None:
            self._theta = best

    def _diverged(self, last_finite, step=None, keep_current=True):
        """Keep the last finite parameters and raise a ValueError saying what to do.

        With ``keep_current``, the current parameters are kept when they are
        finite (a step is taken only with a finite loss and gradient);
        otherwise, or when the current ones are known to give a non-finite
        loss, ``last_finite`` replaces them.
        """
        if not (keep_current and np.isfinite(self._theta).all()):
            self._theta = last_finite
        where = f"iteration {self.n_iter_ + 1}"
        if step is not None:
            where += f", step {step} of that epoch"
        raise _DivergenceError(
            f"Training diverged at {where}: the loss or the parameters became "
            "non-finite. The last finite parameters are kept. Use a smaller "
            "learning_rate_init, or scale the data (for example with "
            "StandardScaler or MinMaxScaler)."
        )

    def _interrupted(self, last_finite):
        """Ctrl-C: keep the last finite parameters and say so."""
        if not np.isfinite(self._theta).all():
            self._theta = last_finite
        kept = "best" if self.early_stopping else "last finite"
        warnings.warn(
            f"Training interrupted by KeyboardInterrupt after {self.n_iter_} "
            f"iterations; the estimator keeps the {kept} parameters.",
            UserWarning,
        )

    def _warn_not_converged(self, limit):
        warnings.warn(
            f"{type(self).__name__}: the {self.solver} solver reached {limit} "
            f"without converging; increase {limit} or tol.",
            ConvergenceWarning,
        )

    def _forward(self, X, start=0, stop=None):
        """Activations of layer ``stop`` (default: the output) for the input ``X``."""
        activations, _ = self._network.forward(self._theta, X, start, stop)
        return activations[-1]


class _Batches:
    """The mini-batches of an epoch, gathered into reused arrays.

    A shuffled dense batch is copied with ``np.take(..., mode="clip", out=)``
    into one preallocated array (several times faster than fancy indexing);
    unshuffled batches are views. An autoencoder's target is its input, so it
    is gathered once. Batches whose weights are all zero are skipped: a weight
    of 0 removes a sample.
    """

    def __init__(self, X, T, sample_weight, batch_size):
        self.X, self.T, self.sample_weight = X, T, sample_weight
        self.n_samples = X.shape[0]
        self.batch_size = batch_size
        self.n_batches = -(-self.n_samples // batch_size)
        self._X_rows = _row_buffer(X, batch_size)
        self._T_rows = None if T is X else _row_buffer(T, batch_size)
        self._total_weight = None if sample_weight is None else sample_weight.sum()

    def epoch(self, order=None):
        """Yield ``(X, T, sample_weight, share of the epoch's loss)`` per batch."""
        for batch in gen_batches(self.n_samples, self.batch_size):
            rows = batch if order is None else order[batch]
            w = None if self.sample_weight is None else self.sample_weight[rows]
            if w is None:
                share = (batch.stop - batch.start) / self.n_samples
            elif not w.any():
                continue
            else:
                share = float(w.sum() / self._total_weight)
            X = _take_rows(self.X, rows, self._X_rows)
            T = X if self.T is self.X else _take_rows(self.T, rows, self._T_rows)
            yield X, T, w, share


class _Validation:
    """Held-out data the training loop scores after every epoch."""

    def __init__(self, X, T, w, objective):
        self.X, self.T, self.w = X, T, w
        self.objective = objective

    def loss(self, theta):
        """The objective J on the held-out data."""
        return self.objective.value(theta, self.X, self.T, self.w)


def _rows_sliceable(X, T):
    """CSR for row slicing, never densified; an autoencoder's target stays the
    very object that is its input (gathered once a batch)."""
    if not sparse.issparse(X):
        return X, T
    target_is_input = T is X
    X = X.tocsr()
    return X, (X if target_is_input else T)


def _row_buffer(A, n_rows):
    """An array for ``n_rows`` rows of a dense ``A`` (None for sparse ``A``)."""
    return None if sparse.issparse(A) else np.empty((n_rows, A.shape[1]), A.dtype)


def _take_rows(A, rows, buffer):
    """Rows of ``A``: a view for a slice, else gathered into ``buffer``."""
    if isinstance(rows, slice) or buffer is None:
        return A[rows]
    return A.take(rows, axis=0, out=buffer[: len(rows)], mode="clip")
