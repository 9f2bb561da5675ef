"""The record of a training run, one whole iteration at a time: the loss
and validation curves, the stopping rule, early stopping's best parameters."""

# License: BSD-3-Clause

import math
import time

from skae._math.array_api import ops_for
from skae._math.namespaces import is_array


class IterationRecord:
    """How a :class:`~skae._training.run.TrainingRun` records each iteration
    (epoch, or L-BFGS iteration) on its estimator, and decides when to stop.

    A mixin of ``TrainingRun``, whose attributes (``estimator``,
    ``validation``, ``batches``, ``best``, ``recorded_theta``, ...) it reads
    and writes.
    """

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
            copy_state(optimizer.state, into=self.recorded_state)
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


def copy_state(state, into=None):
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
