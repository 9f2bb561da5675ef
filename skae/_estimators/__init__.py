"""The estimators: their shared bases and one module per estimator, each its
objective (target, loss, penalties) and its scikit-learn face. They import the
training machinery and the mathematics below them, and never each other."""
