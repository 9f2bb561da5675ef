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


class EpochSchedule:
    """The "cosine" or "step" schedule of a solver: its step size after
    ``epochs`` epochs (the count the solver keeps in its state).

    Parameters
    ----------
    schedule : {"cosine", "step"}
        The schedule.
    lr_period : int or None
        Period ``P`` in epochs; None for the default, ``max_iter`` for
        "cosine" (and no restart), ``ceil(max_iter / 3)`` for "step".
    lr_step_factor : float
        Factor of each drop of "step".
    max_iter : int
        The estimator's ``max_iter``, for the default period.

    Attributes
    ----------
    period : int
        ``P``, resolved from ``lr_period`` and ``max_iter``.
    restarts : bool
        Whether "cosine" restarts every ``P`` epochs (``lr_period`` given).
    """

    def __init__(self, schedule, lr_period, lr_step_factor, max_iter):
        if schedule not in EPOCH_SCHEDULES:
            raise ValueError(f"Unknown epoch schedule {schedule!r}.")
        self.schedule = schedule
        self.lr_step_factor = float(lr_step_factor)
        self.restarts = lr_period is not None
        if self.restarts:
            self.period = int(lr_period)
        elif schedule == "cosine":
            self.period = int(max_iter)
        else:
            self.period = max(1, math.ceil(max_iter / 3))

    def learning_rate(self, learning_rate_init, epochs):
        """``eta`` after ``epochs`` epochs, from ``eta0 = learning_rate_init``."""
        period = self.period
        if self.schedule == "step":
            return learning_rate_init * self.lr_step_factor ** (epochs // period)
        position = epochs % period if self.restarts else min(epochs, period)
        eta_min = ETA_MIN_RATIO * learning_rate_init
        return (
            eta_min
            + (learning_rate_init - eta_min)
            * (1 + math.cos(math.pi * position / period))
            / 2
        )
