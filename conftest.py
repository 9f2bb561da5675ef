"""Session-wide test setup, loaded before any module imports SciPy."""

# License: BSD-3-Clause

import os

# scikit-learn's check_array_api_input skips itself unless SciPy's array API
# support is on, and the variable is read when SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Examples, doctests and plotting tests draw without a screen.
os.environ.setdefault("MPLBACKEND", "Agg")
