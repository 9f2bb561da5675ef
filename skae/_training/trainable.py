"""TrainableNetwork: what the training loop needs of a network it trains.

The estimators (``skae/_estimators/base.py``) and the stages of greedy pretraining
(``skae/_training/pretraining.py``) are both trainable networks: each defines its
architecture, loss and penalties through small hooks, and :meth:`_fit_network`
runs the one training loop on it.
"""

# License: BSD-3-Clause

from abc import ABCMeta, abstractmethod
from contextlib import nullcontext

import numpy as np

from skae._math.array_api import ops_for
from skae._math.namespaces import (
    rows_sliceable,
    stacked_rows,
)
from skae._math.objective import chunk_rows
from skae._training.batches import Validation, check_validation_set, split_validation
from skae._training.building import NetworkBuilding
from skae._training.callbacks import CallbackSupportMixin, FitTasks
from skae._training.checks import check_architecture, check_weight_decay
from skae._training.interrupts import InterruptRequests
from skae._training.run import TrainingRun
from skae._training.threads import single_threaded_scipy_blas
from skae._training.user_warnings import warn_user


class TrainableNetwork(NetworkBuilding, CallbackSupportMixin, metaclass=ABCMeta):
    """A network and its training settings: everything but target, loss and
    penalties, which subclasses give through the hooks below.

    It reads the scikit-learn parameters of the estimators (``activation``,
    ``solver``, ``batch_size``, ...) as attributes, and writes the fitted
    state: the network, the flat parameter vector ``_theta``, the solver and
    the training record.
    """

    # whether the decoder mirrors the encoder (autoencoders): greedy
    # pretraining then initialises each encoder layer's mirror too
    _decoder_mirrors_encoder = False

    # -- hooks ------------------------------------------------------------------

    # the parameters that set the widths of the layers, named in memory errors
    _width_parameters = ("hidden_layer_sizes",)

    @abstractmethod
    def _layer_sizes(self, n_features, n_outputs):
        """Widths of all layers, input first, output last."""

    @abstractmethod
    def _output_activation(self):
        """Activation object of the output layer."""

    def _loss_name(self):
        """Key of the loss in ``LOSSES``."""
        return "squared_error"

    def _sparsity(self):
        """``(KLSparsity, layer index)`` or None: the penalty on a hidden layer."""
        return None

    def _tied_weights(self):
        """Whether decoder layers use their mirror encoder layers' weights."""
        return False

    # parts of J recorded beside loss_curve_, each as ``<name>_loss_curve_``
    # (the objective's ``last_terms``)
    _loss_terms = ()

    def _stochastic_layer(self):
        """Index of the network's stochastic layer (a variational
        autoencoder's ``[mu | log sigma^2]``), or None (hook)."""
        return None

    def _latent_kl(self):
        """The ``GaussianKL`` term on the stochastic layer, or None (hook)."""
        return None

    def _hidden_activations(self, n_hidden):
        """The activation (a name or an object) of each of the network's
        ``n_hidden`` hidden layers, bottom first (hook; by default
        ``activation`` for all)."""
        return [self.activation] * n_hidden

    def _dropout_rates(self, n_hidden):
        """``{index of a hidden layer's activations: rate}`` of the layers
        training drops, out of ``n_hidden``; empty for none (hook)."""
        return {}

    def _check_setup(self, T):
        """Raise ValueError if loss, activations and targets do not fit (hook)."""

    def _check_training_input(self, X):
        """Raise if the training inputs ``X`` do not suit the settings (hook:
        only they are corrupted, never validation data)."""

    # an estimator keeps what an interrupted or diverged fit recorded; a
    # pretraining stage keeps nothing (its fit's caller restores the estimator)
    _keeps_partial_training = True

    def _display_name(self):
        """How warnings and errors of training name the estimator."""
        return type(self).__name__

    def _verbose_prefix(self):
        """What starts each ``verbose`` line of an iteration."""
        return ""

    def _random_state_param(self):
        """The ``random_state`` the user set, as messages show it."""
        return self.random_state

    def _corruption(self, X):
        """The :class:`~skae._training.corruption.Corruption` of the training inputs
        ``X``, or None (hook: denoising autoencoders)."""
        return None

    def _pretraining_corruption(self):
        """``(kind, level)`` of the corruption of the greedy stages' inputs,
        or None: stages of plain autoencoders (hook)."""
        return None

    # rows the validation score needs: R^2 and a reconstruction score are
    # undefined on one (a classifier's accuracy is not)
    _fewest_validation_rows = 2

    # a validation score that moves in steps (accuracy) saturates: early
    # stopping then treats scores within tol of the best as a tie, which the
    # validation J breaks (see TrainingRun._ties_best)
    _stepped_validation_score = False

    def _validation_split_labels(self, T, n_held_out):
        """Labels to stratify the early-stopping split of ``n_held_out`` rows
        by (hook: a classifier's classes), or None for a random split."""
        return None

    @abstractmethod
    def _validation_score(self, X, T, sample_weight):
        """Score of the current parameters on held-out data (higher is better)."""

    @abstractmethod
    def _greedy_pretraining(self):
        """The greedy pretraining of a freshly initialised network, run when
        ``init="greedy"``: a ``GreedyPretraining``, or None for none."""

    # -- fitting ---------------------------------------------------------------

    def _fit_network(
        self,
        X,
        T,
        sample_weight=None,
        incremental=False,
        validation=None,
        interrupts=None,
        unlabeled=None,
    ):
        """Train on ``(X, T)``: the one training loop of every estimator.

        ``incremental`` (partial_fit) trains one epoch and keeps the solver's
        state; otherwise ``max_iter`` epochs, continuing with ``warm_start``.
        ``validation`` is the user's ``(X_val, T_val, sample_weight_val)``;
        without it, early stopping holds out ``validation_fraction``.
        ``interrupts`` are an enclosing fit's Ctrl-C requests (a pretraining
        stage's), which an interrupt of this training marks too.
        ``unlabeled`` are inputs without targets that greedy pretraining adds
        to ``X`` (of weight 1 each); the training proper never sees them.
        """
        X, T = rows_sliceable(X, T)
        self._check_setup(T)
        self._check_training_input(X)
        if validation is not None:
            check_validation_set(self, *validation, T, X)
        fresh = not (hasattr(self, "_theta") and (incremental or self.warm_start))
        if fresh:
            self._initialize(X, T.shape[1])
        else:
            check_architecture(self, X.shape[1], T.shape[1])
        if not incremental:
            # n_iter_ counts the iterations of the latest fit (scikit-learn's
            # rule under warm_start); loss_curve_ keeps the whole record
            self.n_iter_ = 0
            self._no_improvement_count = 0
        self._fitted_loss = self._loss_name()
        check_weight_decay(self.weight_decay, self._network.flat_weights(self._theta))
        objective = self._build_objective()

        if validation is None and self.early_stopping and not incremental:
            X, T, sample_weight, validation = split_validation(
                self, X, T, sample_weight
            )
        if validation is not None:
            X_val, T_val = rows_sliceable(*validation[:2])
            # scored with one fixed draw of the noise: comparable epoch to epoch
            validation = Validation(
                X_val, T_val, validation[2], objective.for_scoring()
            )
            if self.validation_scores_ is None:
                # from the first fit, or a warm start that adds validation
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
            if not incremental:
                # each fit keeps the best parameters it sees itself
                self.best_validation_score_ = -np.inf

        # non-finite values are caught and reported as divergence, with the
        # step and the fix, rather than as NumPy's floating-point warnings
        fp_errors = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        pretraining = (
            self._greedy_pretraining() if fresh and self.init == "greedy" else None
        )
        if unlabeled is not None and pretraining is None:
            raise ValueError(
                "X_unlabeled is for greedy pretraining, which runs on a fresh "
                f"network with init='greedy' (here init={self.init!r}"
                + (")" if fresh else ", and the network continues a fit)")
                + ": set init='greedy' (and warm_start=False), or drop X_unlabeled."
            )
        n_stages = 0 if pretraining is None else len(pretraining.stages)
        # the fit's callback tasks hold the training data: local to this call
        fit_tasks = FitTasks(
            self, X, T, metadata, 1 if incremental else self.max_iter, n_stages
        )
        requests = (
            InterruptRequests() if interrupts is None else nullcontext(interrupts)
        )
        with requests as interrupts:
            if pretraining is not None:
                try:
                    pretraining.run(
                        *_with_unlabeled(X, sample_weight, unlabeled),
                        validation,
                        fit_tasks,
                        interrupts,
                    )
                except BaseException:
                    fit_tasks.close()
                    raise
            elif fresh:
                self.pretrain_loss_curves_ = None
            if fit_tasks.stop_requested:  # a callback ended the fit in pretraining
                fit_tasks.close()
                self._after_fit(X)
                return self
            fit_tasks.begin_training()
            run = TrainingRun(
                self,
                objective,
                X,
                T,
                sample_weight,
                validation,
                fit_tasks,
                interrupts,
                incremental,
                corruption=self._corruption(X),
            )
            try:
                with single_threaded_scipy_blas(), fp_errors:
                    run.train()
            finally:
                fit_tasks.close()
            try:
                self._after_fit(X)
            except KeyboardInterrupt:
                # only reached without skae's SIGINT handler (another thread,
                # a handler of the user's): the training is kept all the same
                interrupts.requested = True
                self._after_fit(X)
            if interrupts.requested and not run.interrupted:
                if not self._keeps_partial_training:
                    raise KeyboardInterrupt
                warn_user(
                    "Training finished and was then interrupted by "
                    "KeyboardInterrupt; the finished training is kept.",
                    UserWarning,
                )
        return self

    def _after_fit(self, X):
        """Set estimator-specific fitted attributes (hook)."""

    def _forward(self, X, start=0, stop=None, then=None):
        """Activations of layer ``stop`` (default: the output) for the input
        ``X`` of layer ``start``, by chunks of ``working_memory``, each
        mapped by ``then`` if given (see ``Network.forward_chunked``)."""
        rows = chunk_rows(self._network, self._theta.dtype)
        return self._network.forward_chunked(self._theta, X, rows, start, stop, then)

    def _forward_chunks(self, X, start=0, stop=None):
        """Yield ``(rows, activations of layer stop)`` for chunks of the rows
        of ``X`` that fit in scikit-learn's ``working_memory``."""
        rows = chunk_rows(self._network, self._theta.dtype)
        return self._network.forward_chunks(self._theta, X, rows, start, stop)


def _with_unlabeled(X, sample_weight, unlabeled):
    """The pretraining's inputs and weights: ``X`` and the ``unlabeled`` rows,
    those of weight 1 (``X``'s own weights kept)."""
    if unlabeled is None:
        return X, sample_weight
    data = stacked_rows(X, unlabeled)
    if sample_weight is None:
        return data, None
    ops = ops_for(sample_weight)
    ones = ops.ones_like(ops.empty_for((unlabeled.shape[0],), sample_weight))
    return data, stacked_rows(sample_weight, ones)
