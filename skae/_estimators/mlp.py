"""MLPRegressorGD: a multi-layer perceptron regressor trained by backpropagation."""

# License: BSD-3-Clause

import math

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from skae._estimators.mlp_base import BaseMLP
from skae._math.activations import Identity
from skae._math.array_api import ops_for
from skae._math.namespaces import to_namespace_of
from skae._training.checks import input_dtype, normalized_weights, stochastic_solver


class MLPRegressorGD(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor trained by backpropagation.

    The hidden layers use ``activation``, the output layer is the identity,
    and the loss is the squared error summed over outputs, averaged over
    samples with ``sample_weight``, plus L2 weight decay:

    .. math::

        J(\\theta) = \\frac{1}{\\sum_i w_i} \\sum_i w_i \\|t_i - y_i\\|^2
                    + \\lambda \\sum_l \\|W_l\\|_F^2

    Parameter names follow :class:`sklearn.neural_network.MLPRegressor`, with
    ``weight_decay`` (the lecture's lambda) in place of ``alpha``.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Width of each hidden layer.
    activation : str, Activation or sequence of them, default="relu"
        Activation of the hidden layers: a name in
        :data:`skae.activations.ACTIVATIONS` (or ``"logistic"``), or an
        activation object such as ``PReLU(alpha=0.1)``; or a sequence of
        them, one per hidden layer, bottom first (``("tanh", "relu")``).
    dropout : float or sequence of float, default=0.0
        Probability of dropping each unit of a hidden layer during training
        (inverted dropout, Srivastava et al., 2014: the kept units are scaled
        by ``1 / (1 - p)``), in ``[0, 1)``; one for all hidden layers or one
        per hidden layer. The masks are drawn from ``random_state``; predicting
        and scoring never drop. Needs ``solver="sgd"`` or ``"adam"``.
    init : {"random", "greedy"}, default="random"
        Initialisation of a fresh network. ``"random"``: Glorot-uniform
        weights and zero biases. ``"greedy"``: greedy layer-wise pretraining
        (Bengio et al., 2007): each hidden layer is first trained, from
        Glorot's draw, as a shallow autoencoder of this estimator's settings
        (activation, solver, weight decay, ``max_iter``...) on the output of
        the layers below it, unsupervised on ``X`` (the first with an
        identity output and the squared error), and its encoder initialises
        the layer; the output layer keeps its Glorot draw; then the whole
        network is trained as usual. ``pretrain_loss_curves_`` records the
        stages. A warm start or ``partial_fit`` continuing a fitted network
        does not pretrain again.
    pretrain_corruption : {"masking", "gaussian", "salt_and_pepper"}, default=None
        With ``init="greedy"``, train the stages as denoising autoencoders
        (Vincent et al., 2010: stacked denoising autoencoders): each stage
        encodes a corrupted copy of its input and reconstructs the clean one,
        with the kinds of :class:`AutoEncoder`'s ``corruption``; the
        supervised training sees clean inputs. None: plain stages. Set
        without ``init="greedy"`` it has nothing to act on and a fit warns.
    pretrain_corruption_level : float, default=0.3
        Level of ``pretrain_corruption``: the probability of an entry being
        corrupted ("masking", "salt_and_pepper") or the noise's standard
        deviation ("gaussian").
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"sgd"`` is gradient descent with momentum; with ``momentum=0`` and
        ``batch_size="full"``, ``1`` or ``k`` it is the lecture's Batch GD,
        SGD or mini-batch SGD. ``"lbfgs"`` runs scipy's L-BFGS-B on all data.
    weight_decay : float, default=1e-4
        Strength ``lambda`` of the L2 penalty on the weights (not the biases).
    batch_size : int, "auto" or "full", default="auto"
        Samples per gradient step of "sgd" and "adam": "auto" is
        ``min(200, n_samples)``, "full" the whole training set.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine", "step"}, \
            default="constant"
        Step-size schedule. scikit-learn's three apply to "sgd" only ("adam"
        ignores them, as scikit-learn's does): "constant" keeps
        ``learning_rate_init``, "invscaling" divides it by
        ``(t + 1) ** power_t`` (``t`` the samples seen) and "adaptive" by 5
        each time the loss stops improving (``n_iter_no_change``). "cosine"
        and "step" change it between epochs for "sgd" and "adam" alike (see
        ``lr_period``). "lbfgs" ignores it.
    learning_rate_init : float, default=0.001
        Initial step size of "sgd" and "adam".
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    lr_period : int or None, default=None
        Period ``P``, in epochs, of the "cosine" and "step" schedules. With
        ``e`` the epochs the solver has completed (counted across partial_fit
        calls and warm starts), ``eta0 = learning_rate_init`` and
        ``eta_min = 1e-3 * eta0``, "cosine" sets
        ``eta = eta_min + (eta0 - eta_min) * (1 + cos(pi * e' / P)) / 2``
        with ``e' = e mod P``: a warm restart at ``eta0`` every ``P`` epochs
        (SGDR, Loshchilov and Hutter 2017); None means ``P = max_iter`` and
        ``e' = min(e, P)``: one cycle, after which ``eta`` stays ``eta_min``.
        "step" sets ``eta = eta0 * lr_step_factor ** floor(e / P)``; None
        means ``P = ceil(max_iter / 3)``.
    lr_step_factor : float, default=0.1
        Factor in (0, 1] by which "step" multiplies the step size every
        ``lr_period`` epochs.
    max_iter : int, default=1000
        Maximum number of epochs ("sgd", "adam") or iterations ("lbfgs").
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement that counts: of the training objective J,
        relative to ``max(|J|, 1)`` (the scale of the data's loss), or of the
        validation score.
    verbose : bool, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit's parameters.
    momentum : float, default=0.9
        Momentum of "sgd", in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        validation R^2 stops improving, keeping the best parameters.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Number of epochs without an improvement of ``tol`` before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs".

    Attributes
    ----------
    coefs_ : list of ndarray
        ``coefs_[l]``, of shape (n_l, n_{l+1}), weights of layer ``l``; views of
        one flat parameter vector.
    intercepts_ : list of ndarray
        ``intercepts_[l]``, of shape (n_{l+1},), biases of layer ``l``.
    loss_ : float
        Objective ``J`` at the last epoch.
    loss_curve_ : list of float
        ``J`` at each epoch (the mean over its mini-batches).
    pretrain_loss_curves_ : list of list of float or None
        With ``init="greedy"``, the loss curve of each pretraining stage,
        bottom layer first; None with ``init="random"``.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation R^2 at each epoch, with ``X_val`` or ``early_stopping``;
        else None.
    validation_loss_curve_ : list of float or None
        The objective J on the validation data after each epoch that had
        validation data (all epochs of a fit with ``X_val`` or early
        stopping, beside ``loss_curve_``); None without validation data.
    best_validation_score_ : float or None
        Best validation score of the latest fit (each fit keeps the best
        parameters it sees itself).
    n_iter_ : int
        Number of epochs (iterations for "lbfgs") of the latest ``fit``, also
        under ``warm_start`` (``loss_curve_`` keeps the whole record); each
        ``partial_fit`` adds one.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during fit, when they are all strings.
    n_outputs_ : int
        Number of outputs.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : Scikit-learn's own MLP regressor.
    AutoEncoder : The same core trained to reconstruct its input.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skae import MLPRegressorGD
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1, random_state=0)
    >>> reg = MLPRegressorGD(hidden_layer_sizes=(20,), solver="lbfgs",
    ...                      random_state=0).fit(X, y / 100)
    >>> reg.score(X, y / 100) > 0.95
    True
    """

    def _output_activation(self):
        return Identity()

    def _validation_score(self, X, T, sample_weight):
        Y = self._forward(X)
        ops = ops_for(Y)
        if not math.isfinite(float(ops.max(ops.abs(Y)))):  # overflowed on unseen data
            return -np.inf
        return r2_score(T, Y, sample_weight=sample_weight)

    def _validate_training_data(
        self, X, y, sample_weight, reset, like=None, method="fit"
    ):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc"),
            dtype=input_dtype(self, reset, X, like, method),
            multi_output=True,
            y_numeric=True,
            reset=reset,
        )
        if getattr(y.dtype, "kind", "f") in "USO":  # strings: numbers, or labels?
            try:
                y = np.asarray(y, dtype=np.float64)
            except ValueError as error:
                raise ValueError(
                    f"{type(self).__name__} is a regressor: y must hold numbers, "
                    f"and it holds strings ({error}). For class labels use a "
                    "classifier (sklearn.neural_network.MLPClassifier); for "
                    "numbers written as strings, convert them first "
                    "(np.asarray(y, dtype=float))."
                ) from error
        if reset:
            self._y_ndim = y.ndim
        # targets and weights of another namespace go where X is
        y = to_namespace_of(y, X)
        ops = ops_for(y)
        y = ops.astype(ops.reshape(y, (y.shape[0], -1)), X.dtype)
        if sample_weight is not None:
            sample_weight = to_namespace_of(normalized_weights(sample_weight, X), X)
        return X, y, sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
        X_unlabeled=None,
    ):
        """Fit the network to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs; CSR and CSC matrices are never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``w_i`` of the samples in the loss. On full-batch training
            ("lbfgs", or ``batch_size`` at least ``n_samples``) integer weights
            act exactly as repeated rows; on mini-batches each batch weights
            its own samples, and the batches of weighted and of repeated data
            differ.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation inputs. When given, ``validation_scores_`` (R^2) and
            ``validation_loss_curve_`` (the objective J) are recorded every
            epoch, and early stopping uses them instead of holding out
            ``validation_fraction`` of ``X``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation targets, required with ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.
        X_unlabeled : {array-like, sparse matrix} of shape (m, n_features), default=None
            Inputs without targets, for greedy pretraining (``init="greedy"``,
            a fresh fit): its stages train on ``X`` and ``X_unlabeled``
            (each unlabeled row of weight 1); the training proper sees only
            ``X``. Refused with another ``init`` or a continued fit.

        Returns
        -------
        self : MLPRegressorGD
            The fitted estimator.
        """
        return self._fit(
            X, y, sample_weight, X_val, y_val, sample_weight_val, X_unlabeled
        )

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch over ``(X, y)``, keeping the solver's state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : MLPRegressorGD
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, 1-D when ``y`` was 1-D at fit.
        """
        Y = self._forward(self._validate_input(X))
        return ops_for(Y).reshape(Y, (-1,)) if self._y_ndim == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
