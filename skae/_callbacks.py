"""scikit-learn's callbacks (1.9 and later): one fit task per epoch or iteration."""

# License: BSD-3-Clause

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn before 1.9: the estimators work without

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's mixin where it does not exist yet."""


class FitTasks:
    """The callback tasks of one fit: the fit itself, and one subtask per epoch
    (stochastic solvers) or L-BFGS iteration.

    As in scikit-learn's own L-BFGS support, the next iteration's task begins
    when one ends, so the task left open at the end is closed empty. Without
    callbacks (none set, none propagated from a meta-estimator, or a
    scikit-learn without them) every method does nothing.

    Parameters
    ----------
    estimator : BaseNetwork
        The estimator being fitted.
    X, y : array-like
        The training data and targets the callbacks may score on.
    metadata : dict or None
        Training metadata such as ``{"sample_weight": w}``.
    max_iterations : int
        The most epochs or iterations this fit can run.
    """

    def __init__(self, estimator, X, y, metadata, max_iterations):
        self.estimator = estimator
        self.data = dict(X=X, y=y, metadata=metadata)
        has_callbacks = getattr(estimator, "_skl_callbacks", None) or hasattr(
            estimator, "_parent_callback_ctx"
        )
        self.context = self.current = None
        self.stop_requested = False
        if has_callbacks and hasattr(estimator, "_init_callback_context"):
            self.context = estimator._init_callback_context(
                max_subtasks=max_iterations + 1
            )
            self.context.call_on_fit_task_begin(estimator=estimator, **self.data)
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
        self.current.call_on_fit_task_end(estimator=self.estimator)
        self.context.call_on_fit_task_end(
            estimator=self.estimator,
            reconstruction_attributes=self._fitted_attributes,
            **self.data,
        )
