"""Pictures of what a network learned: first-layer weights as a grid of
images; and of the learning-rate range test: the losses against the rates."""

# License: BSD-3-Clause

import math

import numpy as np

from skae._math.namespaces import to_numpy

__all__ = ["plot_filters", "plot_lr_range_test"]


def plot_filters(estimator, image_shape=None, n_cols=None, ax=None, cmap="gray"):
    """Draw each first-layer unit's input weights as a small image.

    This is the picture of UFLDL's sparse autoencoder exercise: the weights
    into each code unit, reshaped to the input's image shape, show the pattern
    that unit responds to most (an oriented edge, for natural image patches).
    Each filter is scaled to its own largest absolute weight, so mid-grey is 0.

    Parameters
    ----------
    estimator : fitted estimator or ndarray of shape (n_features, n_units)
        An :class:`~skae.AutoEncoder`, :class:`~skae.SparseAutoEncoder` or
        :class:`~skae.MLPRegressorGD` (its ``coefs_[0]`` is drawn), or the
        weight matrix itself.
    image_shape : tuple of int, default=None
        Shape of one input image, such that its product is ``n_features``;
        by default the square root of ``n_features`` for both sides.
    n_cols : int, default=None
        Images per row of the grid; by default about the square root of
        ``n_units``.
    ax : matplotlib Axes, default=None
        Axes to draw the grid in; by default a new figure.
    cmap : str, default="gray"
        Matplotlib colormap.

    Returns
    -------
    ax : matplotlib Axes
        The axes holding the grid of images.

    Raises
    ------
    ImportError
        If matplotlib is not installed (it is needed only here).
    ValueError
        If ``image_shape`` does not match the number of input features.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.plotting import plot_filters
    >>> weights = np.random.default_rng(0).standard_normal((64, 25))
    >>> ax = plot_filters(weights)  # 25 filters of 8x8 pixels, 5 per row
    >>> ax.images[0].get_array().shape
    (46, 46)
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "plot_filters needs matplotlib, which skae does not install: "
            "pip install matplotlib"
        ) from error

    # on the host, whatever namespace or device the model was fitted on
    weights = np.asarray(to_numpy(getattr(estimator, "coefs_", [estimator])[0]))
    n_features, n_units = weights.shape
    if image_shape is None:
        side = math.isqrt(n_features)
        image_shape = (side, side)
    if math.prod(image_shape) != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)} holds {math.prod(image_shape)} "
            f"pixels, but the weights have {n_features} input features; pass "
            "the shape of one input image."
        )
    n_cols = n_cols or math.ceil(math.sqrt(n_units))
    grid = _tile(weights, image_shape, n_cols)
    if ax is None:
        _, ax = plt.subplots(figsize=(n_cols, math.ceil(n_units / n_cols)))
    ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    return ax


def _tile(weights, image_shape, n_cols, gap=1):
    """One image of all filters, each scaled to [-1, 1], ``gap`` pixels apart
    (the gaps are drawn at -1, black)."""
    height, width = image_shape
    n_units = weights.shape[1]
    n_rows = math.ceil(n_units / n_cols)
    grid = np.full((n_rows * (height + gap) + gap, n_cols * (width + gap) + gap), -1.0)
    scale = np.abs(weights).max(axis=0)
    scale[scale == 0] = 1.0
    for unit in range(n_units):
        row, col = divmod(unit, n_cols)
        top, left = gap + row * (height + gap), gap + col * (width + gap)
        image = weights[:, unit].reshape(image_shape) / scale[unit]
        grid[top : top + height, left : left + width] = image
    return grid


def plot_lr_range_test(result, ax=None):
    """Draw the losses of a learning-rate range test against the rates.

    The raw losses of the steps (thin) and their smoothed values (thick)
    against the learning rate on a log scale, and a dashed vertical line at
    the suggested rate. The y axis spans the losses up to the lowest smoothed
    loss, so that an explosion at the end does not flatten the curve.

    Parameters
    ----------
    result : Bunch
        What :func:`skae.lr_range_test` returns.
    ax : matplotlib Axes, default=None
        Axes to draw in; by default a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes holding the curves: ``ax.lines`` are the raw losses, the
        smoothed losses and the suggested rate's line, in that order.

    Raises
    ------
    ImportError
        If matplotlib is not installed (it is needed only here).

    See Also
    --------
    skae.lr_range_test : Run the test.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skae import MLPRegressorGD, lr_range_test
    >>> from skae.plotting import plot_lr_range_test
    >>> X, y = make_friedman1(n_samples=400, random_state=0)
    >>> X = StandardScaler().fit_transform(X)
    >>> result = lr_range_test(MLPRegressorGD(), X, y, n_steps=50, random_state=0)
    >>> ax = plot_lr_range_test(result)
    >>> ax.get_xscale()
    'log'
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "plot_lr_range_test needs matplotlib, which skae does not install: "
            "pip install matplotlib"
        ) from error

    rates = np.asarray(result.learning_rates)
    losses = np.asarray(result.losses)
    smoothed = np.asarray(result.smoothed_losses)
    suggested = result.suggested_learning_rate
    if ax is None:
        _, ax = plt.subplots()
    ax.plot(rates, losses, color="0.6", linewidth=0.8, label="loss of each step")
    ax.plot(rates, smoothed, color="C0", linewidth=2, label="smoothed loss")
    ax.axvline(
        suggested,
        color="C3",
        linestyle="--",
        label=f"suggested learning_rate_init = {suggested:.3g}",
    )
    ax.set_xscale("log")
    # the losses up to the lowest smoothed one: the explosion may leave the axes
    shown = losses[: int(np.argmin(smoothed)) + 1]
    low = min(shown.min(), smoothed.min())
    high = max(shown.max(), smoothed[: len(shown)].max())
    margin = 0.05 * (high - low) or 0.05 * abs(high) or 1.0
    ax.set_ylim(low - margin, high + margin)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("objective J of the mini-batch")
    ax.set_title("Learning-rate range test")
    ax.legend()
    return ax
