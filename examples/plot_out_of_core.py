"""
=====================================================
Training on data larger than memory with partial_fit
=====================================================

An autoencoder does not need its training set in memory: ``partial_fit``
trains one epoch over the batch it is given and keeps the optimizer's state
(Adam's moments) from call to call. Here the data lives in a file on disk,
opened as a :class:`numpy.memmap`, and is read chunk by chunk. Python's
``tracemalloc`` measures the memory the training allocates: it stays at the
size of one chunk, whatever the size of the file.
"""

# License: BSD-3-Clause

# sphinx_gallery_start_ignore
# The test suite runs a smaller version of this example: with
# SKAE_EXAMPLES_FAST set, the blocks hidden on the rendered page, like this
# one, shrink its settings.
import os

# sphinx_gallery_end_ignore
import tempfile
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skae import AutoEncoder

# %%
# A data set on disk
# ------------------
# We write noisy copies of the bundled digits, scaled to [0, 1], into a file,
# one chunk at a time, so that the whole array never exists in memory. A real
# application would open an existing file the same way.
digits = load_digits().data / 16.0
n_samples = 200_000
# sphinx_gallery_start_ignore
if "SKAE_EXAMPLES_FAST" in os.environ:  # the test suite runs a smaller version
    n_samples = 20_000
# sphinx_gallery_end_ignore
chunk = 2_000
rng = np.random.default_rng(0)

folder = tempfile.TemporaryDirectory()
path = Path(folder.name) / "digits.f64"
on_disk = np.memmap(path, dtype=np.float64, mode="w+", shape=(n_samples, 64))
for start in range(0, n_samples, chunk):
    rows = rng.integers(len(digits), size=chunk)
    noisy = digits[rows] + 0.05 * rng.standard_normal((chunk, 64))
    on_disk[start : start + chunk] = np.clip(noisy, 0, 1)
on_disk.flush()
del on_disk

X = np.memmap(path, dtype=np.float64, mode="r", shape=(n_samples, 64))
print(
    f"data on disk: {X.nbytes / 2**20:.1f} MiB in {n_samples // chunk} chunks "
    f"of {chunk * 64 * 8 / 2**20:.2f} MiB"
)

# %%
# Chunk by chunk
# --------------
# Each ``partial_fit`` call trains one epoch of mini-batches over one chunk.
# We hold the original digits out to watch the reconstruction score, and
# trace the memory of the training loop (after a first call, which allocates
# the parameters and the optimizer's state once).
ae = AutoEncoder(
    n_components=16,
    solver="adam",
    learning_rate_init=0.003,
    batch_size=100,
    random_state=0,
)
ae.partial_fit(X[:chunk])
scores, seen = [], []
tracemalloc.start()
for start in range(chunk, n_samples, chunk):
    ae.partial_fit(X[start : start + chunk])
    if (start // chunk) % 5 == 0:
        scores.append(ae.score(digits))
        seen.append(start + chunk)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(
    f"peak traced memory while training: {peak / 2**20:.2f} MiB "
    f"({peak / X.nbytes:.1%} of the data)"
)
print(
    f"reconstruction score on the original digits: {scores[0]:.3f} -> {scores[-1]:.3f}"
)

# %%
# The score improves as more of the file streams through, while the memory
# allocated stays at the size of a chunk or two (the scoring of the held-out
# digits included), not the size of the file.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(seen, scores, marker="o")
ax.set_xlabel("samples read from disk")
ax.set_ylabel("score (minus mean squared error)")
ax.set_title(
    f"partial_fit over a {X.nbytes / 2**20:.0f} MiB memmap; "
    f"peak memory {peak / 2**20:.1f} MiB"
)
fig.tight_layout()
del X
folder.cleanup()
plt.show()
