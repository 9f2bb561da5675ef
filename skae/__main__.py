"""Demo: what a sparse autoencoder's codes buy on scikit-learn's bundled digits."""

# License: BSD-3-Clause

import argparse
import textwrap
import time

N_COMPONENTS = 128  # twice the 64 pixels: more components than PCA can have
N_FEW = 8  # the few-components comparison, where PCA wins
RHO = 0.05  # the sparsity target, SparseAutoEncoder's default
MASKED = 0.3  # share of the test pixels set to 0
N_LABELS = 10  # labelled training digits per class in the few-labels column
N_DRAWS = 20  # draws of those labelled digits, averaged
BETA = 3.0  # the weight of the sparsity penalty
SEED = 0  # the split, the initial weights, the masking and the label draws

DESCRIPTION = (
    f"Fit a SparseAutoEncoder with {N_COMPONENTS} code units (rho = {RHO}) on "
    "70% of scikit-learn's bundled digits and show what it buys: sparse, "
    "non-negative, digit-selective codes, on which a logistic regression "
    "classifies the other 30% better than on the raw pixels, on PCA's "
    "components or on the codes of the same network fitted without the "
    f"sparsity penalty: by a little on clean digits, by more with {MASKED:.0%} "
    f"of the test pixels masked or with {N_LABELS} labels per class. Then "
    f"show where PCA wins: with {N_FEW} components it reconstructs and "
    "classifies better. Each finding comes with one sentence saying why. No "
    "arguments; a few seconds."
)


def _progress(message):
    """Say what is being fitted now: the fits are silent for a few seconds."""
    print(message, flush=True)


def _say(text, indent="  "):
    """Print a paragraph wrapped to 79 columns."""
    print(textwrap.fill(text, 79, initial_indent=indent, subsequent_indent=indent))


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m skae", description=DESCRIPTION)
    return parser.parse_args(argv)


def _fit_autoencoder(X, n_components, label, sparsity_weight=BETA):
    """Fit and return a sigmoid-decoder SparseAutoEncoder, saying so first."""
    from skae import SparseAutoEncoder

    _progress(f"fitting {label}...")
    model = SparseAutoEncoder(
        n_components=n_components,
        sparsity_target=RHO,
        sparsity_weight=sparsity_weight,
        weight_decay=3e-4,
        out_activation="sigmoid",  # cross-entropy: pixels scaled to [0, 1]
        random_state=SEED,  # stops by skae's tol rule after about 200 iterations
    )
    start = time.perf_counter()
    model.fit(X)
    print(
        f"  fit: {model.n_iter_} L-BFGS iterations in "
        f"{time.perf_counter() - start:.1f} s; rho_hat = "
        f"{model.mean_activation_.mean():.4f} (target {RHO}, beta = {sparsity_weight})"
    )
    return model


