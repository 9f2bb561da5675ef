"""Demo: a sparse autoencoder's codes on scikit-learn's bundled digits."""

# License: BSD-3-Clause

import argparse
import time

N_COMPONENTS = 32

DESCRIPTION = (
    f"Fit a SparseAutoEncoder with {N_COMPONENTS} code units (sigmoid decoder, "
    "cross-entropy) on 70% of scikit-learn's bundled digits, then print its "
    "reconstruction score on the other 30%, its mean code activation against "
    "the sparsity target, its squared reconstruction error beside that of PCA "
    f"with {N_COMPONENTS} components, and the accuracy of a logistic regression "
    "on the codes, on the PCA components and on the raw pixels. It takes no "
    "arguments and runs in a few seconds."
)


def _progress(message):
    """Say what is being fitted now: the fits are silent for a few seconds."""
    print(message, flush=True)


def _squared_error(X, X_reconstructed):
    """Mean over samples of the squared error summed over features.

    The scale of skae's ``score`` for an identity decoder, with the sign
    flipped: ``-AutoEncoder.score(X)`` under the squared error.
    """
    return float(((X - X_reconstructed) ** 2).sum(axis=1).mean())


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m skae",
        description=DESCRIPTION,
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Fit a SparseAutoEncoder on digits; compare it with PCA and raw pixels."""
    _parse_args(argv)  # --help answers before scikit-learn is imported
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    from skae import SparseAutoEncoder

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = MinMaxScaler().fit(X_train)
    # cross-entropy needs data in [0, 1]; test pixels may exceed the train range
    X_train = scaler.transform(X_train)
    X_test = np.clip(scaler.transform(X_test), 0, 1)
    n_train, n_pixels = X_train.shape

    sae = SparseAutoEncoder(
        n_components=N_COMPONENTS,
        sparsity_target=0.1,
        sparsity_weight=3.0,
        weight_decay=3e-4,
        out_activation="sigmoid",
        # the defaults stop by skae's rule (J improves by less than tol times
        # its scale for 10 iterations) after about 200 iterations
        random_state=0,
    )
    _progress(
        f"fitting a SparseAutoEncoder with {N_COMPONENTS} code units on the "
        f"{n_train} training digits ({n_pixels} pixels each)..."
    )
    start = time.perf_counter()
    sae.fit(X_train)
    seconds = time.perf_counter() - start
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

    _progress(
        f"fitting PCA with {N_COMPONENTS} components on the same "
        f"{n_train} training digits..."
    )
    pca = PCA(n_components=N_COMPONENTS, random_state=0).fit(X_train)
    # PCA's reconstructions leave [0, 1], where the cross-entropy is undefined:
    # both are compared on the squared error, summed over pixels
    sae_error = _squared_error(X_test, sae.inverse_transform(sae.transform(X_test)))
    pca_error = _squared_error(X_test, pca.inverse_transform(pca.transform(X_test)))
    print(
        "Squared reconstruction error on the test set (per image, summed over pixels):"
    )
    print(f"  SparseAutoEncoder, {N_COMPONENTS} code units: {sae_error:.4f}")
    print(f"  PCA reference, {N_COMPONENTS} components:     {pca_error:.4f}")

    features = [
        (f"the {N_COMPONENTS} codes", sae.transform(X_train), sae.transform(X_test)),
        (
            f"the {N_COMPONENTS} PCA components",
            pca.transform(X_train),
            pca.transform(X_test),
        ),
        (f"the {n_pixels} raw pixels", X_train, X_test),
    ]
    accuracies = []
    for name, train, test in features:
        _progress(f"fitting a logistic regression on {name}...")
        model = LogisticRegression(max_iter=5000).fit(train, y_train)
        accuracies.append((name, model.score(test, y_test)))
    print("Logistic regression accuracy on the test set:")
    width = max(len(name) for name, _ in accuracies)
    for name, accuracy in accuracies:
        print(f"  on {name + ':':<{width + 1}} {accuracy:.4f}")


if __name__ == "__main__":
    main()
