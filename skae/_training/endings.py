"""How a training run ends other than by its stopping rule: divergence,
Ctrl-C, ``max_iter``, and an objective that rose instead of falling."""

# License: BSD-3-Clause

import math

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from skae._math.losses import CrossEntropy
from skae._math.namespaces import to_numpy
from skae._training.user_warnings import warn_user
from skae.exceptions import DivergenceError

# how many times its first value J must end above to call a fit exploded
_EXPLOSION = 1e3
# an L-BFGS fit stalled: J fell by less than this share of its start, and
# stays above this share of the loss of predicting the mean target
_STALLED = 1e-2
_POOR = 0.5


class AbnormalEndings:
    """The ends of a :class:`~skae._training.run.TrainingRun` that are not its
    stopping rule, each keeping what can be trusted and saying so.

    A mixin of ``TrainingRun``, whose attributes (``estimator``,
    ``objective``, ``batches``, ``best``, ``recorded_theta``, ...) it reads.
    """

    def _finite_objective(self, theta):
        """Whether J(theta) on the training data is finite (batch by batch)."""
        return all(
            math.isfinite(self.objective.value(theta, X, T, w))
            for X, T, w, _ in self.batches.epoch()
        )

    def _diverged(self, where=None, cause=None):
        """Keep the best or last recorded parameters with a finite J, and raise.

        Raises
        ------
        DivergenceError
            With ``parameters_kept`` False when no parameters of this run give
            a finite J: the caller then restores the estimator.
        """
        est = self.estimator
        at = f"iteration {est.n_iter_ + 1}" + (f", {where}" if where else "")
        cause = cause or "the loss or the parameters became non-finite"
        candidates = []
        if self.best is not None:
            candidates.append(("best", self.best[2]))
        if self.n_recorded:
            candidates.append((f"iteration {est.n_iter_}", self.recorded_theta))
        advice = (
            "Use a smaller learning_rate_init, or scale the data (for example "
            "with StandardScaler or MinMaxScaler)."
        )
        if not est._keeps_partial_training:  # a stage: nothing is kept
            raise DivergenceError(
                f"{est._display_name()} diverged at {at}: {cause}; the estimator "
                f"is left as it was before the call. {advice}"
            )
        for name, theta in candidates:
            if self._finite_objective(theta):
                est._theta = theta
                self._restore_solver_state()
                raise DivergenceError(
                    f"Training diverged at {at}: {cause}. The estimator keeps "
                    f"the parameters of {name}, "
                    f"whose objective J on the training data is finite. {advice}",
                    parameters_kept=True,
                )
        raise DivergenceError(
            f"Training diverged at {at}: {cause}, and no parameters of this "
            "call give a finite objective "
            "J on the training data, so the estimator is left as it was before "
            f"the call. {advice}"
        )

    def _interrupted(self):
        """Ctrl-C: keep the best or last recorded parameters and say so."""
        est = self.estimator
        self._repair_record()
        # however it came (a callback's KeyboardInterrupt too), an enclosing
        # fit sharing these requests learns of it
        self.interrupts.requested = True
        if not (self.n_recorded and est._keeps_partial_training):
            raise KeyboardInterrupt  # nothing recorded (or kept): nothing to keep
        self.interrupted = True
        kept = "best" if self.best is not None else "last recorded"
        est._theta = self.best[2] if self.best is not None else self.recorded_theta
        self._restore_solver_state()
        warn_user(
            f"Training interrupted by KeyboardInterrupt after {est.n_iter_} "
            f"iterations; the estimator keeps the {kept} parameters.",
            UserWarning,
        )

    def _restore_solver_state(self):
        """The stochastic solver's state as it was at the last recorded
        iteration, to continue from its parameters (warm start, partial_fit)."""
        optimizer = self.estimator._optimizer
        if self.recorded_state is not None and optimizer is not None:
            optimizer.state = self.recorded_state

    def _warn_not_converged(self, limit):
        est = self.estimator
        warn_user(
            f"{est._display_name()}: the {est.solver} solver reached {limit} "
            f"without converging; increase {limit} or tol.",
            ConvergenceWarning,
        )

    def _warn_if_exploded(self):
        """A learning rate too large can drive J up by orders of magnitude
        while it stays finite: say so rather than return a useless model."""
        est = self.estimator
        if self.n_recorded < 2:
            return
        first = est.loss_curve_[self._record_start["loss_curve_"]]
        exploded = est.loss_ > _EXPLOSION * max(first, np.finfo(np.float64).tiny)
        # ... and worse than predicting the mean target, which any model
        # started near J's scale beats: a rise from J ~ 0 is no explosion
        if exploded and est.loss_ > self._mean_prediction_loss():
            warn_user(
                f"{est._display_name()}: the objective J rose from {first:.4g} at "
                f"the first iteration to {est.loss_:.4g} at the last: training "
                "went the wrong way. Use a smaller learning_rate_init, or scale "
                "the data (for example with StandardScaler).",
                ConvergenceWarning,
            )

    def _warn_if_stalled(self, initial):
        """L-BFGS stopped, with its gradient far from zero, having barely
        moved J from its start, where J is no better than predicting the mean
        target: the steps J needs are lost to rounding at the data's scale
        (targets of 1e50). A warm start at a real minimum has a zero gradient
        or a J well below the mean prediction's, and is not warned of."""
        est = self.estimator
        if not initial - est.loss_ < _STALLED * abs(initial):
            return
        baseline = self._mean_prediction_loss()
        if not est.loss_ > _POOR * baseline:
            return
        n_outputs = self.batches.T.shape[1]
        warn_user(
            f"{est._display_name()}: L-BFGS stopped after {self.n_recorded} "
            f"iteration{'s' * (self.n_recorded != 1)} having barely moved the "
            f"objective J (from {initial:.4g} "
            f"to {est.loss_:.4g}), no better than predicting the mean target "
            f"({baseline:.4g}), with a gradient far from zero: the data's scale "
            f"(targets' standard deviation {math.sqrt(baseline / n_outputs):.3g}, "
            f"inputs' root mean square {_root_mean_square(self.batches.X):.3g}) "
            "leaves the solver no step it can take in floating point. Scale the "
            "inputs (StandardScaler) and, for a regressor, the targets "
            "(sklearn.compose.TransformedTargetRegressor with StandardScaler).",
            ConvergenceWarning,
        )

    def _mean_prediction_loss(self):
        """The data loss of the constant prediction of the (weighted) mean
        target: the summed variance of the targets for the squared error,
        their entropy for the cross-entropy."""
        mean = mean_square = 0.0
        for _, T, w, share in self.batches.epoch():
            # on the host, a part at a time: only after a suspected explosion
            w = None if w is None else to_numpy(w).astype(np.float64)
            p = np.full(T.shape[0], 1 / T.shape[0]) if w is None else w / w.sum()
            for rows, part in _host_parts(T):  # a full batch: by parts
                q = p[rows]
                mean = mean + share * (q @ part)
                mean_square = mean_square + share * (q @ np.square(part))
        if isinstance(self.objective.loss, CrossEntropy):
            m = np.clip(mean, 1e-12, 1 - 1e-12)
            return float(-(m * np.log(m) + (1 - m) * np.log1p(-m)).sum())
        return float(np.clip(mean_square - np.square(mean), 0, None).sum())


def _root_mean_square(X):
    """The root mean square of the entries of ``X`` (only for a message)."""
    total = sum(float(np.square(part).sum()) for _, part in _host_parts(X))
    return math.sqrt(total / max(X.shape[0] * X.shape[1], 1))


def _host_parts(A, n_rows=4096):
    """Yield ``(rows, part)``: slices of ``n_rows`` rows of ``A`` (dense or
    sparse, of any namespace) as dense float64 NumPy arrays on the host."""
    for start in range(0, A.shape[0], n_rows):
        rows = slice(start, min(start + n_rows, A.shape[0]))
        part = A[rows, :]
        part = part.toarray() if sparse.issparse(part) else to_numpy(part)
        yield rows, np.asarray(part, np.float64)