def _accuracies(transform, X_train, y_train, tests, y_test, few_labels=()):
    """Logistic-regression accuracies: one per test set, then few labels.

    Trained on all training digits and scored on each test set; then, if
    ``few_labels`` holds draws of training rows, trained on each draw, scored
    on the first (clean) test set and averaged over the draws.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    train, tests = transform(X_train), [transform(X) for X in tests]
    # small fits: on two cores, scipy's idle BLAS workers spinning beside
    # NumPy's made them 30 times slower than on one thread
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=5000).fit(train, y_train)
        scores = [model.score(X, y_test) for X in tests]
        few = [
            LogisticRegression(max_iter=5000)
            .fit(train[rows], y_train[rows])
            .score(tests[0], y_test)
            for rows in few_labels
        ]
    if few:
        scores.append(float(np.mean(few)))
    return scores


def _print_codes(codes, y, pca_components):
    """Sparsity, sign and digit selectivity of the codes of the test digits."""
    import numpy as np

    per_digit = np.array([codes[y == digit].mean(axis=0) for digit in range(10)])
    share = per_digit.max(axis=0) / per_digit.sum(axis=0)
    favourites = np.bincount(per_digit.argmax(axis=0), minlength=10)
    print(f"The {N_COMPONENTS} codes of the {len(codes)} test digits:")
    _say(
        f"all in [{codes.min():.3f}, {codes.max():.3f}], non-negative (PCA's "
        f"components are signed: {(pca_components < 0).mean():.0%} below 0); "
        f"{(codes < 0.1).mean():.0%} of the values below 0.1; a digit has on "
        f"average {(codes > 0.5).sum(axis=1).mean():.1f} units above 0.5"
    )
    _say(
        f"a unit's favourite digit takes a median {np.median(share):.0%} of its "
        "mean activation (10% would be no preference); each digit is the "
        f"favourite of {favourites.min()} to {favourites.max()} units"
    )


def _print_table(rows, columns):
    """Print the accuracy table, then each column's leader and its lead.

    Returns
    -------
    leads : list of (str, float)
        Each column's best row and its margin over the second best.
    """
    width = max(len(name) for name in rows)
    print(" " * (width + 2) + "".join(f"{column:>12}" for column in columns))
    for name, scores in rows.items():
        print(f"  {name:<{width}}" + "".join(f"{score:>12.4f}" for score in scores))
    leads = []
    for j, column in enumerate(columns):
        first, second = sorted(rows, key=lambda name: rows[name][j], reverse=True)[:2]
        leads.append((first, rows[first][j] - rows[second][j]))
        print(f"  {column}: {first} lead by {leads[-1][1]:.4f} over {second}")
    return leads


def _digits():
    """Split and scale the digits, mask a copy of the test set, draw labels.

    Returns the training digits and labels, the test digits clean and with
    ``MASKED`` of their pixels set to 0, the test labels, and ``N_DRAWS``
    draws of ``N_LABELS`` training rows per class.
    """
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=SEED, stratify=y
    )
    scaler = MinMaxScaler().fit(X_train)
    # cross-entropy needs data in [0, 1]; test pixels may exceed the train range
    X_train = scaler.transform(X_train)
    X_test = np.clip(scaler.transform(X_test), 0, 1)
    rng = np.random.RandomState(SEED)
    masked = np.where(rng.random_sample(X_test.shape) < MASKED, 0.0, X_test)
    few_labels = [
        np.concatenate(
            [
                rng.choice(np.flatnonzero(y_train == digit), N_LABELS, replace=False)
                for digit in range(10)
            ]
        )
        for _ in range(N_DRAWS)
    ]
    return X_train, y_train, [X_test, masked], y_test, few_labels


def _classify(features, X_train, y_train, tests, y_test, few_labels):
    """Fit the logistic regressions on each feature set; print what they say."""
    rows = {}
    for name, transform in features.items():
        _progress(f"fitting logistic regressions on the {name}...")
        rows[name] = _accuracies(transform, X_train, y_train, tests, y_test, few_labels)
    print(f"Logistic-regression accuracy on the {len(y_test)} test digits:")
    _say(
        f"trained on the {len(y_train)} training digits and tested clean or "
        f"with {MASKED:.0%} of the pixels set to 0; or trained on {N_LABELS} "
        f"labelled digits per class (mean of {N_DRAWS} draws; the encoders and "
        f"PCA saw all {len(y_train)}, unlabelled) and tested clean"
    )
    leads = _print_table(rows, ["clean", f"{MASKED:.0%} masked", f"{N_LABELS} labels"])
    if any(first != f"{N_COMPONENTS} sparse codes" for first, _ in leads):
        _say("the sparse codes do not lead every column")
        return
    _say(
        "why the sparse codes lead: the penalty keeps each unit near 0 except "
        "on digits close to its pattern, a nonlinear detector, so the digits "
        "lie further apart for a linear model, with margin left when pixels "
        "are lost or labels are few; the control's units stay in the sigmoid's "
        "near-linear middle and add little to the pixels"
    )
    if leads[0][1] == min(lead for _, lead in leads):
        _say(
            "why the lead is smallest on clean digits: with all labels, the "
            "clean pixels already hold most of what a linear model needs"
        )


def _few_components(X_train, y_train, X_test, y_test):
    """Sparse codes against PCA with only N_FEW numbers per digit."""
    from sklearn.decomposition import PCA

    sae = _fit_autoencoder(
        X_train, N_FEW, f"a SparseAutoEncoder with {N_FEW} code units"
    )
    _progress(f"fitting PCA with {N_FEW} components...")
    pca = PCA(n_components=N_FEW, random_state=SEED).fit(X_train)
    print(f"With only {N_FEW} numbers per digit (test set):")
    results = []
    for name, model in [("sparse codes", sae), ("PCA components", pca)]:
        _progress(f"fitting a logistic regression on the {N_FEW} {name}...")
        reconstructed = model.inverse_transform(model.transform(X_test))
        (accuracy,) = _accuracies(model.transform, X_train, y_train, [X_test], y_test)
        # summed over the pixels, averaged over the digits
        results.append((((X_test - reconstructed) ** 2).sum(1).mean(), accuracy))
        print(
            f"  {N_FEW} {name + ':':<16} squared reconstruction error "
            f"{results[-1][0]:.4f}, accuracy {accuracy:.4f}"
        )
    (sae_error, sae_accuracy), (pca_error, pca_accuracy) = results
    if pca_error < sae_error:
        _say(
            "why PCA reconstructs better: it minimises exactly this squared "
            f"error over all linear {N_FEW}-number codes; the autoencoder "
            f"trades reconstruction for sparsity (a mean activation of {RHO} "
            "asked of each unit) and is trained on cross-entropy"
        )
    if pca_accuracy > sae_accuracy:
        active = (sae.transform(X_test) > 0.5).sum(axis=1).mean()
        _say(
            f"why PCA classifies better: its {N_FEW} components are the "
            "directions of largest variance, which carry most of what separates "
            f"the digits, while a digit has on average {active:.1f} of the "
            f"{N_FEW} sparse units above 0.5: too coarse for ten classes"
        )


def main(argv=None):
    """Fit a SparseAutoEncoder on digits; show where it beats PCA and pixels."""
    _parse_args(argv)  # --help answers before scikit-learn is imported
    from sklearn.decomposition import PCA

    X_train, y_train, tests, y_test, few_labels = _digits()
    n_train, n_pixels = X_train.shape
    sae = _fit_autoencoder(
        X_train,
        N_COMPONENTS,
        f"a SparseAutoEncoder with {N_COMPONENTS} code units, rho = {RHO} "
        f"(PCA stops at {n_pixels}), on the {n_train} training digits",
    )
    _progress(f"fitting PCA with 32 components on the {n_train} training digits...")
    pca = PCA(n_components=32, random_state=SEED).fit(X_train)
    codes = sae.transform(tests[0])
    _print_codes(codes, y_test, pca.transform(tests[0]))
    control = _fit_autoencoder(
        X_train, N_COMPONENTS, "the same network without the penalty, a control", 0.0
    )
    middle = [
        ((c > 0.1) & (c < 0.9)).mean() for c in [control.transform(tests[0]), codes]
    ]
    _say(
        "code values in the sigmoid's near-linear middle (0.1 to 0.9): "
        f"{middle[0]:.0%} of the control's, {middle[1]:.0%} of the sparse codes'"
    )
    features = {
        f"{N_COMPONENTS} sparse codes": sae.transform,
        f"{N_COMPONENTS} unpenalised codes": control.transform,
        "32 PCA components": pca.transform,
        f"{n_pixels} raw pixels": lambda X: X,
    }
    _classify(features, X_train, y_train, tests, y_test, few_labels)
    _few_components(X_train, y_train, tests[0], y_test)


if __name__ == "__main__":
    main()
