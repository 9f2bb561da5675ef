"""scikit-learn's callbacks (1.9 and later): one fit task per epoch or iteration."""

# License: BSD-3-Clause

from contextlib import contextmanager

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn before 1.9: the estimators work without

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's mixin where it does not exist yet."""


# the prediction methods scikit-learn's scorers call
_RESPONSE_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
)


@contextmanager
def _explained_scorer_errors(estimator):
    """Re-raise a callback's scorer that needs a method the estimator lacks
    (``ScoringMonitor(scoring="r2")`` on an autoencoder) with the fix."""
    try:
        yield
    except AttributeError as exc:
        missing = [
            name
            for name in _RESPONSE_METHODS
            if name in str(exc) and not hasattr(estimator, name)
        ]
        if not missing:
            raise
        raise AttributeError(
            f"A callback's scorer calls {missing[0]!r}, which "
            f"{type(estimator).__name__} does not have: scikit-learn's string "
            "scorers ('r2', 'neg_mean_squared_error', ...) score predictions. "
            "Score an autoencoder by its own score, minus the mean "
            "reconstruction loss, with "
            "ScoringMonitor(scoring=skae.reconstruction_scorer)."
        ) from exc


class FitTasks:
    """The callback tasks of one fit: the fit itself, and one subtask per epoch
    (stochastic solvers) or L-BFGS iteration.

    As in scikit-learn's own L-BFGS support, the next iteration's task begins
    when one ends, so the task left open at the end is closed empty. Without
    callbacks (none set, none propagated from a meta-estimator, or a
    scikit-learn without them) every method does nothing.

    Parameters
    ----------
    estimator : TrainableNetwork
        The estimator being fitted.
    X, y : array-like
        The training data and targets the callbacks may score on.
    metadata : dict or None
        Training metadata such as ``{"sample_weight": w}``.
    max_iterations : int
        The most epochs or iterations this fit can run.
    n_pretraining : int, default=0
        Greedy pretraining stages run before the iterations, a task each
        (see :meth:`pretraining_task`).
    """

    def __init__(self, estimator, X, y, metadata, max_iterations, n_pretraining=0):
        self.estimator = estimator
        self.data = dict(X=X, y=y, metadata=metadata)
        has_callbacks = getattr(estimator, "_skl_callbacks", None) or hasattr(
            estimator, "_parent_callback_ctx"
        )
        self.context = self.current = None
        self.stop_requested = False
        if has_callbacks and hasattr(estimator, "_init_callback_context"):
            self.context = estimator._init_callback_context(
                max_subtasks=n_pretraining + max_iterations + 1
            )
            self.context.call_on_fit_task_begin(estimator=estimator, **self.data)

    @contextmanager
    def pretraining_task(self, stage):
        """A task of the fit for one pretraining stage, whose own fit (the
        estimator ``stage``) gets the callbacks and its tasks below it; a
        callback returning True at its end sets ``stop_requested``."""
        if self.context is None:
            yield
            return
        # a leaf: the stage's own fit task takes its place in the tree
        task = self.context.subcontext(task_name="pretraining")
        task.call_on_fit_task_begin(estimator=self.estimator, **self.data)
        try:
            with task.propagate_callback_context(stage):
                yield
        finally:  # ended when the stage fails too: the task tree stays whole
            with _explained_scorer_errors(self.estimator):
                stop = task.call_on_fit_task_end(estimator=self.estimator, **self.data)
        # a callback that asks to stop here ends the fit: no more stages, and
        # no training of the whole network
        self.stop_requested = self.stop_requested or bool(stop)

    def begin_training(self):
        """Begin the first iteration's task (after any pretraining)."""
        if self.context is not None:
            self.current = self._begin()

    def _fitted_attributes(self):
        # a copy ready to predict and transform as if fit stopped here
        return {"_theta": self.estimator._theta.copy()}

    def _begin(self):
        task = self.context.subcontext(task_name="iteration")
        task.call_on_fit_task_begin(
            estimator=self.estimator,
            reconstruction_attributes=self._fitted_attributes,
            **self.data,
        )
        return task

    def end_iteration(self):
        """End the current epoch's task and begin the next; a callback that
        returns True sets ``stop_requested``."""
        if self.context is None:
            return
        with _explained_scorer_errors(self.estimator):
            stop = self.current.call_on_fit_task_end(
                estimator=self.estimator,
                reconstruction_attributes=self._fitted_attributes,
                **self.data,
            )
        self.stop_requested = self.stop_requested or bool(stop)
        self.current = self._begin()

    def close(self):
        """End the task left open (empty) and the fit's own task."""
        if self.context is None:
            return
        if self.current is not None:
            self.current.call_on_fit_task_end(estimator=self.estimator)
        with _explained_scorer_errors(self.estimator):
            self.context.call_on_fit_task_end(
                estimator=self.estimator,
                reconstruction_attributes=self._fitted_attributes,
                **self.data,
            )
