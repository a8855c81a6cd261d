"""Shared fixtures: the bundled Gait120 envelopes, the repository root, and the tools some
tests need (the `vaenmf` binary, the firmware toolchain and QEMU). `cargo xtask test` sets
VAENMF_TEST_ALL=1: there a missing tool fails the test instead of skipping it."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def need(what, available):
    """Skips (fails under `cargo xtask test`) when ``available`` is false."""
    if available:
        return
    if os.environ.get("VAENMF_TEST_ALL") == "1":
        pytest.fail(f"{what} is missing (cargo xtask test provides it)")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def gait():
    """Gait120 sit-to-stand envelopes, frames × channels (9900 × 12), and the muscle names."""
    v = np.load(ROOT / "data/gait120-sts/V_matrix.npy")
    names = [
        line.strip()
        for line in (ROOT / "data/gait120-sts/channel_names.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return np.ascontiguousarray(v.T), names


@pytest.fixture(scope="session")
def vaenmf_bin():
    """The `vaenmf` command built by the workspace's tests."""
    path = Path(os.environ.get("VAENMF_BIN", ROOT / "target/debug/vaenmf"))
    need(f"the vaenmf binary ({path})", path.is_file())
    return path


@pytest.fixture(scope="session")
def firmware_tools():
    """cargo with the Cortex-M4F target, and qemu-system-arm."""
    need("cargo", shutil.which("cargo") is not None)
    need("qemu-system-arm", shutil.which("qemu-system-arm") is not None)
    return shutil.which("cargo")
