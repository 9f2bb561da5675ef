"""Pictures of what a network learned: first-layer weights as a grid of images."""

# License: BSD-3-Clause

import math

import numpy as np

from skae._math.namespaces import to_numpy

__all__ = ["plot_filters"]


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
