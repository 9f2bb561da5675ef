"""The work arrays of a batch's forward and backward passes, reused every step."""

# License: BSD-3-Clause

import numpy as np


class Workspace:
    """Preallocated arrays for the forward and backward passes of a batch.

    Memory is ``O(n_rows x (sum of the layer widths))``. A batch of fewer rows
    uses :meth:`rows`, the leading rows of each array.
    """

    def __init__(self, layer_sizes, n_rows, dtype):
        self.n_rows = n_rows
        self.dtype = np.dtype(dtype)
        widths = layer_sizes[1:]
        self.logits = [np.empty((n_rows, n), dtype) for n in widths]
        self.output = np.empty((n_rows, widths[-1]), dtype)
        self.output_delta = np.empty((n_rows, widths[-1]), dtype)
        self.errors = [np.empty((n_rows, n), dtype) for n in widths[:-1]]
        self.derivatives = [np.empty((n_rows, n), dtype) for n in widths]
        self._cut = {}  # never holds self: a cycle would outlive every fit

    def fits(self, n_rows, dtype):
        """Whether batches of ``n_rows`` samples of ``dtype`` fit in these arrays."""
        return n_rows <= self.n_rows and dtype == self.dtype

    def rows(self, n_rows):
        """The workspace cut to its first ``n_rows`` rows (views, made once)."""
        if n_rows == self.n_rows:
            return self
        cut = self._cut.get(n_rows)
        if cut is None:
            cut = self._cut[n_rows] = object.__new__(Workspace)
            cut.n_rows, cut.dtype, cut._cut = n_rows, self.dtype, {}
            for name in ("logits", "errors", "derivatives"):
                setattr(cut, name, [array[:n_rows] for array in getattr(self, name)])
            cut.output = self.output[:n_rows]
            cut.output_delta = self.output_delta[:n_rows]
        return cut
