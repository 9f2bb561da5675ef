"""Errors and warnings that skae raises besides scikit-learn's own."""

# License: BSD-3-Clause

__all__ = ["DivergenceError"]


class DivergenceError(ValueError):
    """Training made the objective J or the parameters non-finite.

    Raised by ``fit`` and ``partial_fit``. What the estimator holds afterwards
    is stated by ``parameters_kept``: either the parameters of a completed
    iteration (the best one with early stopping) whose objective J on the
    training data is finite, or, when no such parameters exist, exactly what
    it held before the call (an unfitted estimator stays unfitted).
    ``partial_fit`` always leaves the estimator as it was.

    A subclass of :class:`ValueError`, so ``except ValueError`` still catches it.

    Attributes
    ----------
    parameters_kept : bool
        True when the estimator keeps parameters from this call, False when it
        was left exactly as it was before the call.
    """

    def __init__(self, message, parameters_kept=False):
        super().__init__(message)
        self.parameters_kept = parameters_kept
