"""The machinery that trains the mathematics: the training run and how it
ends, batches and validation sets, solvers, corruption, greedy pretraining,
callbacks, Ctrl-C, BLAS threads, and the checks before training. It imports
the mathematics (:mod:`skae._math`) and :mod:`skae.exceptions`, nothing above."""
