"""Greedy layer-wise pretraining (Bengio et al., 2007; Hinton and Salakhutdinov, 2006).

Each hidden layer of a freshly initialised network is trained first as a
shallow autoencoder on the output of the layers below it, with the
estimator's own settings; its encoder (and, in an autoencoder, the mirror
decoder layer) then initialise the deep network, which is trained end to end
as usual. Every stage is a :class:`~skae._training.trainable.TrainableNetwork` of its
own, so it runs the one training loop.
"""

# License: BSD-3-Clause

import copy

import numpy as np

from skae._math.activations import Identity
from skae._math.losses import LOSSES
from skae._math.objective import Objective
from skae._training.corruption import Corruption
from skae._training.trainable import TrainableNetwork

# the estimator's settings a stage trains with (the architecture, its
# activation, the initialisation and warm starts are the stage's own; a stage
# never drops units)
_SHARED_SETTINGS = (
    "solver",
    "weight_decay",
    "batch_size",
    "learning_rate",
    "learning_rate_init",
    "power_t",
    "lr_period",
    "lr_step_factor",
    "max_iter",
    "shuffle",
    "tol",
    "verbose",
    "momentum",
    "nesterovs_momentum",
    "early_stopping",
    "validation_fraction",
    "beta_1",
    "beta_2",
    "epsilon",
    "n_iter_no_change",
    "max_fun",
)


class Stage:
    """What one greedy stage trains: which layer, and how it reconstructs.

    Parameters
    ----------
    layer : int
        Index of the deep network's layer the stage's encoder initialises.
    mirror : int or None
        Index of the decoder layer its decoder initialises (autoencoders).
    output : Activation
        The stage decoder's activation: the deep network's activation at the
        mirror layer (the output activation for the first stage of an
        autoencoder, the hidden activation above it).
    loss : str
        Key of the stage's loss in ``LOSSES``.
    sparsity : KLSparsity or None
        The KL penalty on the stage's code (a SparseAutoEncoder's code layer).
    """

    def __init__(self, layer, mirror, output, loss, sparsity=None):
        self.layer, self.mirror = layer, mirror
        self.output, self.loss, self.sparsity = output, loss, sparsity


class LayerAutoEncoder(TrainableNetwork):
    """A shallow autoencoder ``d -> width -> d``: one stage of pretraining.

    Internal: built by :func:`pretrain` with the settings of the estimator
    being pretrained, never by users (it has no parameters of its own). It
    keeps nothing of an interrupted or diverged training (the pretrained
    estimator is restored as it was), and its warnings and errors name the
    estimator and the stage.
    """

    _keeps_partial_training = False

    def __init__(self):
        pass

    @classmethod
    def of(cls, estimator, stage, index, n_stages):
        layer = cls()
        for name in _SHARED_SETTINGS:
            setattr(layer, name, getattr(estimator, name))
        layer.random_state = estimator._random_state  # one stream of draws
        layer.hidden_layer_sizes = ()
        layer.warm_start = False
        layer.init = "random"  # a stage starts from Glorot's draw
        layer.width = estimator._network.layer_sizes[stage.layer + 1]
        # the deep network's activation of the layer the stage's encoder is
        layer.activation = estimator._network.activation(stage.layer)
        layer.stage = stage
        layer.tied = stage.mirror is not None and estimator._tied_weights()
        layer.corruption, layer.corruption_level = (
            estimator._pretraining_corruption() or (None, None)
        )
        layer.where = f"greedy pretraining of hidden layer {index + 1} of {n_stages}"
        layer.owner = type(estimator).__name__
        layer.owner_random_state = estimator._random_state_param()
        return layer

    def _display_name(self):
        return f"{self.owner}, {self.where}"

    def _verbose_prefix(self):
        return f"{self.where[0].upper()}{self.where[1:]}: "

    def _random_state_param(self):
        return self.owner_random_state

    def _layer_sizes(self, n_features, n_outputs):
        return (n_features, self.width, n_features)

    def _output_activation(self):
        return copy.deepcopy(self.stage.output)

    def _loss_name(self):
        return self.stage.loss

    def _sparsity(self):
        return None if self.stage.sparsity is None else (self.stage.sparsity, 1)

    def _tied_weights(self):
        return self.tied

    def _corruption(self, X):
        if self.corruption is None:
            return None
        return Corruption(self.corruption, self.corruption_level, X, self._random_state)

    def _greedy_pretraining(self):
        return None  # a stage is itself a step of greedy pretraining

    def _validation_score(self, X, T, sample_weight):
        objective = Objective(self._network, LOSSES[self.stage.loss](), None)
        losses = objective.sample_losses(self._theta, X, T)
        return -float(np.average(losses, weights=sample_weight))


