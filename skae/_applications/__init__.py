"""What is built from the estimators: outlier detection by reconstruction
(ReconstructionOutlierDetector, an AutoEncoder by default) and the scorer for
model selection. The one layer that may import an estimator module."""
