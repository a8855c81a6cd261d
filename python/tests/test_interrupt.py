"""Ctrl-C stops a long fit: the fit runs without the GIL, Python's signal handler runs
between slices, and the fit unwinds at its next iteration or epoch."""

import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

SCRIPT = """
import sys, time, numpy as np, vaenmf
X = np.load(sys.argv[1]).T
est = {estimator}
try:
    print("fitting", flush=True)
    start = time.perf_counter()
    est.fit(X)
    print("finished without an interrupt", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {{time.perf_counter() - start:.2f}} s", flush=True)
    # The extension is usable afterwards.
    z = vaenmf.NMF(2, max_iter=20).fit_transform(X[:200])
    print("then fitted again", z.shape, flush=True)
"""


@pytest.mark.parametrize(
    "estimator",
    [
        "vaenmf.NMF(4, max_iter=1_000_000, tol=0)",  # minutes
        "vaenmf.VAENMF(4, hidden=(64, 64), epochs=100_000, validation=0)",  # hours
    ],
    ids=["NMF", "VAENMF"],
)
def test_ctrl_c_interrupts_a_long_fit(estimator):
    code = SCRIPT.format(estimator=estimator)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT / "data/gait120-sts/V_matrix.npy")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "fitting"
    time.sleep(1.0)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the fit went on after Ctrl-C")
    waited = time.perf_counter() - sent
    assert proc.returncode == 0, err
    assert "interrupted after" in out, out
    assert "then fitted again (200, 2)" in out
    assert waited < 5.0
