"""Ctrl-C during training: a request that the training loop answers at a safe point."""

# License: BSD-3-Clause

import signal
import threading


class InterruptRequests:
    """Context in which SIGINT asks training to stop instead of raising anywhere.

    Python raises KeyboardInterrupt at whatever bytecode runs when the signal
    arrives: in the middle of a solver step, or between two entries of the
    training record. Inside this context (entered by the main thread, while
    Python's default handler is installed) the first SIGINT only sets
    :attr:`requested`; the training loop checks it between steps, where
    stopping leaves everything consistent. A second SIGINT raises
    KeyboardInterrupt at once, for a user who does not want to wait.

    A fit inside a fit (a callback that trains another estimator) shares the
    outer request. Elsewhere (another thread, which never receives SIGINT, or
    a handler of the user's own) nothing changes and :attr:`requested` stays
    False.
    """

    def __init__(self):
        self._requested = False
        self._previous = None
        self._outer = None

    @property
    def requested(self):
        """Whether Ctrl-C asked training to stop."""
        return self._requested or (self._outer is not None and self._outer.requested)

    @requested.setter
    def requested(self, value):
        self._requested = value

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        handler = signal.getsignal(signal.SIGINT)
        if handler is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._request)
        elif isinstance(getattr(handler, "__self__", None), InterruptRequests):
            self._outer = handler.__self__  # an outer fit's: it hears Ctrl-C
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        self._outer = None

    def _request(self, signum, frame):
        if self._requested:  # pressed twice: stop now
            raise KeyboardInterrupt
        self._requested = True
