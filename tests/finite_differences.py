"""Central finite differences, the reference of every gradient test."""

# License: BSD-3-Clause

import numpy as np


def central_differences(fun, theta, h=1e-6):
    """Gradient of the scalar ``fun`` at ``theta`` by central differences."""
    gradient = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        gradient[k] = (fun(theta + step) - fun(theta - step)) / (2 * h)
    return gradient


def relative_error(gradient, numerical):
    return np.linalg.norm(gradient - numerical) / np.linalg.norm(gradient + numerical)
