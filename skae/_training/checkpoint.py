"""Checkpoint: a scikit-learn callback that saves the estimator during fit."""

# License: BSD-3-Clause

import importlib
import math
import os
import pickle
import secrets
from numbers import Integral

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)

from skae._training.trainable import TrainableNetwork

# how a file of each format begins: a skops file is a zip archive
_ZIP_MAGIC = b"PK\x03\x04"


class Checkpoint:
    """Callback that saves the estimator during ``fit`` and ``partial_fit``.

    Set it on a skae estimator with ``set_callbacks``. At the end of an
    iteration (an epoch of ``"sgd"`` or ``"adam"``, an iteration of
    ``"lbfgs"``) it writes the estimator as it is then: its parameters, the
    solver's state (Adam's moments, the momentum, the learning-rate
    schedule's counters) and the training record (``n_iter_``,
    ``loss_curve_``, the validation records). The file holds a fitted
    estimator, ready to ``predict`` or ``transform``, and ready to resume
    training with ``partial_fit`` or a warm start (see the user guide's
    "Checkpoints and resuming a run"). Load it with :meth:`load`.

    Each write is atomic: the file is written under a temporary name in the
    same directory, flushed to disk, then renamed over ``path``. A crash or
    an error while writing leaves the previous checkpoint whole at ``path``,
    and no temporary file behind. An error while writing (a full disk)
    ends the fit with that error.

    Parameters
    ----------
    path : str or path-like
        The file written, replaced at every write. A relative path is read
        from the working directory at each write.

    every_n_iter : int or None, default=None
        Write whenever the number of iterations recorded,
        ``len(loss_curve_)``, is a multiple of ``every_n_iter``: the count
        goes on across warm starts and ``partial_fit`` calls, so a resumed
        run writes at the iterations the uninterrupted run would have. None:
        every iteration, unless ``on_improvement`` is set, which then alone
        decides.

    on_improvement : bool, default=False
        Also write whenever the validation score improves: the iteration's
        ``validation_scores_[-1]`` is higher than every earlier one of the
        record, or equal to the highest with a lower validation loss
        (``validation_loss_curve_``). The file then holds the best
        parameters seen. It needs a validation set, ``X_val`` or
        ``early_stopping=True``: a fit without one raises ``ValueError``
        when it begins.

    format : {"pickle", "skops"}, default="pickle"
        How the estimator is written: :mod:`pickle`, or
        `skops <https://skops.readthedocs.io>`_'s ``skops.io.dump``, whose
        files can be loaded without running arbitrary code (skops is not a
        dependency of skae: install it to use this format).

    See Also
    --------
    sklearn.callback.ScoringMonitor : Logs a score at every iteration.

    Notes
    -----
    The callback belongs to the estimator it is set on, whose fits it saves;
    it is not passed on to the estimators a meta-estimator fits. Set on the
    estimator in a :class:`~sklearn.pipeline.Pipeline`, it saves that
    estimator (not the pipeline); in a
    :class:`~sklearn.model_selection.GridSearchCV`, every candidate's fit
    shares it and writes the same file, which the refit writes last. Set on
    a meta-estimator it raises ``TypeError``. The stages of greedy
    pretraining (``init="greedy"``) are not saved: the first checkpoint is
    written at the end of the first iteration of the whole network.

    Each file holds the estimator without its callbacks: set them again
    after loading to go on saving.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skae import Checkpoint, MLPRegressorGD
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> y = X.sum(axis=1)
    >>> workdir = tempfile.TemporaryDirectory()
    >>> path = os.path.join(workdir.name, "model.pkl")
    >>> reg = MLPRegressorGD(hidden_layer_sizes=(4,), random_state=0)
    >>> _ = reg.set_callbacks(Checkpoint(path, every_n_iter=3))
    >>> for epoch in range(4):
    ...     _ = reg.partial_fit(X, y)
    >>> saved = Checkpoint.load(path)  # written at the end of epoch 3
    >>> saved.n_iter_
    3
    >>> saved.predict(X[:2]).shape
    (2,)
    >>> workdir.cleanup()
    """

    @validate_params(
        {
            "path": [str, os.PathLike],
            "every_n_iter": [Interval(Integral, 1, None, closed="left"), None],
            "on_improvement": ["boolean"],
            "format": [StrOptions({"pickle", "skops"})],
        },
        prefer_skip_nested_validation=True,
    )
    def __init__(
        self, path, *, every_n_iter=None, on_improvement=False, format="pickle"
    ):
        if isinstance(every_n_iter, bool):
            raise InvalidParameterError(
                "The 'every_n_iter' parameter of Checkpoint must be an int >= 1 "
                f"or None, not a bool; got {every_n_iter!r}."
            )
        if format == "skops":
            _import_skops("Checkpoint(format='skops')")  # fails here, not mid-fit
        self.path = path
        self.every_n_iter = every_n_iter
        self.on_improvement = on_improvement
        self.format = format
        # per fit, keyed by the estimator's id: the lengths of its records
        # when last seen, which tell a recorded iteration from the task left
        # open at the end of a fit (closed empty)
        self._fits = {}

    def __repr__(self):
        options = "".join(
            f", {name}={getattr(self, name)!r}"
            for name, default in (
                ("every_n_iter", None),
                ("on_improvement", False),
                ("format", "pickle"),
            )
            if getattr(self, name) != default
        )
        return f"Checkpoint({self.path!r}{options})"

    # -- scikit-learn's callback hooks ------------------------------------------

    def setup(self, estimator, context):
        """Check the estimator and note where its training record starts.

        Parameters
        ----------
        estimator : estimator instance
            The estimator being fitted.
        context : sklearn.callback.CallbackContext
            The context of the estimator's fit task.
        """
        if not (
            isinstance(estimator, TrainableNetwork)
            and isinstance(estimator, BaseEstimator)
        ):
            raise TypeError(
                "Checkpoint saves skae's estimators as they train; it was set on "
                f"{type(estimator).__name__}. Set it on the skae estimator "
                "itself (in a pipeline, on its last step): the file then holds "
                "that estimator."
            )
        scores = estimator.validation_scores_
        if self.on_improvement and scores is None:
            raise ValueError(
                f"Checkpoint(on_improvement=True) writes {type(estimator).__name__} "
                "when its validation score improves, and this fit has no "
                "validation set: pass X_val to fit, or set early_stopping=True "
                "(partial_fit holds out nothing), or use every_n_iter instead."
            )
        self._fits[id(estimator)] = [
            len(estimator.loss_curve_),
            0 if scores is None else len(scores),
        ]

    def teardown(self, estimator, context):
        """Forget the fit.

        Parameters
        ----------
        estimator : estimator instance
            The estimator that was fitted.
        context : sklearn.callback.CallbackContext
            The context of the estimator's fit task.
        """
        self._fits.pop(id(estimator), None)

    def on_fit_task_begin(self, estimator, context):
        """Do nothing: checkpoints are written at the end of iterations.

        Parameters
        ----------
        estimator : estimator instance
            The estimator being fitted.
        context : sklearn.callback.CallbackContext
            The context of the task.
        """

    def on_fit_task_end(self, estimator, context):
        """Write the estimator at the end of an iteration, when it is due.

        Parameters
        ----------
        estimator : estimator instance
            The estimator being fitted.
        context : sklearn.callback.CallbackContext
            The context of the task.

        Returns
        -------
        stop : bool
            Always False: a checkpoint never stops training.
        """
        seen = self._fits.get(id(estimator))
        if context.task_name != "iteration" or seen is None:
            return False  # the fit itself, a pretraining stage
        n_iter = len(estimator.loss_curve_)
        if n_iter == seen[0]:
            return False  # the task left open at the end, closed empty
        seen[0] = n_iter
        due = self.every_n_iter is not None and n_iter % self.every_n_iter == 0
        if self.every_n_iter is None and not self.on_improvement:
            due = True
        if self.on_improvement:
            due = self._improved(estimator, seen) or due
        if due:
            self._write(estimator)
        return False

    def _improved(self, estimator, seen):
        """Whether this iteration's validation score beats the record's best."""
        scores = estimator.validation_scores_ or []
        if len(scores) == seen[1]:
            raise ValueError(
                "Checkpoint(on_improvement=True): this fit of "
                f"{type(estimator).__name__} records no validation score (a warm "
                "start without the X_val of the earlier fit); pass X_val, or "
                "set early_stopping=True."
            )
        seen[1] = len(scores)
        losses = estimator.validation_loss_curve_ or []
        if len(losses) != len(scores):
            losses = [0.0] * len(scores)
        # (score, -loss) of each iteration: higher is better, in that order
        ranked = [
            (score, -loss)
            for score, loss in zip(scores, losses)
            if math.isfinite(score) and math.isfinite(loss)
        ]
        last = (scores[-1], -losses[-1])
        if not ranked or ranked[-1] != last:
            return False  # a non-finite score is no improvement
        return len(ranked) == 1 or last > max(ranked[:-1])

    # -- writing and loading ----------------------------------------------------

    def _write(self, estimator):
        """Write ``estimator`` to ``path`` atomically (see the class docstring)."""
        path = os.path.abspath(os.fspath(self.path))
        directory, name = os.path.split(path)
        temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        # created as an ordinary file (the umask's mode), never over another
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        descriptor = os.open(temporary, flags, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as file:
                if self.format == "skops":
                    _import_skops("Checkpoint(format='skops')").dump(estimator, file)
                else:
                    pickle.dump(estimator, file, protocol=pickle.HIGHEST_PROTOCOL)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
        _sync_directory(directory)  # the rename itself survives a power cut

    @staticmethod
    def load(path, *, trusted=None):
        """Load the estimator a :class:`Checkpoint` wrote to ``path``.

        The format is read from the file: a skops file or a pickle.

        Parameters
        ----------
        path : str or path-like
            The checkpoint's file.
        trusted : list of str, default=None
            For skops files: the types to trust beyond skae's own classes
            and those skops trusts by default, by their full names as
            ``skops.io.get_untrusted_types`` lists them (such as the class of
            an activation of your own).

        Returns
        -------
        estimator : estimator instance
            The estimator as it was at the end of the iteration saved, ready
            to predict and to resume training. Its callbacks were not saved.

        Raises
        ------
        ValueError
            A skops file that needs a type neither skae's own, nor skops's
            default, nor in ``trusted``: it is not loaded.

        Notes
        -----
        Loading a pickle can run any code the file asks for: load only files
        you trust. A skops file is loaded only with skae's own classes and
        the types in ``trusted``; any other type it names is refused before
        anything is built.
        """
        with open(path, "rb") as file:
            head = file.read(len(_ZIP_MAGIC))
            if head != _ZIP_MAGIC:
                file.seek(0)
                return pickle.load(file)
        skops_io = _import_skops("Checkpoint.load of a skops file")
        untrusted = skops_io.get_untrusted_types(file=path)
        allowed = set(trusted or ())
        unexpected = sorted(
            name for name in untrusted if name not in allowed and not _skae_class(name)
        )
        if unexpected:
            raise ValueError(
                f"Not loading {os.fspath(path)!r}: it names types that are neither "
                f"skae's own classes nor trusted: {unexpected}. Review them, and "
                "pass those you trust as trusted=[...]."
            )
        return skops_io.load(path, trusted=untrusted)


def _skae_class(name):
    """Whether ``name`` (``module.Class``) is a class a skae module defines."""
    module_name, _, qualname = name.rpartition(".")
    if not (module_name == "skae" or module_name.startswith("skae.")):
        return False
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    cls = getattr(module, qualname, None)
    # a class defined there, not a name the module imported (os, a function)
    return (
        isinstance(cls, type)
        and cls.__module__ == module_name
        and cls.__qualname__ == qualname
    )


def _import_skops(what):
    """``skops.io``, or an ImportError that says what needs it."""
    try:
        import skops.io
    except ImportError as error:
        raise ImportError(
            f"{what} needs skops, which is not installed: pip install skops "
            "(or use format='pickle')."
        ) from error
    return skops.io


def _sync_directory(directory):
    """fsync a directory, where the system allows it (not on Windows)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
