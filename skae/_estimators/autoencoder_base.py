"""What the autoencoders share: fitting to reconstruct the input, the code,
the reconstruction and its score."""

# License: BSD-3-Clause

from numbers import Integral, Real

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skae._estimators.base import BaseNetwork
from skae._math.activations import get_activation
from skae._math.array_api import ops_for
from skae._math.losses import LOSSES
from skae._math.namespaces import widest_float
from skae._math.objective import Objective
from skae._training.checks import check_unit_interval, input_dtype, stochastic_solver
from skae._training.corruption import KINDS, Corruption, check_corruption


class BaseAutoEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNetwork):
    """Base of the autoencoders: a network whose target is its input.

    The estimators below it give their parameters (``__init__``) and
    penalties; the encoder, the decoder mirroring it, fitting, encoding,
    decoding and scoring are here. Not to be used directly.
    """

    _decoder_mirrors_encoder = True
    _integer_parameters = (*BaseNetwork._integer_parameters, "n_components")
    _width_parameters = ("n_components", "hidden_layer_sizes")

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "out_activation": [StrOptions({"identity", "sigmoid"})],
        "loss": [StrOptions({"auto", "squared_error", "cross_entropy"})],
        "tied_weights": ["boolean"],
        "corruption": [StrOptions(set(KINDS)), None],
        "corruption_level": [Interval(Real, 0, None, closed="left")],
    }

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

    @property
    def _input_corruption(self):
        """The kind of corruption of the training inputs, or None."""
        return self.corruption

    def _check_training_input(self, X):
        if self._input_corruption is not None:
            check_corruption(self, X)

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

    def _initialize(self, X, n_outputs):
        super()._initialize(X, n_outputs)
        # the training data's range, for salt and pepper: from this fit on
        self._input_range = None

    def _corruption(self, X):
        if self._input_corruption is None:
            return None
        corruption = Corruption(
            self.corruption,
            self.corruption_level,
            X,
            self._random_state,
            # the data of every partial_fit call so far, not only this call's
            seen_range=getattr(self, "_input_range", None),
        )
        self._input_range = corruption.value_range
        return corruption

    def _pretraining_corruption(self):
        if self._input_corruption is None:
            return None
        return self.corruption, self.corruption_level  # a stacked denoising AE

    def _validation_score(self, X, T, sample_weight):
        return self._score(X)

    @property
    def _n_features_out(self):
        return self._network.layer_sizes[self._code_layer]

    # -- public API -----------------------------------------------------------

    def _validate_input(self, X, reset=False, like=None, method="transform"):
        if not reset and like is None:
            check_is_fitted(self)
        return validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=input_dtype(self, reset, X, like, method),
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
            Validation data. When given, ``validation_scores_`` (the
            estimator's :meth:`score` of it: minus the mean reconstruction
            loss, or a variational autoencoder's mean ELBO) and
            ``validation_loss_curve_`` (the objective J) are recorded every
            iteration, and early stopping uses them instead of holding out
            ``validation_fraction`` of ``X``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_hyperparameters(incremental=False)
        reset = not (self.warm_start and hasattr(self, "_theta"))
        with self._rollback_on_error(keep_divergence=True):
            X = self._validate_input(X, reset=reset, method="fit")
            validation = None
            if X_val is not None:
                X_val = self._validate_input(X_val, like=X, method="fit")
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
        self : object
            The updated estimator.
        """
        self._validate_hyperparameters(incremental=True)
        reset = not hasattr(self, "_theta")
        with self._rollback_on_error(keep_divergence=False):
            with self._batch_width_explained():
                X = self._validate_input(X, reset=reset, method="partial_fit")
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
        H = check_array(
            X, dtype=input_dtype(self, False, X, method="inverse_transform")
        )
        n_components = self._n_features_out
        if H.shape[1] != n_components:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects codes "
                f"of n_components={n_components} features."
            )
        return self._forward(H, start=self._code_layer)

    def _score(self, X):
        # in float64: float32 losses that are each finite can overflow a sum
        losses = self._sample_losses(X)
        wide = widest_float(losses)
        return -float(ops_for(losses).sum(losses, dtype=wide)) / losses.shape[0]

    def _sample_losses(self, X):
        # the loss the model was fitted with, whatever the parameters say now
        if self._fitted_loss == "cross_entropy":
            check_unit_interval(X)
        objective = Objective(self._network, LOSSES[self._fitted_loss](), None)
        losses = objective.sample_losses(self._theta, X, X)
        # a reconstruction that overflowed (inf - inf in a layer) is NaN: it
        # is infinitely bad, never a middling score
        ops = ops_for(losses)
        return ops.put_where(losses, float("inf"), ops.isnan(losses))

    def score_samples(self, X):
        """Return minus the reconstruction loss of each sample, ``-L(x_i, g(f(x_i)))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better; 0 is a perfect reconstruction under squared
            error, and ``-inf`` a reconstruction that is not finite (inputs
            near the dtype's largest value can overflow the layers).
        """
        return -self._sample_losses(self._validate_input(X, method="score_samples"))

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
        return self._score(self._validate_input(X, method="score"))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # gaussian and salt-and-pepper noise would fill every entry
        tags.input_tags.sparse = self._input_corruption in (None, "masking")
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
