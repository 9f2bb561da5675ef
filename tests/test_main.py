"""``python -m skae``: the help, and the demo on the bundled digits."""

# License: BSD-3-Clause

import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae.__main__ import N_COMPONENTS, N_FEW, RHO, SEED

SPARSE = f"{N_COMPONENTS} sparse codes"
ROWS = [
    SPARSE,
    f"{N_COMPONENTS} unpenalised codes",
    "32 PCA components",
    "64 raw pixels",
]

# every fit, in order, each announced before it starts
FITTING = [
    f"fitting a SparseAutoEncoder with {N_COMPONENTS} code units",
    "fitting PCA with 32 components",
    "fitting the same network without the penalty",
    *(f"fitting logistic regressions on the {row}" for row in ROWS),
    f"fitting a SparseAutoEncoder with {N_FEW} code units",
    f"fitting PCA with {N_FEW} components",
    f"fitting a logistic regression on the {N_FEW} sparse codes",
    f"fitting a logistic regression on the {N_FEW} PCA components",
]


def run_skae(*args):
    """Run ``python -W error -m skae ARGS``: any warning ends it with an error."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "skae", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def demo():
    """The demo's output; one run (a few seconds) for all the tests below."""
    result = run_skae()
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_without_running_the_demo(flag):
    result = run_skae(flag)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout
    assert "python -m skae" in result.stdout
    assert "fitting" not in result.stdout
    assert result.stderr == ""


def test_unknown_argument_is_an_error_without_running_the_demo():
    result = run_skae("--no-such-option")
    assert result.returncode == 2
    assert "usage" in result.stderr
    assert "fitting" not in result.stdout


def _number(pattern, text):
    """The number in the first group of ``pattern``, searched in ``text``."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the demo's output:\n{text}"
    return float(match.group(1))


def _flat(text):
    """The text with its line wrapping undone."""
    return " ".join(text.split())


def test_demo_prints_no_warning_and_says_what_it_fits_before_each_fit(demo):
    out = demo.stdout
    assert demo.stderr == ""  # -W error: a ConvergenceWarning would fail it
    positions = [out.find(message) for message in FITTING]
    assert all(position >= 0 for position in positions), out
    assert positions == sorted(positions)
    # each autoencoder's report follows the line announcing its fit
    fits = [match.start() for match in re.finditer(r"  fit: \d+ L-BFGS", out)]
    assert len(fits) == 3
    assert positions[0] < fits[0] < positions[1]
    assert positions[2] < fits[1] < positions[3]
    assert positions[7] < fits[2] < positions[8]
    # the table comes after the last of the fits it reports
    assert positions[6] < out.find("Logistic-regression accuracy") < positions[7]


def test_demo_codes_are_sparse_at_the_rho_asked_for(demo):
    out = _flat(demo.stdout)
    rho_hat, control_rho_hat = (
        float(value) for value in re.findall(r"rho_hat = (\S+)", out)[:2]
    )
    assert abs(rho_hat - RHO) < 0.5 * RHO
    assert control_rho_hat > 4 * RHO  # without the penalty, nothing keeps it low
    low, high = (float(v) for v in re.search(r"all in \[(\S+), (\S+)\]", out).groups())
    assert 0 <= low <= high <= 1  # non-negative, a sigmoid's
    assert 20 < _number(r"signed: (\d+)% below 0", out) < 80
    assert _number(r"(\d+)% of the values below 0.1", out) > 50
    assert _number(r"on average (\S+) units above 0.5", out) < 0.1 * N_COMPONENTS
    assert _number(r"median (\d+)% of its mean activation", out) > 10
    control, sparse = (
        float(v) for v in re.search(r"(\d+)% of the control's, (\d+)%", out).groups()
    )
    assert sparse < control


def _table(out):
    """The accuracy table: each row's accuracies, by the row's name."""
    rows = {}
    for name in ROWS:
        match = re.search(rf"^  {name} +((?:\d\.\d{{4}} *)+)$", out, re.MULTILINE)
        assert match, f"no row {name!r} in:\n{out}"
        rows[name] = [float(value) for value in match.group(1).split()]
    return rows


def test_demo_leads_are_what_the_table_says(demo):
    out = demo.stdout
    rows = _table(out)
    columns = ["clean", "30% masked", "10 labels"]
    leads = []
    for j, column in enumerate(columns):
        match = re.search(
            rf"{column}: (.+) lead by (\S+) over (.+)$", out, re.MULTILINE
        )
        assert match, out
        first, margin, second = match.group(1), float(match.group(2)), match.group(3)
        ranked = sorted(rows, key=lambda name: rows[name][j], reverse=True)
        assert [first, second] == ranked[:2]
        assert margin == pytest.approx(rows[first][j] - rows[second][j], abs=2e-4)
        assert all(0.5 < row[j] <= 1 for row in rows.values())
        leads.append((first, margin))
    sparse_leads = all(first == SPARSE for first, _ in leads)
    assert ("why the sparse codes lead" in out) == sparse_leads
    clean_smallest = sparse_leads and leads[0][1] == min(m for _, m in leads)
    assert ("why the lead is smallest on clean" in out) == clean_smallest
    # what the --help promises: a lead everywhere, smallest on clean digits
    assert sparse_leads and clean_smallest, out


def _mean_image_error():
    """Squared error of reconstructing every test digit as the mean training one.

    The demo's split and scaling; any reconstruction worth the name beats it.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=SEED, stratify=y)
    scaler = MinMaxScaler().fit(X_train)
    X_train = scaler.transform(X_train)
    X_test = np.clip(scaler.transform(X_test), 0, 1)
    return float(np.mean(np.sum((X_test - X_train.mean(axis=0)) ** 2, axis=1)))


def test_demo_few_components_verdicts_are_what_the_numbers_say(demo):
    out = demo.stdout
    pattern = r"reconstruction error (\S+), accuracy (\S+)"
    (sae_error, sae_acc), (pca_error, pca_acc) = (
        (float(error), float(accuracy))
        for error, accuracy in re.findall(rf"{N_FEW} \w+ \w+: +squared {pattern}", out)
    )
    for error in [sae_error, pca_error]:
        assert 0 < error < _mean_image_error()
    assert ("why PCA reconstructs better" in out) == (pca_error < sae_error)
    assert ("why PCA classifies better" in out) == (pca_acc > sae_acc)
    # what the --help promises: with few components PCA wins both
    assert pca_error < sae_error and pca_acc > sae_acc, out


def test_help_answers_before_scikit_learn_is_imported():
    # usage first: importing scikit-learn takes 3 s quiet, 12 s on a busy machine
    code = (
        "import sys, runpy\n"
        "sys.argv = ['skae', '--help']\n"
        "try:\n"
        "    runpy.run_module('skae', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('sklearn' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "usage: python -m skae" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "False"
