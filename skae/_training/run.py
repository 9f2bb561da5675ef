"""The training loop: one run of fit or partial_fit, and its bookkeeping."""

# License: BSD-3-Clause

import math
import time

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skae._math.array_api import ops_for
from skae._math.namespaces import is_array, numpy_dtype, to_namespace_of, to_numpy
from skae._math.objective import chunk_rows
from skae._training.batches import Batches
from skae._training.endings import AbnormalEndings
from skae._training.solvers import LBFGS_GTOL, minimize_lbfgs
from skae._training.threads import BlasThreadTuner
from skae._training.user_warnings import warn_user
from skae.exceptions import DivergenceError


class TrainingRun(AbnormalEndings):
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
        self.recorded_state = _copy_state(optimizer.state)
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

    # -- the record of each iteration -----------------------------------------

    def _end_iteration(self, loss, start, theta=None, optimizer=None, terms=None):
        """Record one epoch (L-BFGS iteration); return True when training should stop.

        Training stops when ``loss`` has not improved by at least ``tol``
        times ``max(|best loss|, 1)`` (or, with early stopping, the validation
        score by ``tol``) for ``n_iter_no_change`` consecutive iterations,
        unless the stochastic solver can divide its step instead
        (``learning_rate="adaptive"``), which restarts the count within the
        commit. ``terms`` are J's parts the estimator records beside it (a
        dict of the ``_loss_terms``).

        The validation set is scored first; then the whole iteration is
        recorded, ``n_iter_`` last, with no check for Ctrl-C in between (see
        :class:`~skae._training.interrupts.InterruptRequests`), so the records always
        have matching lengths.
        """
        est, validation = self.estimator, self.validation
        loss = float(loss)
        if theta is None:
            theta = est._theta
        est._theta = theta  # the parameters scored and recorded
        if validation is not None:
            score = est._validation_score(validation.X, validation.T, validation.w)
            validation_loss = validation.loss(theta)

        # the commit: every field of the record, then n_iter_
        if optimizer is not None:
            est.t_ += self.batches.n_samples
            optimizer.end_epoch(est.t_)
        # tol on the scale of J: the loss of data in the thousands improves by
        # more than 1e-4 long after it stopped mattering
        best = est.best_loss_
        scale = max(1.0, abs(best)) if math.isfinite(best) else 1.0
        improved = loss < best - est.tol * scale
        est.loss_curve_.append(loss)
        for name in est._loss_terms:
            getattr(est, f"{name}_loss_curve_").append(float(terms[name]))
        if validation is not None:
            est.validation_scores_.append(score)
            est.validation_loss_curve_.append(validation_loss)
            if est.early_stopping:
                improved = self._validation_improved(score, validation_loss)
                if self._beats_best(score, validation_loss):
                    self.best = (score, validation_loss, ops_for(theta).copy(theta))
            est.best_validation_score_ = max(est.best_validation_score_, score)
        est.loss_ = loss
        est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        stop = est._no_improvement_count >= est.n_iter_no_change
        if stop and optimizer is not None and optimizer.decay():
            # learning_rate="adaptive": the step is divided and the count
            # starts again, as part of this iteration's record, so that what
            # the callbacks see (a checkpoint) and what an interrupt keeps is
            # the state the next iteration starts from
            est._no_improvement_count = 0
            stop = False
        if optimizer is None:  # L-BFGS: a new array each iteration
            self.recorded_theta = theta
        else:  # the stochastic solvers update theta and their state in place
            ops_for(theta).copyto(self.recorded_theta, theta)
            _copy_state(optimizer.state, into=self.recorded_state)
        self.n_recorded += 1
        est.n_iter_ += 1

        if est.verbose:
            message = (
                f"{est._verbose_prefix()}Iteration {est.n_iter_}, loss = {loss:.8f}"
            )
            if validation is not None:
                message += f", validation score = {score:.8f}"
            print(f"{message}, time = {time.perf_counter() - start:.4f} s")
        self.fit_tasks.end_iteration()  # callbacks: a task per iteration
        if self.interrupts.requested:
            raise KeyboardInterrupt
        return stop

    # A score that moves in steps, such as accuracy on a few rows, saturates:
    # once it is 1, no later epoch beats it, and the early parameters that
    # first reached it would be kept while the validation J still falls. So
    # for such scores, those within tol of the best are a tie, which the
    # validation J breaks.

    def _beats_best(self, score, validation_loss):
        """Whether these parameters replace the best kept for early stopping."""
        best, est = self.best, self.estimator
        if best is None:
            return True
        if not est._stepped_validation_score:
            return score > best[0]
        return score > best[0] + est.tol or (
            self._ties_best(score) and validation_loss < best[1]
        )

    def _validation_improved(self, score, validation_loss):
        """Whether the validation score improved by ``tol``, or tied the best
        while the validation J improved by ``tol`` times its scale."""
        est, best = self.estimator, self.best
        if score > est.best_validation_score_ + est.tol:
            return True
        if best is None or not self._ties_best(score):
            return False
        scale = max(1.0, abs(best[1])) if math.isfinite(best[1]) else 1.0
        return validation_loss < best[1] - est.tol * scale

    def _ties_best(self, score):
        est = self.estimator
        return (
            est._stepped_validation_score
            and score >= est.best_validation_score_ - est.tol
        )

    def _repair_record(self):
        """Cut the record back to the iterations fully recorded.

        Only a KeyboardInterrupt raised at an arbitrary point (another
        thread's handler, a custom SIGINT handler) can land inside a commit.
        """
        est = self.estimator
        for name, start in self._record_start.items():
            record = getattr(est, name)
            if record is not None:
                del record[start + self.n_recorded :]
        est.n_iter_ = self._n_iter_start + self.n_recorded
        if est.loss_curve_:
            est.loss_ = est.loss_curve_[-1]
            est.best_loss_ = min(est.loss_curve_)


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


def _copy_state(state, into=None):
    """A copy of a solver's state dict (arrays copied into ``into``'s)."""
    if into is None:
        return {key: _copied(value) for key, value in state.items()}
    for key, value in state.items():
        target = into.get(key)
        if is_array(value) and type(target) is type(value):
            ops_for(value).copyto(target, value)
        else:
            into[key] = _copied(value)
    return into


def _copied(value):
    return ops_for(value).copy(value) if is_array(value) else value
