"""BaseMLP: what the multi-layer perceptrons share, the regressor and the
classifier: their parameters, the fit and partial_fit plumbing, and the last
hidden layer as a transform."""

# License: BSD-3-Clause

from numbers import Real

from scipy import sparse
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skae._estimators.base import BaseNetwork
from skae._math.array_api import ops_for
from skae._training.checks import input_dtype
from skae._training.corruption import KINDS, check_corruption
from skae._training.user_warnings import warn_user


class BaseMLP(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNetwork):
    """Base class of the perceptrons: hidden layers of ``activation`` and an
    output layer that the subclass sets with its target, loss and
    validation score (hooks of :class:`~skae._training.trainable.TrainableNetwork`),
    and ``_validate_training_data``, which turns ``y`` into the targets."""

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "pretrain_corruption": [StrOptions(set(KINDS)), None],
        "pretrain_corruption_level": [Interval(Real, 0, None, closed="left")],
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
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.init = init
        self.pretrain_corruption = pretrain_corruption
        self.pretrain_corruption_level = pretrain_corruption_level
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

    def _pretraining_corruption(self):
        if self.pretrain_corruption is None:
            return None
        return self.pretrain_corruption, self.pretrain_corruption_level

    def _check_training_input(self, X):
        if self.init == "greedy":  # what the stages corrupt
            check_corruption(self, X, prefix="pretrain_")

    def _layer_sizes(self, n_features, n_outputs):
        return (n_features, *self._hidden_layer_sizes(), n_outputs)

    @property
    def _n_features_out(self):
        return self._network.layer_sizes[-2]

    def _fit(self, X, y, sample_weight, X_val, y_val, sample_weight_val, X_unlabeled):
        """``fit``: the data, the validation set and the unlabeled rows
        checked, then trained."""
        self._validate_hyperparameters(incremental=False)
        if self.pretrain_corruption is not None and self.init != "greedy":
            warn_user(
                f"pretrain_corruption={self.pretrain_corruption!r} corrupts the "
                "inputs of greedy pretraining, which runs with init='greedy' "
                f"only (here init={self.init!r}): nothing is corrupted. Set "
                "init='greedy', or pretrain_corruption=None.",
                UserWarning,
            )
        reset = not (self.warm_start and hasattr(self, "_theta"))
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val go together: pass both or neither.")
        if sample_weight_val is not None and X_val is None:
            raise ValueError("sample_weight_val weighs X_val: pass X_val and y_val.")
        with self._rollback_on_error(keep_divergence=True):
            X, y, w = self._validate_training_data(X, y, sample_weight, reset)
            validation = None
            if X_val is not None:
                validation = self._validate_training_data(
                    X_val, y_val, sample_weight_val, reset=False, like=X
                )
            if X_unlabeled is not None:
                X_unlabeled = validate_data(
                    self,
                    X_unlabeled,
                    accept_sparse=("csr", "csc"),
                    dtype=input_dtype(self, False, X_unlabeled, X, "fit"),
                    reset=False,
                )
                check_corruption(self, X_unlabeled, prefix="pretrain_")
            return self._fit_network(
                X, y, w, validation=validation, unlabeled=X_unlabeled
            )

    def _partial_fit(self, X, y, sample_weight, **target_options):
        """``partial_fit``: one epoch, the solver's state kept."""
        self._validate_hyperparameters(incremental=True)
        reset = not hasattr(self, "_theta")
        with self._rollback_on_error(keep_divergence=False):
            with self._batch_width_explained():
                X, y, w = self._validate_training_data(
                    X, y, sample_weight, reset, method="partial_fit", **target_options
                )
            return self._fit_network(X, y, w, incremental=True)

    def _validate_input(self, X, method="predict"):
        check_is_fitted(self)
        return validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=input_dtype(self, False, X, method=method),
            reset=False,
        )

    def transform(self, X):
        """Return the activations of the last hidden layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        H : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            Last hidden layer's activations (``X`` itself when there is no
            hidden layer).
        """
        X = self._validate_input(X, method="transform")
        if self._network.n_layers == 1:  # no hidden layer: the input, as an array
            return X.toarray() if sparse.issparse(X) else ops_for(X).copy(X)
        return self._forward(X, stop=self._network.n_layers - 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
