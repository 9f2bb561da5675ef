"""Epoch-based learning-rate schedules shared by SGD and Adam: "cosine" and "step".

Both set the step size ``eta`` from the number ``e`` of epochs the solver has
completed (0 during the first epoch), counted in the solver's ``state`` so
that partial_fit, warm starts and pickling continue the schedule. With
``eta0 = learning_rate_init``:

- ``"cosine"`` (cosine annealing; with ``lr_period``, SGDR's warm restarts,
  Loshchilov and Hutter 2017, with ``T_mult=1``)::

      P = lr_period or max_iter
      e' = e mod P  (lr_period given: a restart at eta0 every P epochs)
      e' = min(e, P)  (lr_period=None: one cycle, then eta_min)
      eta = eta_min + (eta0 - eta_min) * (1 + cos(pi * e' / P)) / 2

  with ``eta_min = 1e-3 * eta0``;
- ``"step"``::

      P = lr_period or ceil(max_iter / 3)
      eta = eta0 * lr_step_factor ** floor(e / P)

scikit-learn's schedules ("constant", "invscaling", "adaptive") stay with
:class:`~skae._training.solvers.SGD`, which Adam ignores as scikit-learn's does.
"""

# License: BSD-3-Clause

import math

# the schedules of this module: read by SGD and Adam alike
EPOCH_SCHEDULES = ("cosine", "step")

# "cosine" anneals down to this fraction of learning_rate_init
ETA_MIN_RATIO = 1e-3


def epoch_period(schedule, lr_period, max_iter):
    """The period ``P`` in epochs: ``lr_period``, else the default of ``schedule``
    (``max_iter`` for "cosine", ``ceil(max_iter / 3)`` for "step")."""
    if lr_period is not None:
        return int(lr_period)
    if schedule == "cosine":
        return int(max_iter)
    return max(1, math.ceil(max_iter / 3))


def epoch_learning_rate(
    schedule, learning_rate_init, epochs, lr_period, lr_step_factor, max_iter
):
    """Step size of the ``"cosine"`` or ``"step"`` schedule after ``epochs`` epochs.

    Parameters
    ----------
    schedule : {"cosine", "step"}
        The schedule.
    learning_rate_init : float
        ``eta0``, the step size of the first epoch (and after each restart).
    epochs : int
        ``e``, the epochs the solver has completed.
    lr_period : int or None
        Period ``P`` in epochs; None for the default (see :func:`epoch_period`),
        which for "cosine" also means no restart.
    lr_step_factor : float
        Factor of each drop of "step".
    max_iter : int
        The estimator's ``max_iter``, for the default period.

    Returns
    -------
    eta : float
    """
    period = epoch_period(schedule, lr_period, max_iter)
    if schedule == "step":
        return learning_rate_init * lr_step_factor ** (epochs // period)
    if schedule != "cosine":
        raise ValueError(f"Unknown epoch schedule {schedule!r}.")
    position = epochs % period if lr_period is not None else min(epochs, period)
    eta_min = ETA_MIN_RATIO * learning_rate_init
    return (
        eta_min
        + (learning_rate_init - eta_min)
        * (1 + math.cos(math.pi * position / period))
        / 2
    )


class EpochSchedule:
    """The "cosine" or "step" schedule of a solver: its step size after
    ``epochs`` epochs (the count the solver keeps in its state).

    Parameters
    ----------
    schedule : {"cosine", "step"}
        The schedule.
    lr_period : int or None
        Period ``P`` in epochs; None for the default (:func:`epoch_period`).
    lr_step_factor : float
        Factor of each drop of "step".
    max_iter : int
        The estimator's ``max_iter``, for the default period.
    """

    def __init__(self, schedule, lr_period, lr_step_factor, max_iter):
        self.schedule = schedule
        self.lr_period = lr_period
        self.lr_step_factor = float(lr_step_factor)
        self.max_iter = max_iter

    def learning_rate(self, learning_rate_init, epochs):
        """``eta`` after ``epochs`` epochs, from ``eta0 = learning_rate_init``."""
        return epoch_learning_rate(
            self.schedule,
            learning_rate_init,
            epochs,
            self.lr_period,
            self.lr_step_factor,
            self.max_iter,
        )
