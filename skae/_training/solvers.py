"""Solvers on the flat parameter vector: gradient descent, Adam, L-BFGS."""

# License: BSD-3-Clause

from scipy.optimize import minimize

from skae._math.array_api import ops_for, reused_or_empty_like


class SGD:
    """Gradient descent with optional (Nesterov) momentum and a learning-rate schedule.

    With ``momentum=0`` one :meth:`step` is the lecture's averaged update
    ``theta <- theta - eta * grad``; which samples the gradient averages over
    (all, one, a mini-batch) makes it Batch GD, SGD or mini-batch SGD.

    Parameters
    ----------
    learning_rate_init : float
        Initial step size ``eta``.
    schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        ``"invscaling"`` sets ``eta = learning_rate_init / (t + 1) ** power_t``
        after each epoch, ``t`` the number of samples seen; ``"adaptive"``
        lets the training loop divide ``eta`` by 5 through :meth:`decay`.
        An ``epoch_schedule`` replaces it.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    momentum : float, default=0.9
        Momentum ``mu`` of the velocity ``v <- mu v - eta grad``.
    nesterov : bool, default=True
        Take the Nesterov step ``theta <- theta + mu v - eta grad`` instead of
        ``theta <- theta + v``.
    state : dict, default=None
        Velocity and schedule counters carried over from an earlier optimizer;
        the step size is derived from them and ``learning_rate_init``, so a
        changed ``learning_rate_init`` applies from the next step.
    epoch_schedule : EpochSchedule, default=None
        The ``"cosine"`` or ``"step"`` schedule, which sets ``eta`` from the
        epochs completed (:mod:`skae._training.schedules`).
    """

    squares_gradient = False  # no square of the gradient is ever formed

    def __init__(
        self,
        learning_rate_init,
        schedule="constant",
        power_t=0.5,
        momentum=0.9,
        nesterov=True,
        state=None,
        epoch_schedule=None,
    ):
        # Python floats keep float32 arithmetic in float32
        self.learning_rate_init = float(learning_rate_init)
        self.schedule = schedule
        self.power_t = float(power_t)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.epoch_schedule = epoch_schedule
        self.state = dict(
            state or {"velocity": None, "samples_seen": 0, "decays": 0, "epochs": 0}
        )
        self.state.setdefault("epochs", 0)  # a state pickled before the counter

    @property
    def learning_rate(self):
        """Current step size ``eta`` of the schedule."""
        if self.epoch_schedule is not None:
            return self.epoch_schedule.learning_rate(
                self.learning_rate_init, self.state["epochs"]
            )
        if self.schedule == "invscaling":
            return (
                self.learning_rate_init
                / (self.state["samples_seen"] + 1) ** self.power_t
            )
        if self.schedule == "adaptive":
            return self.learning_rate_init / 5 ** self.state["decays"]
        return self.learning_rate_init

    def step(self, theta, gradient):
        """Update ``theta`` in place with one gradient step."""
        # whole-vector BLAS updates (NumPy): no temporary, one pass each
        ops = ops_for(theta)
        eta = self.learning_rate
        if self.momentum == 0:
            ops.axpy(-eta, gradient, theta)
            return
        velocity = self.state["velocity"]
        if velocity is None:
            velocity = self.state["velocity"] = ops.zeros_like(theta)
        velocity *= self.momentum
        ops.axpy(-eta, gradient, velocity)  # v <- mu v - eta grad
        if self.nesterov:  # theta <- theta + mu v - eta grad
            ops.axpy(self.momentum, velocity, theta)
            ops.axpy(-eta, gradient, theta)
        else:
            ops.axpy(1.0, velocity, theta)

    def end_epoch(self, samples_seen):
        """Record the samples seen (``"invscaling"``) and count the epoch
        (``"cosine"``, ``"step"``)."""
        self.state["samples_seen"] = samples_seen
        self.state["epochs"] += 1

    def decay(self):
        """Divide the step size by 5 (``"adaptive"``); False once it is below 1e-6."""
        if self.schedule != "adaptive" or self.learning_rate <= 1e-6:
            return False
        self.state["decays"] += 1
        return True


class Adam:
    """Adam (Kingma and Ba, 2015) with bias-corrected moment estimates.

    Parameters
    ----------
    learning_rate_init : float
        Step size ``eta``.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to the root of the second moment for stability.
    state : dict, default=None
        Moments, step count and epoch count carried over from an earlier
        optimizer.
    epoch_schedule : EpochSchedule, default=None
        The ``"cosine"`` or ``"step"`` schedule, which sets ``eta`` from the
        epochs completed (:mod:`skae._training.schedules`); without it ``eta``
        stays ``learning_rate_init`` (scikit-learn's schedules are SGD's:
        its Adam ignores them, as skae's does).
    """

    squares_gradient = True  # the second moment holds the squared gradient

    def __init__(
        self,
        learning_rate_init,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        state=None,
        epoch_schedule=None,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.epoch_schedule = epoch_schedule
        self.state = dict(state or {"m": None, "v": None, "t": 0, "epochs": 0})
        self.state.setdefault("epochs", 0)  # a state pickled before the counter

    @property
    def learning_rate(self):
        """Step size ``eta`` before the bias correction: ``learning_rate_init``,
        or the ``"cosine"`` or ``"step"`` schedule's."""
        if self.epoch_schedule is not None:
            return self.epoch_schedule.learning_rate(
                self.learning_rate_init, self.state["epochs"]
            )
        return self.learning_rate_init

    def step(self, theta, gradient):
        """Update ``theta`` in place with one Adam step."""
        ops = ops_for(theta)
        state = self.state
        if state["m"] is None:
            state["m"] = ops.zeros_like(theta)
            state["v"] = ops.zeros_like(theta)
        state["t"] += 1
        m, v, t = state["m"], state["v"], state["t"]
        # a work array, kept on the optimizer (not in its state)
        scratch = self._work = reused_or_empty_like(getattr(self, "_work", None), theta)
        m *= self.beta_1
        ops.axpy(1 - self.beta_1, gradient, m)
        v *= self.beta_2
        ops.axpy(1 - self.beta_2, ops.square(gradient, out=scratch), v)
        eta = self.learning_rate * (1 - self.beta_2**t) ** 0.5 / (1 - self.beta_1**t)
        scratch = ops.sqrt(v, out=scratch)
        scratch += self.epsilon
        ops.axpy(-eta, ops.divide(m, scratch, out=scratch), theta)

    def end_epoch(self, samples_seen):
        """Count the epoch (``"cosine"``, ``"step"``)."""
        self.state["epochs"] += 1

    def decay(self):
        """Adam has no adaptive schedule: always False."""
        return False


# scipy's gradient test, reduced to an exact stationary point (see below)
LBFGS_GTOL = 1e-12


def minimize_lbfgs(fun, theta0, max_iter, max_fun, callback):
    """Minimise ``fun`` with scipy's L-BFGS-B on the flat vector.

    scipy's own stopping tests are switched off (``ftol=0``) or reduced to an
    exact stationary point (``gtol``), so that the caller's ``callback``
    decides convergence by raising ``StopIteration``, as for the other solvers.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (loss, gradient)``, both in float64.
    theta0 : ndarray of shape (n_params,)
        Starting point, float64.
    max_iter, max_fun : int
        Caps on iterations and on evaluations of ``fun``.
    callback : callable
        Called as ``callback(intermediate_result)`` after each iteration.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
    """
    return minimize(
        fun,
        theta0,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxfun": max_fun,
            "ftol": 0.0,
            "gtol": LBFGS_GTOL,
        },
    )
