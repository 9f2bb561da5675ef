"""MLPClassifierGD: a multi-layer perceptron classifier trained by backpropagation."""

# License: BSD-3-Clause

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skae._estimators.labels import (
    check_classes,
    learn_classes,
    stratification_labels,
    targets_and_weights,
)
from skae._estimators.mlp_base import BaseMLP
from skae._math.activations import Sigmoid, Softmax
from skae._math.array_api import ops_for
from skae._math.namespaces import to_namespace_of, to_numpy
from skae._training.checks import input_dtype, stochastic_solver


class MLPClassifierGD(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier trained by backpropagation.

    The hidden layers use ``activation``; the target decides the output and
    the loss, each the negative log-likelihood of its model (lecture: loss
    functions from maximum likelihood), as for scikit-learn's
    :class:`~sklearn.neural_network.MLPClassifier`:

    - binary ``y``: one sigmoid output, the probability of ``classes_[1]``,
      and the binary cross-entropy (a Bernoulli model);
    - multiclass ``y``: a softmax over ``len(classes_)`` outputs and the
      categorical cross-entropy (a categorical model);
    - a multilabel indicator matrix ``y``: one sigmoid a label and the sum of
      their binary cross-entropies (independent Bernoulli models).

    The objective averages the loss over samples with their weights (sample
    weights times class weights) and adds L2 weight decay:

    .. math::

        J(\\theta) = \\frac{1}{\\sum_i w_i} \\sum_i w_i L(t_i, p_i)
                    + \\lambda \\sum_l \\|W_l\\|_F^2

    Parameter names follow :class:`sklearn.neural_network.MLPClassifier`,
    with ``weight_decay`` (the lecture's lambda) in place of ``alpha``.

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
        Initialisation of a fresh network: Glorot-uniform weights, or greedy
        layer-wise pretraining of each hidden layer as a shallow autoencoder
        on ``X`` (unsupervised), as :class:`MLPRegressorGD` does.
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
        ``"sgd"`` is gradient descent with momentum, ``"adam"`` Adam, and
        ``"lbfgs"`` scipy's L-BFGS-B on all data.
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
        relative to ``max(|J|, 1)``, or of the validation accuracy.
    verbose : bool, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit's parameters (``y`` must have the
        classes of that fit).
    momentum : float, default=0.9
        Momentum of "sgd", in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified by class,
        except for multilabel targets) and stop when the validation accuracy
        stops improving, keeping the best parameters. Accuracies within
        ``tol`` of the best are a tie, broken by the validation objective:
        training goes on while it falls, and the tied epoch with the lowest
        is kept.
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
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as scikit-learn's linear classifiers define
        them: ``{class: weight}``, or ``"balanced"`` for
        ``n_samples / (n_classes * np.bincount(y))``. A sample's weight in
        the loss is its class's weight times its ``sample_weight``, on the
        training and the validation data. Binary and multiclass targets only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels (for a multilabel target, ``[0, 1]`` for each label is
        not stored: ``classes_`` is then ``np.arange(n_labels)``).
    coefs_ : list of ndarray
        ``coefs_[l]``, of shape (n_l, n_{l+1}), weights of layer ``l``; views
        of one flat parameter vector.
    intercepts_ : list of ndarray
        ``intercepts_[l]``, of shape (n_{l+1},), biases of layer ``l``.
    loss_ : float
        Objective ``J`` at the last epoch.
    loss_curve_ : list of float
        ``J`` at each epoch (the mean over its mini-batches).
    pretrain_loss_curves_ : list of list of float or None
        With ``init="greedy"``, the loss curve of each pretraining stage.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation accuracy at each epoch, with ``X_val`` or
        ``early_stopping``; else None.
    validation_loss_curve_ : list of float or None
        The objective J on the validation data after each epoch that had
        validation data; None without.
    best_validation_score_ : float or None
        Best validation accuracy of the latest fit.
    n_iter_ : int
        Number of epochs (iterations for "lbfgs") of the latest ``fit``.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during fit, when they are all strings.
    n_outputs_ : int
        Number of outputs: 1 for a binary target, else the number of classes
        or labels.
    out_activation_ : str
        ``"logistic"`` (binary, multilabel) or ``"softmax"`` (multiclass), as
        scikit-learn names them.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Scikit-learn's own MLP classifier.
    MLPRegressorGD : The same core with an identity output and squared error.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skae import MLPClassifierGD
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X / 16, y, random_state=0)
    >>> clf = MLPClassifierGD(hidden_layer_sizes=(32,), solver="lbfgs",
    ...                       random_state=0).fit(X_train, y_train)
    >>> bool(clf.score(X_test, y_test) > 0.95)
    True
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        dropout=0.0,
        init="random",
        pretrain_corruption=None,
        pretrain_corruption_level=0.3,
        solver="adam",
        weight_decay=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        lr_period=None,
        lr_step_factor=0.1,
        max_iter=1000,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            init=init,
            pretrain_corruption=pretrain_corruption,
            pretrain_corruption_level=pretrain_corruption_level,
            solver=solver,
            weight_decay=weight_decay,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            lr_period=lr_period,
            lr_step_factor=lr_step_factor,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )
        self.class_weight = class_weight

    # -- the target: labels to the outputs' targets -------------------------

    @property
    def _multiclass(self):
        return self._label_binarizer.y_type_ == "multiclass"

    def _output_activation(self):
        return Softmax() if self._multiclass else Sigmoid()

    def _loss_name(self):
        return "categorical_cross_entropy" if self._multiclass else "cross_entropy"

    @property
    def out_activation_(self):
        """str: ``"softmax"`` or ``"logistic"``, scikit-learn's names."""
        check_is_fitted(self)
        return "softmax" if self._multiclass else "logistic"

    _fewest_validation_rows = 1  # an accuracy is defined on one row
    _stepped_validation_score = True

    def _validation_split_labels(self, T, n_held_out):
        return stratification_labels(self._label_binarizer, T, n_held_out)

    def _validation_score(self, X, T, sample_weight):
        """Accuracy (of whole label rows for a multilabel target)."""
        P, T = to_numpy(self._forward(X)), to_numpy(T)
        if self._multiclass:
            correct = P.argmax(axis=1) == T.argmax(axis=1)
        else:
            correct = np.all((P > 0.5) == (T > 0.5), axis=1)
        weights = None if sample_weight is None else to_numpy(sample_weight)
        return float(np.average(correct, weights=weights))

    def _validate_training_data(
        self, X, y, sample_weight, reset, like=None, method="fit", classes=None
    ):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc"),
            dtype=input_dtype(self, reset, X, like, method),
            multi_output=True,
            reset=reset,
        )
        y = to_numpy(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if reset and method == "partial_fit" and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "labels of all the batches to come (np.unique(y_all))."
            )
        if reset:
            self._label_binarizer = learn_classes(type(self).__name__, y, classes)
            self.classes_ = self._label_binarizer.classes_
        check_classes(self._label_binarizer, y, classes)
        T, weights = targets_and_weights(
            self._label_binarizer, self.class_weight, y, sample_weight, X
        )
        return X, T, weights

    # -- fitting -------------------------------------------------------------

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
        """Fit the network to data ``X`` and class labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs; CSR and CSC matrices are never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss, multiplied by their class's
            weight (``class_weight``).
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation inputs. When given, ``validation_scores_`` (accuracy)
            and ``validation_loss_curve_`` (the objective J) are recorded every
            epoch, and early stopping uses them instead of holding out
            ``validation_fraction`` of ``X``.
        y_val : array-like of shape (n_val,) or (n_val, n_labels), default=None
            Validation labels, required with ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.
        X_unlabeled : {array-like, sparse matrix} of shape (m, n_features), default=None
            Inputs without targets, for greedy pretraining (``init="greedy"``,
            a fresh fit): its stages train on ``X`` and ``X_unlabeled``
            (each unlabeled row of weight 1); the training proper sees only
            ``X``. Refused with another ``init`` or a continued fit.

        Returns
        -------
        self : MLPClassifierGD
            The fitted estimator.
        """
        return self._fit(
            X, y, sample_weight, X_val, y_val, sample_weight_val, X_unlabeled
        )

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch over ``(X, y)``, keeping the solver's state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            The classes of all the calls, required on the first call (as for
            scikit-learn's incremental classifiers) and, if given later, equal
            to them.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : MLPClassifierGD
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)

    # -- prediction ------------------------------------------------------------

    def _logits(self, X):
        """The output layer's logits for ``X``, computed chunk by chunk from
        the last hidden layer (the only array of all the rows is the result)."""
        network, theta = self._network, self._theta
        last = network.n_layers - 1

        def logits(H):  # the output layer's pre-activations
            return network.forward(theta, H, start=last)[1]

        return self._forward(X, stop=last, then=logits)

    def predict_proba(self, X):
        """Probability of each class (of each label, for a multilabel target).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; for a multilabel target the
            probability of each label.
        """
        X = self._validate_input(X, method="predict_proba")
        if self._label_binarizer.y_type_ != "binary":
            return self._forward(X)
        # both columns from the logit, each to its own relative precision
        # (``1 - p`` would round away a small probability of classes_[0])
        Z = self._logits(X)
        output = self._network.output
        return _columns([output.forward(ops_for(Z).negative(Z)), output.forward(Z)])

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed from the logits: finite
        where a probability rounds to 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns as in :meth:`predict_proba`.
        """
        Z = self._logits(self._validate_input(X, method="predict_log_proba"))
        output = self._network.output
        if self._label_binarizer.y_type_ != "binary":
            return output.log_forward(Z)
        negative = ops_for(Z).negative(Z)
        return _columns([output.log_forward(negative), output.log_forward(Z)])

    def predict(self, X):
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted classes (a multilabel indicator matrix for a multilabel
            target).
        """
        P = self._forward(self._validate_input(X))
        labels = self._label_binarizer.inverse_transform(to_numpy(P))
        if labels.dtype.kind in "iufb":  # numbers go where X is (Array API)
            return to_namespace_of(labels, P)
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # class weights are for binary and multiclass targets
        tags.classifier_tags.multi_label = self.class_weight is None
        return tags


def _columns(arrays):
    """Columns side by side, in the arrays' namespace."""
    ops = ops_for(arrays[0])
    return np.hstack(arrays) if ops.is_numpy else ops.xp.concat(arrays, axis=1)
