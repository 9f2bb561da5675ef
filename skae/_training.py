"""The training loop: one run of fit or partial_fit, and its bookkeeping."""

# License: BSD-3-Clause

import math
import time
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from skae._optimizers import minimize_lbfgs


class _DivergenceError(ValueError):
    """Training made the loss or the parameters non-finite."""


class TrainingRun:
    """One call of fit or partial_fit on an estimator: the one training loop.

    The run reads the estimator's hyper-parameters and writes its fitted
    state: the parameters ``_theta`` and the training record (``n_iter_``,
    ``loss_curve_``, the validation records).

    Parameters
    ----------
    estimator : BaseNetwork
        The estimator being trained; its network is already built.
    objective : Objective
        The objective J the solvers minimise.
    X, T : {ndarray, sparse matrix}
        Training inputs and targets (``T is X`` for an autoencoder).
    sample_weight : ndarray or None
        Weights of the training samples.
    validation : Validation or None
        Held-out data scored after every iteration.
    fit_tasks : FitTasks
        The callbacks' tasks of this fit.
    incremental : bool
        partial_fit: one epoch, keeping the solver's state.
    """

    def __init__(
        self,
        estimator,
        objective,
        X,
        T,
        sample_weight,
        validation,
        fit_tasks,
        incremental,
    ):
        self.estimator = estimator
        self.objective = objective
        self.X, self.T, self.sample_weight = X, T, sample_weight
        self.validation = validation
        self.fit_tasks = fit_tasks
        self.incremental = incremental

    def run(self):
        """Train with the estimator's solver."""
        if self.estimator.solver == "lbfgs":
            self._train_lbfgs()
        else:
            self._train_stochastic()

    # -- stochastic solvers ---------------------------------------------------

    def _train_stochastic(self):
        """Gradient descent or Adam over mini-batches, one epoch per iteration."""
        est = self.estimator
        est._optimizer = optimizer = est._make_optimizer()
        batches = Batches(
            self.X, self.T, self.sample_weight, est._batch_size(self.X.shape[0])
        )
        gradient = np.empty_like(est._theta)
        # fallbacks if a step makes the parameters unusable: those at the start
        # of the epoch, and those before its last step (checked at its end)
        epoch_start, before_last = est._theta.copy(), est._theta.copy()
        converged = False
        try:
            for _ in range(1 if self.incremental else est.max_iter):
                start = time.perf_counter()
                np.copyto(epoch_start, est._theta)
                loss = self._run_epoch(
                    optimizer, batches, gradient, epoch_start, before_last
                )
                stop = self._end_iteration(loss, start)
                if self.fit_tasks.stop_requested or (stop and not optimizer.decay()):
                    converged = True
                    break
                if stop:
                    est._no_improvement_count = 0
        except KeyboardInterrupt:
            self._interrupted(epoch_start)
        else:
            if not (converged or self.incremental):
                self._warn_not_converged("max_iter")
        self._restore_best()

    def _run_epoch(self, optimizer, batches, gradient, epoch_start, before_last):
        """One pass over the data, a solver step per batch; returns the mean J.

        A step is taken only with a finite loss and gradient, and the result of
        the last step is checked on its batch, so the parameters stay those of
        the last finite step (``epoch_start`` is the fallback if a step still
        overflowed them).
        """
        est, objective = self.estimator, self.objective
        theta = est._theta
        shuffle = est.shuffle and batches.batch_size < batches.n_samples
        order = est._random_state.permutation(batches.n_samples) if shuffle else None
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
        est.t_ += batches.n_samples
        optimizer.end_epoch(est.t_)
        return epoch_loss

    # -- L-BFGS ---------------------------------------------------------------

    def _train_lbfgs(self):
        """L-BFGS-B on the flat vector; ``_end_iteration`` decides when to stop."""
        est, objective = self.estimator, self.objective
        X, T, sample_weight = self.X, self.T, self.sample_weight
        dtype = est._theta.dtype
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
                self._diverged(est._theta)
            est._theta = theta.astype(dtype)
            stop = self._end_iteration(intermediate_result.fun, state["start"])
            state["start"] = time.perf_counter()
            if stop or self.fit_tasks.stop_requested:
                state["converged"] = True
                raise StopIteration

        try:
            result = minimize_lbfgs(
                fun,
                est._theta.astype(np.float64),
                est.max_iter,
                est.max_fun,
                callback,
            )
        except KeyboardInterrupt:
            # est._theta holds the last iterate the callback saw, all finite
            self._interrupted(est._theta)
            self._restore_best()
            return
        if not (np.isfinite(result.fun) and np.isfinite(result.x).all()):
            self._diverged(est._theta)
        est._theta = result.x.astype(dtype)
        if not state["converged"] and result.status == 1:  # max_iter or max_fun
            self._warn_not_converged(
                "max_fun" if result.nfev >= est.max_fun else "max_iter"
            )
        self._restore_best()

    # -- the record of each iteration -----------------------------------------

    def _end_iteration(self, loss, start):
        """Record one epoch (L-BFGS iteration); return True when training should stop.

        Training stops when ``loss`` (or, with a validation set, the
        validation score) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive iterations.
        """
        est, validation = self.estimator, self.validation
        est.n_iter_ += 1
        est.loss_ = float(loss)
        est.loss_curve_.append(est.loss_)
        message = f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}"
        improved = est.loss_ < est.best_loss_ - est.tol
        if validation is not None:
            score = est._validation_score(validation.X, validation.T, validation.w)
            est.validation_scores_.append(score)
            est.validation_loss_curve_.append(validation.loss(est._theta))
            message += f", validation score = {score:.8f}"
            if est.early_stopping:
                improved = score > est.best_validation_score_ + est.tol
                if score > est.best_validation_score_:
                    est._best_theta = est._theta.copy()
            est.best_validation_score_ = max(est.best_validation_score_, score)
        est.best_loss_ = min(est.best_loss_, est.loss_)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if est.verbose:
            print(f"{message}, time = {time.perf_counter() - start:.4f} s")
        self.fit_tasks.end_iteration()  # callbacks: a task per iteration
        return est._no_improvement_count >= est.n_iter_no_change

    def _restore_best(self):
        """With early stopping, keep the parameters of the best validation score."""
        est = self.estimator
        best = est.__dict__.pop("_best_theta", None)
        if best is not None:
            est._theta = best

    # -- abnormal ends --------------------------------------------------------

    def _diverged(self, last_finite, step=None, keep_current=True):
        """Keep the last finite parameters and raise a ValueError saying what to do.

        With ``keep_current``, the current parameters are kept when they are
        finite (a step is taken only with a finite loss and gradient);
        otherwise, or when the current ones are known to give a non-finite
        loss, ``last_finite`` replaces them.
        """
        est = self.estimator
        if not (keep_current and np.isfinite(est._theta).all()):
            est._theta = last_finite
        where = f"iteration {est.n_iter_ + 1}"
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
        est = self.estimator
        if not np.isfinite(est._theta).all():
            est._theta = last_finite
        kept = "best" if est.early_stopping else "last finite"
        warnings.warn(
            f"Training interrupted by KeyboardInterrupt after {est.n_iter_} "
            f"iterations; the estimator keeps the {kept} parameters.",
            UserWarning,
        )

    def _warn_not_converged(self, limit):
        est = self.estimator
        warnings.warn(
            f"{type(est).__name__}: the {est.solver} solver reached {limit} "
            f"without converging; increase {limit} or tol.",
            ConvergenceWarning,
        )


class Batches:
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


class Validation:
    """Held-out data the training loop scores after every epoch."""

    def __init__(self, X, T, w, objective):
        self.X, self.T, self.w = X, T, w
        self.objective = objective

    def loss(self, theta):
        """The objective J on the held-out data."""
        return self.objective.value(theta, self.X, self.T, self.w)


def rows_sliceable(X, T):
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
