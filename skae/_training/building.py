"""What a fit builds from a trainable network's hooks and parameters: the
network and its parameters, the objective, the solver, the batch size."""

# License: BSD-3-Clause

import copy

import numpy as np
from sklearn.utils import check_random_state

from skae._math.activations import get_activation
from skae._math.dropout import DropoutMasks
from skae._math.losses import LOSSES
from skae._math.namespaces import is_array, numpy_dtype, to_namespace_of
from skae._math.network import Network
from skae._math.objective import Objective, chunk_rows
from skae._math.penalties import WeightDecay
from skae._math.stochastic import GaussianNoise
from skae._training.checks import check_memory
from skae._training.schedules import EPOCH_SCHEDULES, EpochSchedule
from skae._training.solvers import SGD, Adam
from skae._training.user_warnings import warn_user


class NetworkBuilding:
    """The building blocks of a fit of a
    :class:`~skae._training.trainable.TrainableNetwork`, of which this is a
    mixin: each reads the hooks and the scikit-learn parameters
    (``activation``, ``solver``, ``batch_size``, ...) and builds one thing.
    """

    def _build_objective(self):
        """The objective of the current parameters (read at every fit call),
        computed in chunks of scikit-learn's ``working_memory``."""
        sparsity, sparse_layer = self._sparsity() or (None, None)
        noise = dropout = None
        rates = self._dropout_rates(self._network.n_layers - 1)
        if rates:  # masks from the estimator's own stream of draws
            dropout = DropoutMasks(rates, self._random_state)
        if self._network.stochastic is not None:
            # L-BFGS needs a deterministic J: one stream of noise, restarted
            # at every evaluation; the stochastic solvers draw afresh each step
            seed = self._random_state.randint(np.iinfo(np.int32).max)
            noise = GaussianNoise(seed, fixed=self.solver == "lbfgs")
        return Objective(
            self._network,
            LOSSES[self._loss_name()](),
            WeightDecay(self.weight_decay),
            sparsity,
            sparse_layer,
            chunk_rows=chunk_rows(self._network, self._theta.dtype),
            latent_kl=self._latent_kl(),
            latent_noise=noise,
            dropout=dropout,
        )

    def _initialize(self, X, n_outputs):
        """Build the network, draw parameters (in the namespace and on the
        device of ``X``) and reset the training record."""
        n_samples, n_features = X.shape
        dtype = numpy_dtype(X.dtype)
        self._random_state = check_random_state(self.random_state)
        sizes = self._layer_sizes(n_features, n_outputs)
        network = Network(
            sizes,
            # the fitted network owns its activations: setting the estimator's
            # activation objects' parameters later changes nothing fitted
            [
                copy.deepcopy(get_activation(activation))
                for activation in self._hidden_activations(len(sizes) - 2)
            ],
            self._output_activation(),
            tied=self._tied_weights(),
            stochastic=self._stochastic_layer(),
        )
        check_memory(self, network, n_samples, dtype)
        try:
            # drawn by NumPy: the same initial weights in every namespace
            self._theta = to_namespace_of(
                network.initialize(self._random_state, dtype), X
            )
        except MemoryError:
            check_memory(self, network, n_samples, dtype, available=0)
        self._network = network
        self._optimizer = None
        self.n_outputs_ = n_outputs
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_ = None
        self.loss_curve_ = []
        for name in self._loss_terms:
            setattr(self, f"{name}_loss_curve_", [])
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        # lists once there is a validation set (X_val, or early stopping)
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None

    def _make_optimizer(self):
        """A solver from the current parameters, keeping the state of an earlier
        solver of the same kind."""
        kind = Adam if self.solver == "adam" else SGD
        state = self._optimizer.state if isinstance(self._optimizer, kind) else None
        if state is not None:
            # where the parameters are: a model moved to another namespace or
            # device (scikit-learn's move_estimator_to) moves only those
            state = {
                key: to_namespace_of(value, self._theta) if is_array(value) else value
                for key, value in state.items()
            }
        # the "cosine" and "step" schedules, which both solvers follow
        epoch_schedule = None
        if self.learning_rate in EPOCH_SCHEDULES:
            epoch_schedule = EpochSchedule(
                self.learning_rate, self.lr_period, self.lr_step_factor, self.max_iter
            )
        if kind is Adam:
            return Adam(
                self.learning_rate_init,
                self.beta_1,
                self.beta_2,
                self.epsilon,
                state,
                epoch_schedule,
            )
        return SGD(
            self.learning_rate_init,
            self.learning_rate,
            self.power_t,
            self.momentum,
            self.nesterovs_momentum,
            state,
            epoch_schedule,
        )

    def _batch_size(self, n_samples, warn=True):
        """Resolve ``batch_size``: "auto" is min(200, n), "full" is n."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size == "full":
            return n_samples
        if warn and self.batch_size > n_samples:
            warn_user(
                f"Got batch_size={self.batch_size} > n_samples={n_samples}; "
                "using the whole training set as one batch.",
                UserWarning,
            )
        return min(self.batch_size, n_samples)
