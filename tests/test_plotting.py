"""plot_filters: the grid of first-layer weights as images."""

# License: BSD-3-Clause

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from skae import SparseAutoEncoder
from skae.plotting import plot_filters


def test_each_filter_is_drawn_scaled_to_its_own_maximum(rng):
    weights = rng.standard_normal((12, 5)) * np.arange(1, 6)  # different scales
    ax = plot_filters(weights, image_shape=(3, 4), n_cols=2)
    grid = ax.images[0].get_array()
    assert grid.shape == (3 * (3 + 1) + 1, 2 * (4 + 1) + 1)
    for unit in range(5):
        row, col = divmod(unit, 2)
        top, left = 1 + row * 4, 1 + col * 5
        image = grid[top : top + 3, left : left + 4]
        expected = weights[:, unit].reshape(3, 4) / np.abs(weights[:, unit]).max()
        np.testing.assert_allclose(image, expected)
    plt.close("all")


def test_draws_a_fitted_estimators_first_layer(digits01):
    sae = SparseAutoEncoder(n_components=4, max_iter=5, random_state=0)
    with pytest.warns(Warning):
        sae.fit(digits01)
    fig, ax = plt.subplots()
    assert plot_filters(sae, ax=ax) is ax
    assert ax.images[0].get_array().shape == (2 * 9 + 1, 2 * 9 + 1)
    plt.close(fig)


def test_wrong_image_shape_says_what_fits(rng):
    with pytest.raises(ValueError, match="64 input features"):
        plot_filters(rng.standard_normal((64, 3)), image_shape=(7, 7))


def test_missing_matplotlib_says_how_to_install(monkeypatch, rng):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_filters(rng.standard_normal((4, 2)))
