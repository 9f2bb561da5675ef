"""AutoEncoder and SparseAutoEncoder: networks trained to reconstruct their input."""

# License: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skae._base import BaseNetwork
from skae._checks import (
    check_sparsity_weight,
    check_unit_interval,
    input_dtype,
    stochastic_solver,
)
from skae._losses import LOSSES
from skae._objective import Objective
from skae._penalties import KLSparsity
from skae.activations import ACTIVATIONS, get_activation


class AutoEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNetwork):
    """Autoencoder trained by backpropagation to reconstruct its input.

    The encoder maps ``x`` to the code ``h = f(x) = s_f(W x + p)`` of
    ``n_components`` units, the decoder maps it back to ``y = g(h) =
    s_g(W~ h + q)`` (lecture: Basic AutoEncoder). ``hidden_layer_sizes`` adds
    encoder layers before the code, which the decoder mirrors. Training
    minimises the mean reconstruction loss plus weight decay (lecture:
    Regularized AutoEncoder):

    .. math::

        J(\\theta) = \\frac{1}{N} \\sum_i L(x_i, g(f(x_i)))
                    + \\lambda \\sum_l \\|W_l\\|_F^2

    Parameters
    ----------
    n_components : int, default=10
        Width ``m`` of the code returned by :meth:`transform`.
    hidden_layer_sizes : array-like of int, default=()
        Widths of extra encoder layers before the code; the decoder mirrors
        them in reverse order.
    activation : str or Activation, default="sigmoid"
        Activation ``s_f`` of the encoder and decoder hidden layers.
    out_activation : {"identity", "sigmoid"}, default="identity"
        Decoder output activation ``s_g``.
    loss : {"auto", "squared_error", "cross_entropy"}, default="auto"
        Reconstruction loss ``L``: "auto" takes the squared error
        ``||x - y||^2`` for an identity output and the cross-entropy
        ``-sum_k [x_k log y_k + (1 - x_k) log(1 - y_k)]`` for a sigmoid
        output. The cross-entropy needs the sigmoid output and data in [0, 1].
    tied_weights : bool, default=False
        Decode with the transposed encoder weights, ``W~ = W^T`` (each decoder
        layer with its mirror encoder layer's): half the weights, the
        gradients of both uses summed. Weight decay counts each weight once.
    solver : {"lbfgs", "sgd", "adam"}, default="lbfgs"
        Optimiser; see :class:`MLPRegressorGD`.
    weight_decay : float, default=1e-4
        Strength ``lambda`` of the L2 penalty on the weights.
    batch_size : int, "auto" or "full", default="auto"
        Samples per step of "sgd" and "adam".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of "sgd".
    learning_rate_init : float, default=0.001
        Initial step size of "sgd" and "adam".
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    max_iter : int, default=200
        Maximum number of epochs or L-BFGS iterations.
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.
    verbose : bool, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit's parameters.
    momentum : float, default=0.9
        Momentum of "sgd".
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    early_stopping : bool, default=False
        Stop when the score on a held-out ``validation_fraction`` stops
        improving, keeping the best parameters.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Number of iterations without an improvement of ``tol`` before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs".

    Attributes
    ----------
    coefs_ : list of ndarray
        Weights of each layer, encoder first; views of one parameter vector.
    intercepts_ : list of ndarray
        Biases of each layer (the lecture's ``p`` and ``q``).
    loss_ : float
        Objective ``J`` at the last iteration.
    loss_curve_ : list of float
        ``J`` at each iteration.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation score (minus the mean reconstruction loss) at each
        iteration, with ``X_val`` or ``early_stopping``; else None.
    validation_loss_curve_ : list of float or None
        The objective J on the validation data after each iteration that had
        validation data (all iterations of a fit with ``X_val`` or early
        stopping, beside ``loss_curve_``); None without validation data.
    best_validation_score_ : float or None
        Best validation score of the latest fit (each fit keeps the best
        parameters it sees itself).
    n_iter_ : int
        Number of epochs or L-BFGS iterations of the latest ``fit``, also
        under ``warm_start`` (``loss_curve_`` keeps the whole record); each
        ``partial_fit`` adds one.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during fit, when they are all strings.
    n_outputs_ : int
        Number of outputs, equal to ``n_features_in_``.

    See Also
    --------
    SparseAutoEncoder : Adds the KL sparsity penalty on the code.
    sklearn.decomposition.PCA : The linear counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import AutoEncoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> ae = AutoEncoder(n_components=16, random_state=0, max_iter=50).fit(X)
    >>> ae.transform(X).shape
    (1797, 16)
    >>> ae.inverse_transform(ae.transform(X)).shape
    (1797, 64)
    """

    _integer_parameters = (*BaseNetwork._integer_parameters, "n_components")
    _width_parameters = ("n_components", "hidden_layer_sizes")

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "out_activation": [StrOptions({"identity", "sigmoid"})],
        "loss": [StrOptions({"auto", "squared_error", "cross_entropy"})],
        "tied_weights": ["boolean"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(),
        activation="sigmoid",
        out_activation="identity",
        loss="auto",
        tied_weights=False,
        solver="lbfgs",
        weight_decay=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
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
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.out_activation = out_activation
        self.loss = loss
        self.tied_weights = tied_weights
        self.solver = solver
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # -- hooks of BaseNetwork -------------------------------------------------

    @property
    def _code_layer(self):
        """Index of the code ``h`` among the fitted network's activations."""
        return self._network.n_layers // 2  # the decoder mirrors the encoder

    def _layer_sizes(self, n_features, n_outputs):
        hidden = self._hidden_layer_sizes()
        return (n_features, *hidden, self.n_components, *hidden[::-1], n_features)

    def _output_activation(self):
        return get_activation(self.out_activation)

    def _tied_weights(self):
        return self.tied_weights

    def _loss_name(self):
        if self.loss != "auto":
            return self.loss
        return "cross_entropy" if self.out_activation == "sigmoid" else "squared_error"

    def _check_setup(self, T):
        if self._loss_name() != "cross_entropy":
            return
        if self.out_activation != "sigmoid":
            raise ValueError(
                "loss='cross_entropy' needs the sigmoid output: set "
                f"out_activation='sigmoid' (got {self.out_activation!r}) or "
                "loss='squared_error'."
            )
        check_unit_interval(T)

    def _validation_score(self, X, T, sample_weight):
        return self._score(X)

    @property
    def _n_features_out(self):
        return self._network.layer_sizes[self._code_layer]

    # -- public API -----------------------------------------------------------

    def _validate_input(self, X, reset=False, dtype=None):
        if not reset and dtype is None:
            check_is_fitted(self)
        return validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=input_dtype(self, reset, dtype),
            reset=reset,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_val=None):
        """Fit the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR and CSC matrices are never densified whole.
        y : None
            Ignored.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data. When given, ``validation_scores_`` (minus the mean
            reconstruction loss) and ``validation_loss_curve_`` (the objective
            J) are recorded every iteration, and early stopping uses them
            instead of holding out ``validation_fraction`` of ``X``.

        Returns
        -------
        self : AutoEncoder
            The fitted estimator.
        """
        self._validate_hyperparameters(incremental=False)
        reset = not (self.warm_start and hasattr(self, "_theta"))
        with self._rollback_on_error(keep_divergence=True):
            X = self._validate_input(X, reset=reset)
            validation = None
            if X_val is not None:
                X_val = self._validate_input(X_val, dtype=X.dtype)
                validation = (X_val, X_val, None)
            return self._fit_network(X, X, validation=validation)

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train one epoch over ``X``, keeping the solver's state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : AutoEncoder
            The updated estimator.
        """
        self._validate_hyperparameters(incremental=True)
        reset = not hasattr(self, "_theta")
        with self._rollback_on_error(keep_divergence=False):
            X = self._validate_input(X, reset=reset)
            return self._fit_network(X, X, incremental=True)

    def transform(self, X):
        """Encode ``X``: the code ``h = f(x)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Codes.
        """
        X = self._validate_input(X)
        return self._forward(X, stop=self._code_layer)

    def inverse_transform(self, X):
        """Decode codes: the reconstruction ``y = g(h)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions.
        """
        check_is_fitted(self)
        H = check_array(X, dtype=self._theta.dtype)
        n_components = self._n_features_out
        if H.shape[1] != n_components:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects codes "
                f"of n_components={n_components} features."
            )
        return self._forward(H, start=self._code_layer)

    def _score(self, X):
        # in float64: float32 losses that are each finite can overflow a sum
        return -float(np.mean(self._sample_losses(X), dtype=np.float64))

    def _sample_losses(self, X):
        # the loss the model was fitted with, whatever the parameters say now
        if self._fitted_loss == "cross_entropy":
            check_unit_interval(X)
        objective = Objective(self._network, LOSSES[self._fitted_loss](), None)
        return objective.sample_losses(self._theta, X, X)

    def score_samples(self, X):
        """Return minus the reconstruction loss of each sample, ``-L(x_i, g(f(x_i)))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better; 0 is a perfect reconstruction under squared error.
        """
        return -self._sample_losses(self._validate_input(X))

    def score(self, X, y=None):
        """Return minus the mean reconstruction loss, ``-(1/N) sum_i L(x_i, y_i)``.

        The penalties are left out, so scores compare across ``weight_decay``
        and the sparsity parameters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better.
        """
        return self._score(self._validate_input(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SparseAutoEncoder(AutoEncoder):
    """Autoencoder with a KL sparsity penalty on the mean code activations.

    Adds to :class:`AutoEncoder`'s objective the lecture's sparsity term
    (Sparse AutoEncoder):

    .. math::

        J(\\theta) = \\frac{1}{N} \\sum_i L(x_i, g(f(x_i)))
                    + \\lambda \\sum_l \\|W_l\\|_F^2
                    + \\beta \\sum_{j=1}^m \\mathrm{KL}(\\rho \\| \\hat\\rho_j)

    where ``rho_hat_j`` is the mean activation of code unit ``j`` over the
    samples of a gradient step (the whole training set for "lbfgs" and
    ``batch_size="full"``). Backpropagation adds
    ``beta (-rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j)) / N`` to the
    code layer's error before the activation derivative.

    Parameters
    ----------
    n_components : int, default=10
        Width ``m`` of the code returned by :meth:`transform`.
    sparsity_target : float, default=0.05
        Target mean activation ``rho`` of each code unit, in (0, 1).
    sparsity_weight : float, default=1.0
        Weight ``beta`` of the KL penalty, >= 0. When it is positive the code
        activation must take values in [0, 1] (``"sigmoid"``).
    hidden_layer_sizes : array-like of int, default=()
        Widths of extra encoder layers before the code; the decoder mirrors
        them in reverse order.
    activation : str or Activation, default="sigmoid"
        Activation ``s_f`` of the encoder and decoder hidden layers.
    out_activation : {"identity", "sigmoid"}, default="identity"
        Decoder output activation ``s_g``.
    loss : {"auto", "squared_error", "cross_entropy"}, default="auto"
        Reconstruction loss ``L``: "auto" takes the squared error
        ``||x - y||^2`` for an identity output and the cross-entropy
        ``-sum_k [x_k log y_k + (1 - x_k) log(1 - y_k)]`` for a sigmoid
        output. The cross-entropy needs the sigmoid output and data in [0, 1].
    tied_weights : bool, default=False
        Decode with the transposed encoder weights, ``W~ = W^T`` (each decoder
        layer with its mirror encoder layer's): half the weights, the
        gradients of both uses summed. Weight decay counts each weight once.
    solver : {"lbfgs", "sgd", "adam"}, default="lbfgs"
        Optimiser; see :class:`MLPRegressorGD`.
    weight_decay : float, default=1e-4
        Strength ``lambda`` of the L2 penalty on the weights.
    batch_size : int, "auto" or "full", default="auto"
        Samples per step of "sgd" and "adam".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of "sgd".
    learning_rate_init : float, default=0.001
        Initial step size of "sgd" and "adam".
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    max_iter : int, default=200
        Maximum number of epochs or L-BFGS iterations.
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.
    verbose : bool, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit's parameters.
    momentum : float, default=0.9
        Momentum of "sgd".
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    early_stopping : bool, default=False
        Stop when the score on a held-out ``validation_fraction`` stops
        improving, keeping the best parameters.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate.
    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Number of iterations without an improvement of ``tol`` before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of "lbfgs".

    Attributes
    ----------
    coefs_ : list of ndarray
        Weights of each layer, encoder first; views of one parameter vector.
    intercepts_ : list of ndarray
        Biases of each layer (the lecture's ``p`` and ``q``).
    loss_ : float
        Objective ``J`` at the last iteration.
    loss_curve_ : list of float
        ``J`` at each iteration.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation score (minus the mean reconstruction loss) at each
        iteration, with ``X_val`` or ``early_stopping``; else None.
    validation_loss_curve_ : list of float or None
        The objective J on the validation data after each iteration that had
        validation data (all iterations of a fit with ``X_val`` or early
        stopping, beside ``loss_curve_``); None without validation data.
    best_validation_score_ : float or None
        Best validation score of the latest fit (each fit keeps the best
        parameters it sees itself).
    n_iter_ : int
        Number of epochs or L-BFGS iterations of the latest ``fit``, also
        under ``warm_start`` (``loss_curve_`` keeps the whole record); each
        ``partial_fit`` adds one.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of the features seen during fit, when they are all strings.
    n_outputs_ : int
        Number of outputs, equal to ``n_features_in_``.
    mean_activation_ : ndarray of shape (n_components,)
        Mean code activation ``rho_hat`` over the training data after fit
        (over the last batch after :meth:`partial_fit`).

    See Also
    --------
    AutoEncoder : The same network without the sparsity penalty.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import SparseAutoEncoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> sae = SparseAutoEncoder(n_components=25, sparsity_target=0.1,
    ...                         sparsity_weight=3.0, random_state=0).fit(X)
    >>> bool(sae.mean_activation_.mean() < 0.2)
    True
    """

    _parameter_constraints: dict = {
        **AutoEncoder._parameter_constraints,
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=10,
        *,
        sparsity_target=0.05,
        sparsity_weight=1.0,
        hidden_layer_sizes=(),
        activation="sigmoid",
        out_activation="identity",
        loss="auto",
        tied_weights=False,
        solver="lbfgs",
        weight_decay=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
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
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            out_activation=out_activation,
            loss=loss,
            tied_weights=tied_weights,
            solver=solver,
            weight_decay=weight_decay,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
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
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def _sparsity(self):
        if self.sparsity_weight == 0:
            return None
        return KLSparsity(self.sparsity_target, self.sparsity_weight), self._code_layer

    def _check_setup(self, T):
        super()._check_setup(T)
        check_sparsity_weight(self.sparsity_weight, self.sparsity_target, T.dtype)
        low, high = get_activation(self.activation).output_range
        if self.sparsity_weight > 0 and (low < 0 or high > 1):
            allowed = sorted(
                name
                for name, cls in ACTIVATIONS.items()
                if 0 <= cls().output_range[0] and cls().output_range[1] <= 1
            )
            raise ValueError(
                f"sparsity_weight > 0 needs a code activation with values in [0, 1], "
                f"so that the mean activation rho_hat is a probability; got "
                f"activation={self.activation!r}. Allowed activations: "
                f"{', '.join(allowed)} (or set sparsity_weight=0)."
            )

    def _after_fit(self, X):
        # a sum over chunks: no array of all the codes
        total = sum(
            code.sum(axis=0, dtype=np.float64)
            for _, code in self._forward_chunks(X, stop=self._code_layer)
        )
        self.mean_activation_ = (total / X.shape[0]).astype(self._theta.dtype)
