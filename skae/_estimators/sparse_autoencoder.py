"""SparseAutoEncoder: an autoencoder with a KL sparsity penalty on its code."""

# License: BSD-3-Clause

from numbers import Real

from sklearn.utils._param_validation import Interval

from skae._estimators.autoencoder_base import BaseAutoEncoder
from skae._math.activations import ACTIVATIONS
from skae._math.array_api import ops_for
from skae._math.namespaces import widest_float
from skae._math.penalties import KLSparsity
from skae._training.checks import check_sparsity_weight


class SparseAutoEncoder(BaseAutoEncoder):
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
    activation : str, Activation or sequence of them, default="sigmoid"
        Activation ``s_f`` of the encoder and decoder hidden layers (a name
        in :data:`skae.activations.ACTIVATIONS` or an activation object), or
        a sequence of them: one per encoder layer and the code, bottom first,
        which the decoder mirrors (``("relu", "sigmoid")`` for one hidden
        layer: relu, a sigmoid code, relu), or one per hidden layer of the
        whole network. Tied weights need mirrored activations.
    dropout : float or sequence of float, default=0.0
        Probability of dropping each unit of a hidden layer (the code
        included) during training (inverted dropout, Srivastava et al., 2014:
        the kept units are scaled by ``1 / (1 - p)``), in ``[0, 1)``; one for
        all, one per hidden layer, or one per encoder layer and the code,
        which the decoder mirrors. The masks are drawn from ``random_state``;
        encoding, decoding and scoring never drop. Needs ``solver="sgd"`` or
        ``"adam"``.
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
    corruption : {"masking", "gaussian", "salt_and_pepper"}, default=None
        Train as a denoising autoencoder (Vincent et al., 2008): encode a
        corrupted copy ``x~`` of each training input and score the
        reconstruction against the clean ``x``, ``J = mean_i L(x_i,
        g(f(x~_i))) + penalties``. ``"masking"`` sets each entry to 0 with
        probability ``corruption_level`` (sparse input stays sparse);
        ``"gaussian"`` adds ``N(0, corruption_level^2)`` noise;
        ``"salt_and_pepper"`` sets each entry, with probability
        ``corruption_level``, to its feature's minimum or maximum over the
        training data of the call, at random. "sgd" and "adam" draw a fresh
        corruption for every batch of every epoch; "lbfgs", which needs one
        deterministic objective, draws it once per fit call (a corrupted copy
        of the data). The draws come from ``random_state``. ``transform``,
        ``inverse_transform``, ``score``, ``score_samples`` and the validation
        scores never corrupt. None: no corruption.
    corruption_level : float, default=0.3
        Masking probability in [0, 1), noise standard deviation in [0, inf)
        or salt-and-pepper probability in [0, 1].
    init : {"random", "greedy"}, default="random"
        Initialisation of a fresh network. ``"random"``: Glorot-uniform
        weights and zero biases. ``"greedy"``: greedy layer-wise pretraining
        (Bengio et al., 2007; Hinton and Salakhutdinov, 2006): each encoder
        layer is first trained, from Glorot's draw, as a shallow autoencoder
        of this estimator's settings (activation, solver, weight decay,
        corruption, ``max_iter``...; the sparsity penalty on the code layer's
        stage) on the output of the layers below it, and its encoder and
        decoder initialise the layer and its mirror decoder layer; then the
        whole network is trained end to end as usual. The first stage
        reconstructs ``X`` with ``out_activation`` and the loss, the others
        their input codes with the hidden activation and the squared error.
        ``pretrain_loss_curves_`` records the stages. A warm start or
        ``partial_fit`` continuing a fitted network does not pretrain again.
    solver : {"lbfgs", "sgd", "adam"}, default="lbfgs"
        Optimiser; see :class:`MLPRegressorGD`.
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
    pretrain_loss_curves_ : list of list of float or None
        With ``init="greedy"``, the loss curve of each pretraining stage,
        bottom layer first; None with ``init="random"``.
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
    >>> bool(sae.n_iter_ < sae.max_iter)  # stopped by tol, without a warning
    True
    >>> bool(sae.mean_activation_.mean() < 0.2)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoEncoder._parameter_constraints,
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
        dropout=0.0,
        out_activation="identity",
        loss="auto",
        tied_weights=False,
        corruption=None,
        corruption_level=0.3,
        init="random",
        solver="lbfgs",
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
        self.tied_weights = tied_weights
        self.corruption = corruption
        self.corruption_level = corruption_level
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
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight

    def _sparsity(self):
        if self.sparsity_weight == 0:
            return None
        return KLSparsity(self.sparsity_target, self.sparsity_weight), self._code_layer

    def _check_setup(self, T):
        super()._check_setup(T)
        check_sparsity_weight(self.sparsity_weight, self.sparsity_target, T.dtype)
        hidden = self._hidden_activations(self._n_hidden_layers())
        code = hidden[len(hidden) // 2]  # the middle hidden layer
        low, high = code.output_range
        if self.sparsity_weight > 0 and (low < 0 or high > 1):
            allowed = sorted(
                name
                for name, cls in ACTIVATIONS.items()
                if 0 <= cls().output_range[0] and cls().output_range[1] <= 1
            )
            raise ValueError(
                f"sparsity_weight > 0 needs a code activation with values in [0, 1], "
                f"so that the mean activation rho_hat is a probability; got "
                f"{code!r} from activation={self.activation!r}. Allowed "
                "activations: "
                f"{', '.join(allowed)} (or set sparsity_weight=0)."
            )

    def _after_fit(self, X):
        # a sum over chunks: no array of all the codes
        ops = ops_for(self._theta)
        total = sum(
            ops.sum(code, axis=0, dtype=widest_float(code))
            for _, code in self._forward_chunks(X, stop=self._code_layer)
        )
        self.mean_activation_ = ops.astype(total / X.shape[0], self._theta.dtype)