class GreedyPretraining:
    """Greedy layer-wise pretraining of one estimator's freshly built network.

    Parameters
    ----------
    estimator : TrainableNetwork
        An estimator whose network was just initialised.

    Attributes
    ----------
    stages : list of Stage
        What each stage trains, bottom layer first (:func:`stages_of`).
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self.stages = stages_of(estimator)

    def run(self, X, sample_weight, validation, fit_tasks, interrupts):
        """Initialise the estimator's network layer by layer, greedily.

        Sets the estimator's ``pretrain_loss_curves_``. A Ctrl-C or a
        divergence in any stage raises, with nothing kept: the caller restores
        the estimator as it was. A callback asking to stop at the end of a
        stage's task skips the stages left (``fit_tasks.stop_requested``).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Training inputs (the first stage's data).
        sample_weight : ndarray or None
            Weights of the training samples, used by every stage.
        validation : Validation or None
            The fit's validation set; each stage scores its inputs' codes.
        fit_tasks : FitTasks
            The fit's callback tasks: a task per stage.
        interrupts : InterruptRequests
            The fit's Ctrl-C requests, shared with the stages' own fits.
        """
        estimator, stages = self.estimator, self.stages
        deep = estimator._network.unflatten(estimator._theta)
        curves = []
        H = X
        V, w_val = (None, None) if validation is None else (validation.X, validation.w)
        for index, stage in enumerate(stages):
            layer = LayerAutoEncoder.of(estimator, stage, index, len(stages))
            held_out = None if V is None else (V, V, w_val)
            try:
                with fit_tasks.pretraining_task(layer):
                    layer._fit_network(
                        H, H, sample_weight, validation=held_out, interrupts=interrupts
                    )
            except ValueError as error:
                if type(error) is not ValueError:  # DivergenceError: named already
                    raise
                raise ValueError(f"{layer._display_name()}: {error}") from error
            if interrupts.requested:  # a Ctrl-C at the end of the stage
                raise KeyboardInterrupt
            (W, b), (W_out, b_out) = layer._network.unflatten(layer._theta)
            deep[stage.layer][0][...] = W
            deep[stage.layer][1][...] = b
            if stage.mirror is not None:
                if not layer.tied:  # tied: the mirror's weights are W's transpose
                    deep[stage.mirror][0][...] = W_out
                deep[stage.mirror][1][...] = b_out
            curves.append(list(layer.loss_curve_))
            if fit_tasks.stop_requested:
                break
            if index < len(stages) - 1:  # the next stage's data: these codes
                H = layer._forward(H, stop=1)
                V = None if V is None else layer._forward(V, stop=1)
        if interrupts.requested:
            raise KeyboardInterrupt
        estimator.pretrain_loss_curves_ = curves


def stages_of(estimator):
    """The stages that pretrain ``estimator``'s network, bottom layer first.

    An autoencoder pretrains each encoder layer with its mirror decoder
    layer: the first stage reconstructs ``X`` with the estimator's output
    activation and loss, the others their input activations with the hidden
    activation; a SparseAutoEncoder's KL penalty acts on the last stage's
    code, the code layer. A regressor pretrains every hidden layer
    unsupervised in the same way (the first with an identity output and the
    squared error); it has no mirror layers, and its output layer keeps its
    Glorot draw.
    """
    network = estimator._network
    if not estimator._decoder_mirrors_encoder:
        return [
            Stage(
                layer,
                None,
                # what made the stage's input: the layer below's activation
                network.activation(layer - 1) if layer else Identity(),
                "squared_error",
            )
            for layer in range(network.n_layers - 1)
        ]
    n_encoder = network.n_layers // 2
    sparsity = estimator._sparsity()
    stages = []
    for layer in range(n_encoder):
        mirror = network.n_layers - 1 - layer
        code = layer == n_encoder - 1
        stages.append(
            Stage(
                layer,
                mirror,
                network.activation(mirror),
                estimator._loss_name() if layer == 0 else "squared_error",
                sparsity[0] if (code and sparsity is not None) else None,
            )
        )
    return stages
