"""A scikit-learn fit callback that does nothing: the tests' callbacks add
only the hook they are about."""

# License: BSD-3-Clause


class DoNothingCallback:
    """Every hook of scikit-learn's callback protocol, doing nothing."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        pass
