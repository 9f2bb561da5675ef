"""VariationalAutoEncoder: a generative autoencoder trained on the ELBO."""

# License: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skae._estimators.autoencoder_base import BaseAutoEncoder
from skae._math.array_api import ops_for
from skae._math.losses import LOSSES
from skae._math.namespaces import numpy_dtype, to_namespace_of
from skae._math.penalties import GaussianKL
from skae._math.stochastic import GaussianDraw
from skae._training.checks import check_unit_interval

# draws of eps, the same for every sample, of the ELBO that scores a sample
N_SCORE_DRAWS = 10


class VariationalAutoEncoder(BaseAutoEncoder):
    """Variational autoencoder (Kingma and Welling, 2014) trained by backpropagation.

    The encoder maps ``x`` to the mean ``mu(x)`` and the log-variance
    ``log sigma^2(x)`` of a diagonal Gaussian ``q(z|x)`` over
    ``n_components`` latent units; a draw ``z = mu + sigma * eps``,
    ``eps ~ N(0, I)`` (the reparameterisation), goes through the decoder
    ``g``, whose output is the mean of the likelihood ``p(x|z)``: Gaussian
    for ``out_activation="identity"`` (the squared error), Bernoulli for
    ``"sigmoid"`` (the cross-entropy). Training minimises the negative
    evidence lower bound with the KL term weighted by ``beta``, plus weight
    decay, each sample's terms with its own draw of ``eps``:

    .. math::

        J(\\theta) = \\frac{1}{N} \\sum_i \\Big[ L(x_i, g(z_i))
            + \\beta\\, \\mathrm{KL}\\big(q(z|x_i) \\,\\|\\, N(0, I)\\big) \\Big]
            + \\lambda \\sum_l \\|W_l\\|_F^2,

    with ``KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)`` in closed
    form (lecture: the KL divergence between two distributions; the squared
    error and the cross-entropy from maximum likelihood). The squared error
    ``||x - g(z)||^2`` is the Gaussian negative log-likelihood of variance
    ``1/2`` up to a constant: a likelihood of variance ``s^2`` is
    ``beta = 2 s^2``.

    "sgd" and "adam" draw fresh noise at every step; "lbfgs", which needs a
    deterministic objective, minimises ``J`` for one draw of ``eps`` per
    sample, fixed for the whole fit (drawn from ``random_state``), and can
    fit that draw: :meth:`score`, on fresh draws, tells. With fresh noise the
    epoch's ``J`` is noisy, so the stopping rule (``tol``,
    ``n_iter_no_change``) can end an adam fit early; a patience of 30-50
    epochs trains further.

    The identity output's variance, 1/2, is large beside the spread of data
    in [0, 1] (pixels, ``MinMaxScaler``'s output): there the KL term wins and
    the posterior collapses to the prior (codes near 0, ``kl_loss_curve_``
    near 0). For such data use ``out_activation="sigmoid"``, or a smaller
    ``beta`` (a Gaussian of variance ``beta / 2``).

    Parameters
    ----------
    n_components : int, default=2
        Number ``k`` of latent units: the width of :meth:`transform`'s codes.
    hidden_layer_sizes : array-like of int, default=()
        Widths of the encoder's hidden layers before the Gaussian's
        parameters; the decoder mirrors them in reverse order.
    activation : str, Activation or sequence of them, default="relu"
        Activation of the encoder's and decoder's hidden layers, or a
        sequence of them: one per encoder hidden layer, bottom first, which
        the decoder mirrors, or one per hidden layer of both. The Gaussian's
        mean and log-variance are linear.
    dropout : float or sequence of float, default=0.0
        Probability of dropping each unit of a hidden layer during training
        (inverted dropout, Srivastava et al., 2014: the kept units are scaled
        by ``1 / (1 - p)``), in ``[0, 1)``; one for all, one per hidden layer
        or one per encoder layer, which the decoder mirrors. The Gaussian's
        mean and log-variance are never dropped, nor is anything when
        encoding, decoding, sampling or scoring. The masks are drawn from
        ``random_state``. Needs ``solver="sgd"`` or ``"adam"``.
    out_activation : {"identity", "sigmoid"}, default="identity"
        Decoder output: the mean of a Gaussian or a Bernoulli likelihood.
    loss : {"auto", "squared_error", "cross_entropy"}, default="auto"
        Reconstruction loss ``L``: "auto" takes the squared error for an
        identity output and the cross-entropy (data in [0, 1]) for a sigmoid.
    beta : float, default=1.0
        Weight of the KL term, ``>= 0`` (1: the ELBO; Higgins et al., 2017,
        for other values).
    init : {"random"}, default="random"
        Glorot-uniform weights and zero biases.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Optimiser; see :class:`MLPRegressorGD` (and above for "lbfgs").
    weight_decay : float, default=1e-4
        Strength ``lambda`` of the L2 penalty on the weights.
    batch_size : int, "auto" or "full", default="auto"
        Samples per step of "sgd" and "adam".
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
        Maximum number of epochs or L-BFGS iterations.
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the noise ``eps``, the shuffling, the
        validation split and the draws of :meth:`score_samples`.
    tol : float, default=1e-4
        Minimum improvement that counts: of the training objective J,
        relative to ``max(|J|, 1)``, or of the validation score.
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
        Weights of each layer, encoder first: the last encoder layer maps to
        ``2 n_components`` units, ``[mu | log sigma^2]``, the first decoder
        layer from the ``n_components`` units of ``z``.
    intercepts_ : list of ndarray
        Biases of each layer.
    loss_ : float
        Objective ``J`` at the last iteration.
    loss_curve_ : list of float
        ``J`` at each iteration (for "sgd" and "adam", the mean over the
        epoch's steps, each with its own noise).
    reconstruction_loss_curve_ : list of float
        The mean reconstruction loss ``L`` at each iteration (the draws' and
        epoch's as ``loss_curve_``).
    kl_loss_curve_ : list of float
        The mean KL term at each iteration, without ``beta``: ``loss_curve_``
        is ``reconstruction_loss_curve_ + beta * kl_loss_curve_`` plus the
        weight decay.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation score (the mean ELBO of :meth:`score`) at each iteration,
        with ``X_val`` or ``early_stopping``; else None.
    validation_loss_curve_ : list of float or None
        The objective J on the validation data, for one fixed draw of the
        noise, after each iteration that had validation data.
    best_validation_score_ : float or None
        Best validation score of the latest fit.
    n_iter_ : int
        Number of epochs or L-BFGS iterations of the latest ``fit``; each
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
    AutoEncoder : The deterministic autoencoder.
    sklearn.decomposition.PCA : The linear counterpart of the code.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoEncoder
    >>> X = load_digits().data / 16
    >>> vae = VariationalAutoEncoder(
    ...     n_components=2, hidden_layer_sizes=(64,), out_activation="sigmoid",
    ...     learning_rate_init=0.01, random_state=0,
    ... ).fit(X)
    >>> bool(vae.n_iter_ < vae.max_iter)  # stopped by tol, without a warning
    True
    >>> vae.transform(X).shape  # the posterior means
    (1797, 2)
    >>> vae.sample(5, random_state=0).shape  # generated digits
    (5, 64)
    """

    _parameter_constraints: dict = {
        **{
            name: constraint
            for name, constraint in BaseAutoEncoder._parameter_constraints.items()
            if name not in ("tied_weights", "corruption", "corruption_level")
        },
        "init": [StrOptions({"random"})],
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(),
        activation="relu",
        dropout=0.0,
        out_activation="identity",
        loss="auto",
        beta=1.0,
        init="random",
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
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.out_activation = out_activation
        self.loss = loss
        self.beta = beta
        self.init = init
        self.solver = solver
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.lr_period = lr_period
        self.lr_step_factor = lr_step_factor
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

    # -- the model: the stochastic layer and its KL term ----------------------

    def _layer_sizes(self, n_features, n_outputs):
        hidden = self._hidden_layer_sizes()
        k = self.n_components
        return (n_features, *hidden, 2 * k, *hidden[::-1], n_features)

    _loss_terms = ("reconstruction", "kl")

    def _stochastic_layer(self):
        return len(self._hidden_layer_sizes()) + 1

    def _latent_kl(self):
        return GaussianKL(self.beta)

    # what the deterministic autoencoders have and a VAE has not
    def _tied_weights(self):
        return False

    _input_corruption = None

    @property
    def _n_features_out(self):
        return self._network.layer_sizes[self._code_layer] // 2

    def _initialize(self, X, n_outputs):
        super()._initialize(X, n_outputs)
        # the draws of eps that score every sample (the same for each), for
        # the life of the fitted network
        k = self._n_features_out
        eps = self._random_state.standard_normal((N_SCORE_DRAWS, k))
        eps = eps.astype(numpy_dtype(self._theta.dtype))
        self._score_eps = to_namespace_of(eps, self._theta)

    # -- public API -----------------------------------------------------------

    def transform(self, X):
        """Encode ``X``: the posterior mean ``mu(x)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Means of ``q(z|x)``.
        """
        X = self._validate_input(X)
        k = self._n_features_out

        def means(H):  # a copy: the array of [mu | log sigma^2] is let go
            return ops_for(H).copy(H[:, :k])

        return self._forward(X, stop=self._code_layer, then=means)

    def sample(self, n_samples=1, random_state=None):
        """Generate data: the decoder's mean at draws ``z ~ N(0, I)`` of the prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws of ``z``; by default the estimator's
            ``random_state`` (so that, as for scikit-learn's
            ``GaussianMixture.sample``, an int gives the same samples at
            every call).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The decoder's output (the likelihood's mean) at each draw.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        Z = rng.standard_normal((int(n_samples), self._n_features_out))
        Z = Z.astype(numpy_dtype(self._theta.dtype), copy=False)
        Z = to_namespace_of(Z, self._theta)
        return self._forward(Z, start=self._code_layer)

    def _sample_losses(self, X):
        """The negative ELBO of each sample, ``E_q[L(x, g(z))] + KL(q || p)``,
        the expectation estimated with the same ``N_SCORE_DRAWS`` draws of
        ``eps`` for every sample (so that a sample's score does not depend on
        the others)."""
        if self._fitted_loss == "cross_entropy":
            check_unit_interval(X)
        loss = LOSSES[self._fitted_loss]()
        ops = ops_for(self._theta)
        p, eps = self._code_layer, self._score_eps
        kl = GaussianKL(1.0)
        out = None
        # a variance past the dtype's range (a fit with beta = 0 leaves it
        # free) makes the KL infinite: a score of -inf, not NumPy's warning
        with ops.errstate(over="ignore", invalid="ignore"):
            out = self._chunked_sample_losses(X, loss, kl, p, eps)
        # a reconstruction that overflowed (inf - inf in a layer) is NaN: it
        # is infinitely bad, never a middling score
        return ops.put_where(out, float("inf"), ops.isnan(out))

    def _chunked_sample_losses(self, X, loss, kl, p, eps):
        ops = ops_for(self._theta)
        out = None
        for rows, H in self._forward_chunks(X, stop=p):
            X_rows = X[rows, :] if rows.stop - rows.start < X.shape[0] else X
            losses = kl.sample_values(H)
            for draw in range(eps.shape[0]):
                # the core's draw, one row of eps broadcast to every sample
                Z = GaussianDraw(eps[draw : draw + 1, :]).forward(H)
                activations, logits = self._network.forward(self._theta, Z, start=p)
                reconstruction = loss.value(X_rows, activations[-1], logits)
                losses = ops.add(losses, reconstruction / eps.shape[0])
            if out is None:
                if rows.stop >= X.shape[0]:
                    out = losses
                    break
                out = ops.empty_for((X.shape[0],), losses)
            out[rows] = losses
        return out

    def score_samples(self, X):
        """Return the evidence lower bound (ELBO) of each sample.

        ``-(E_q[L(x, g(z))] + KL(q(z|x) || N(0, I)))``, a lower bound of
        ``log p(x)`` up to the likelihood's constant (for the Gaussian, of
        variance 1/2: ``-n_features / 2 log(pi)``), with ``beta = 1`` whatever
        the training's ``beta``. The expectation is the mean over 10 draws of
        ``eps``, the same for every sample and fixed at fit (from
        ``random_state``): deterministic, and a sample's score does not depend
        on the others.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better; ``-inf`` where the ELBO is not finite in the
            dtype (a posterior variance past its range, which a fit with
            ``beta=0`` leaves unconstrained, or a reconstruction that
            overflows).
        """
        return -self._sample_losses(self._validate_input(X, method="score_samples"))

    def score(self, X, y=None):
        """Return the mean ELBO of the samples (see :meth:`score_samples`).

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
        return self._score(self._validate_input(X, method="score"))
