"""Demo: a sparse autoencoder's codes on scikit-learn's bundled digits."""

# License: BSD-3-Clause

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae import SparseAutoEncoder


def main():
    """Fit a SparseAutoEncoder on digits and compare its codes with raw pixels."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = MinMaxScaler().fit(X_train)
    # cross-entropy needs data in [0, 1]; test pixels may exceed the train range
    X_train = scaler.transform(X_train)
    X_test = np.clip(scaler.transform(X_test), 0, 1)

    sae = SparseAutoEncoder(
        n_components=100,
        sparsity_target=0.1,
        sparsity_weight=3.0,
        weight_decay=3e-4,
        out_activation="sigmoid",
        max_iter=400,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # a fixed budget of 400 L-BFGS iterations is the point of the demo
        warnings.simplefilter("ignore", ConvergenceWarning)
        sae.fit(X_train)
    seconds = time.perf_counter() - start

    def accuracy(train, test):
        model = LogisticRegression(max_iter=5000).fit(train, y_train)
        return model.score(test, y_test)

    print(
        f"SparseAutoEncoder on digits: {X_train.shape[0]} training images, "
        f"{X.shape[1]} pixels -> {sae.n_components} code units"
    )
    print(
        f"  fit: {sae.n_iter_} L-BFGS iterations in {seconds:.1f} s, "
        f"final objective J = {sae.loss_:.4f}"
    )
    print(
        f"  reconstruction score (minus mean cross-entropy, test): "
        f"{sae.score(X_test):.4f}"
    )
    print(
        f"  mean code activation rho_hat = {sae.mean_activation_.mean():.4f} "
        f"(target rho = {sae.sparsity_target})"
    )
    print("Logistic regression accuracy on the test set:")
    codes_accuracy = accuracy(sae.transform(X_train), sae.transform(X_test))
    print(f"  on the codes:      {codes_accuracy:.4f}")
    print(f"  on the raw pixels: {accuracy(X_train, X_test):.4f}")


if __name__ == "__main__":
    main()
