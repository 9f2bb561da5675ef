"""A scorer for the autoencoders' own score, for scikit-learn's scoring API."""

# License: BSD-3-Clause

import numpy as np

# scikit-learn's scorer base class, private: ScoringMonitor and the multimetric
# scorer treat its instances as single-score scorers, and call any other
# callable expecting a dict. make_scorer's own scorers cannot serve here: they
# require y (unsupervised model selection passes none) and, before 1.9, call
# nothing but predict on a model that is not a classifier.
from sklearn.metrics._scorer import _BaseScorer


def _mean_of_sample_scores(y_true, sample_scores, sample_weight=None):
    # ``y_true`` is unused: an autoencoder's target is its input
    return float(np.average(sample_scores, weights=sample_weight))


class _ReconstructionScorer(_BaseScorer):
    """Minus the (weighted) mean reconstruction loss, from ``score_samples``.

    The autoencoders have no ``predict``, so scikit-learn's string scorers
    (``"r2"``, ``"neg_mean_squared_error"``, ...) do not apply to them. This
    scorer gives what ``score(X)`` returns, ``-(1/N) sum_i L(x_i,
    g(f(x_i)))``, weighted by ``sample_weight`` when one is given, wherever
    scikit-learn takes a scorer: :class:`~sklearn.callback.ScoringMonitor`
    (its log then has a column ``"score"``), ``GridSearchCV``,
    ``cross_val_score``, with or without ``y``. A pipeline ending in an
    autoencoder is scored on the data its earlier steps transform.

    Call it as ``reconstruction_scorer(estimator, X, y=None,
    sample_weight=None)``.
    """

    def __init__(self):
        super().__init__(
            _mean_of_sample_scores, sign=1, kwargs={}, response_method="score_samples"
        )

    def __call__(self, estimator, X, y_true=None, sample_weight=None, **kwargs):
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self._score(None, estimator, X, y_true, **kwargs)

    def _score(self, method_caller, estimator, X, y_true=None, **kwargs):
        return self._sign * self._score_func(
            y_true, estimator.score_samples(X), **kwargs
        )

    def __repr__(self):
        return "skae.reconstruction_scorer"

    def __reduce__(self):
        # the one instance: unpickled as the module's own object
        return "reconstruction_scorer"


reconstruction_scorer = _ReconstructionScorer()
