"""The training loop: one run of fit or partial_fit, and its bookkeeping."""

# License: BSD-3-Clause

import math
import time

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skae._math.array_api import ops_for
from skae._math.namespaces import numpy_dtype, to_namespace_of, to_numpy
from skae._math.objective import chunk_rows
from skae._training.batches import Batches
from skae._training.endings import AbnormalEndings
from skae._training.record import IterationRecord, copy_state
from skae._training.solvers import LBFGS_GTOL, minimize_lbfgs
from skae._training.threads import BlasThreadTuner
from skae._training.user_warnings import warn_user
from skae.exceptions import DivergenceError


class TrainingRun(IterationRecord, AbnormalEndings):
    """One call of fit or partial_fit on an estimator: the one training loop.

    The run reads the estimator's hyper-parameters and writes its fitted
    state: the parameters ``_theta``, the solver's state and the training
    record (``n_iter_``, ``loss_curve_``, the validation records), which
    :meth:`_end_iteration` commits one whole iteration at a time. Everything
    else the loop needs (the parameters of the last recorded iteration, the
    best ones with early stopping) lives here, never on the estimator.

    How a run ends:

    - normally, with early stopping on the best parameters;
    - diverged (:class:`~skae.DivergenceError`): the estimator keeps the best
      (early stopping) or last recorded parameters whose objective J on the
      training data is finite; with none, the error says so and the caller
      restores the estimator as it was before the call;
    - interrupted (Ctrl-C, or KeyboardInterrupt from a callback): the
      parameters of the last recorded iteration (the best with early
      stopping) and a warning; with no iteration recorded, KeyboardInterrupt
      goes on to the caller, which restores the estimator.

    Parameters
    ----------
    estimator : TrainableNetwork
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
    interrupts : InterruptRequests
        Where a Ctrl-C during training is noted; checked between steps.
    incremental : bool
        partial_fit: one epoch, keeping the solver's state.
    corruption : Corruption, default=None
        A denoising autoencoder's corruption of the training inputs: drawn
        afresh for every batch of the stochastic solvers, once per run for
        L-BFGS (whose line searches need one deterministic objective).
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
        interrupts,
        incremental,
        corruption=None,
    ):
        self.estimator = estimator
        self.corruption = corruption
        self.objective = objective
        self.validation = validation
        self.fit_tasks = fit_tasks
        self.interrupts = interrupts
        self.incremental = incremental
        lbfgs = estimator.solver == "lbfgs"
        batch_size = X.shape[0] if lbfgs else estimator._batch_size(X.shape[0])
        self.batches = Batches(X, T, sample_weight, batch_size)
        # multiply-adds of the largest product: NumPy's BLAS threads follow
        rows = min(batch_size, objective.chunk_rows or batch_size)
        sizes = estimator._network.layer_sizes
        largest = max(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
        self._product_size = rows * largest
        self.threads = None
        # the parameters of the last recorded iteration: where an interrupt or
        # a divergence goes back to (a buffer updated in place per epoch)
        self.recorded_theta = ops_for(estimator._theta).copy(estimator._theta)
        self.recorded_state = None  # and the stochastic solver's state
        self.n_recorded = 0
        self._n_iter_start = estimator.n_iter_
        # with early stopping: (validation score, validation J, parameters)
        self.best = None
        self.interrupted = False
        self._term_curves = [f"{name}_loss_curve_" for name in estimator._loss_terms]
        self._record_start = {
            name: len(getattr(estimator, name) or [])
            for name in (
                "loss_curve_",
                "validation_scores_",
                "validation_loss_curve_",
                *self._term_curves,
            )
        }

    def train(self):
        """Run the solver to its end (see the class docstring for the ends)."""
        est = self.estimator
        self.threads = BlasThreadTuner(self._product_size)
        try:
            if est.solver == "lbfgs":
                self._train_lbfgs()
            else:
                self._train_stochastic()
        except KeyboardInterrupt:
            self._interrupted()
            return
        finally:
            self.threads.close()
        if self.best is not None:
            est._theta = self.best[2]
        self._warn_if_exploded()

    # -- stochastic solvers ---------------------------------------------------

    def _train_stochastic(self):
        """Gradient descent or Adam over mini-batches, one epoch per iteration."""
        est = self.estimator
        est._optimizer = optimizer = est._make_optimizer()
        self.recorded_state = copy_state(optimizer.state)
        gradient = ops_for(est._theta).empty_like(est._theta)
        converged = False
        for _ in range(1 if self.incremental else est.max_iter):
            start = time.perf_counter()
            loss, terms = self._run_epoch(optimizer, gradient)
            stop = self._end_iteration(loss, start, optimizer=optimizer, terms=terms)
            if self.fit_tasks.stop_requested or stop:
                converged = True
                break
        if not (converged or self.incremental):
            self._warn_not_converged("max_iter")

    def _run_epoch(self, optimizer, gradient):
        """One pass over the data, a solver step per batch; returns the mean J
        and the mean of each of its recorded terms (a dict, or None).

        A step is taken only with a finite loss and gradient, and the result
        of the last step is checked on its batch before the epoch is recorded.
        A Ctrl-C is answered between two steps, never inside one.
        """
        est, objective, batches = self.estimator, self.objective, self.batches
        theta = est._theta
        shuffle = est.shuffle and batches.batch_size < batches.n_samples
        order = est._random_state.permutation(batches.n_samples) if shuffle else None
        interrupts, threads = self.interrupts, self.threads
        timed = threads.active  # the tuner times steps: BLAS threads per step
        squared = optimizer.squares_gradient  # Adam: its squares must be finite
        epoch_loss, epoch_terms = 0.0, None
        noise = self.corruption
        for step, (X, T, w, share) in enumerate(batches.epoch(order, noise), 1):
            if interrupts.requested:
                raise KeyboardInterrupt
            if timed:
                threads.begin()
            loss, _ = objective.loss_and_gradient(theta, X, T, w, out=gradient)
            if not (math.isfinite(loss) and _all_finite(gradient, squared)):
                cause = None
                if math.isfinite(loss) and _all_finite(gradient):
                    cause = (
                        "the gradient became too large for Adam, whose second "
                        f"moment (the squared gradient) overflows {theta.dtype}"
                    )
                self._diverged(f"step {step} of that epoch", cause)
            optimizer.step(theta, gradient)
            if timed:
                threads.end(X.shape[0])
            epoch_loss += loss * share
            if objective.last_terms is not None:
                epoch_terms = epoch_terms or dict.fromkeys(objective.last_terms, 0.0)
                for name, value in objective.last_terms.items():
                    epoch_terms[name] += value * share
        if not math.isfinite(objective.value(theta, X, T, w)):
            self._diverged(f"after step {step} of that epoch")
        return epoch_loss, epoch_terms

    # -- L-BFGS ---------------------------------------------------------------

    def _train_lbfgs(self):
        """L-BFGS-B on the flat vector; ``_end_iteration`` decides when to stop.

        scipy's own abnormal stops before skae's rule (a failed line search,
        an exhausted ``max_fun``) are reported: a ``ConvergenceWarning`` with
        scipy's status and message, or, when not a single iteration was taken
        away from a stationary point, a :class:`~skae.DivergenceError` that
        changes nothing. scipy's convergence (status 0) is accepted, as
        scikit-learn does.
        """
        est, objective, interrupts = self.estimator, self.objective, self.interrupts
        X, T, sample_weight = self.batches.X, self.batches.T, self.batches.sample_weight
        like, dtype = est._theta, numpy_dtype(est._theta.dtype)
        if self.corruption is not None:  # one draw: the input, never the target
            rows = objective.chunk_rows or chunk_rows(est._network, dtype)
            X = self.corruption.whole(X, rows)
        state = {"start": time.perf_counter(), "converged": False}

        threads = self.threads

        def fun(theta):
            if interrupts.requested:
                raise KeyboardInterrupt
            threads.begin()
            # computed in the data's dtype (and namespace); scipy works in
            # float64 on the host: only these two vectors cross
            loss, gradient = objective.loss_and_gradient(
                to_namespace_of(theta.astype(dtype, copy=False), like),
                X,
                T,
                sample_weight,
            )
            threads.end()
            state.setdefault("initial", float(loss))  # J at the start
            return loss, to_numpy(gradient).astype(np.float64, copy=False)

        def callback(intermediate_result):
            theta = intermediate_result.x
            if not (np.isfinite(intermediate_result.fun) and np.isfinite(theta).all()):
                self._diverged()
            stop = self._end_iteration(
                intermediate_result.fun,
                state["start"],
                theta=to_namespace_of(theta.astype(dtype), like),
                # the line search's last evaluation is the accepted point's
                terms=objective.last_terms,
            )
            state["start"] = time.perf_counter()
            if stop or self.fit_tasks.stop_requested:
                state["converged"] = True
                raise StopIteration

        result = minimize_lbfgs(
            fun,
            to_numpy(est._theta).astype(np.float64),
            est.max_iter,
            est.max_fun,
            callback,
        )
        # the parameters are those of the last recorded iteration (set by the
        # callback), whatever point the line search tried last
        if state["converged"]:
            return
        message = str(result.message).rstrip(": ")
        scipy_says = f"scipy's L-BFGS-B status {result.status}: {message}"
        stationary = np.abs(result.jac).max(initial=0.0) <= LBFGS_GTOL
        if self.n_recorded == 0 and not stationary:
            raise DivergenceError(
                f"Training diverged at iteration 1: L-BFGS could not take a "
                f"single step ({scipy_says}). The estimator is left as it was "
                "before the call. Scale the data (for example with "
                "StandardScaler or MinMaxScaler)."
            )
        if result.status == 0:
            # converged for scipy: a stationary point, or no decrease of J
            # left in the dtype (ftol=0); scikit-learn does not warn either,
            # unless J stalled far from its minimum (data on a wild scale)
            if not stationary:
                self._warn_if_stalled(state["initial"])
            return
        if result.status == 1:  # max_iter or max_fun
            self._warn_not_converged(
                "max_fun" if result.nfev >= est.max_fun else "max_iter"
            )
            return
        warn_user(
            f"{est._display_name()}: L-BFGS stopped after {self.n_recorded} "
            f"iterations, before skae's stopping rule (tol, n_iter_no_change) "
            f"was met ({scipy_says}). The parameters of iteration "
            f"{self.n_recorded} are kept. Scaling the data (StandardScaler or "
            "MinMaxScaler) often helps.",
            ConvergenceWarning,
        )


def _all_finite(array, squared=False):
    """Whether every entry (with ``squared``, every square) is finite.

    One BLAS read, the sum of squares, in the common case: when it is
    finite, so is every entry and every square. An exact test when the sum
    overflows.
    """
    ops = ops_for(array)
    if math.isfinite(ops.vdot(array, array)):
        return True
    largest = float(ops.max(ops.abs(array)))  # nan where an entry is nan
    if squared:  # Adam's second moment would overflow to inf: no step left
        return largest < math.sqrt(float(ops.finfo(array.dtype).max))
    return math.isfinite(largest)
