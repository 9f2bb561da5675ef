"""Warnings that point at the user's line, not at skae's internals."""

# License: BSD-3-Clause

import os
import sys
import warnings

import joblib
import sklearn

# frames in these folders are libraries' (skae's own, scikit-learn's fit
# wrappers, meta-estimators and model selection, and the joblib calls they
# make even without parallel jobs), not the user's code
_LIBRARIES = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,  # skae
    *(os.path.dirname(os.path.abspath(m.__file__)) + os.sep for m in (sklearn, joblib)),
)


def warn_user(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first frame outside skae
    and scikit-learn: the line of the user's ``fit`` (or ``grid.fit``), where a
    filter or a traceback is useful; the outermost library frame where no
    user's frame is (a worker process)."""
    frame, level = sys._getframe(1), 1  # the caller: stack level 2
    while frame.f_back is not None and os.path.abspath(
        frame.f_code.co_filename
    ).startswith(_LIBRARIES):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
