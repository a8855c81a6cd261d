"""A model saved in Python is the file the command line and the firmware read: `vaenmf
inspect` describes it, and the firmware built with it (its `build.rs` embeds the blob) computes
under QEMU the activations `transform` computes here, bit for bit."""

import os
import subprocess

import numpy as np
import pytest

import vaenmf
from conftest import ROOT

QEMU_M4 = [
    "qemu-system-arm",
    "-cpu",
    "cortex-m4",
    "-machine",
    "mps2-an386",
    "-nographic",
    "-semihosting-config",
    "enable=on,target=native",
    "-icount",
    "shift=0",
]


def test_inspect_reads_a_python_blob(gait, vaenmf_bin, tmp_path):
    X, names = gait
    import pandas as pd

    est = vaenmf.VAENMF(3, hidden=(16, 8), epochs=3, validation=0.0, random_state=1).fit(
        pd.DataFrame(X[:1000], columns=names)
    )
    path = tmp_path / "py.vnmf"
    est.save(path)
    out = subprocess.run([str(vaenmf_bin), "inspect", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "VAE-NMF (encoder + dictionary)" in out.stdout
    assert "VL" in out.stdout and "PB" in out.stdout
    # The Python description is the command's text.
    assert vaenmf.load(path).describe(str(path)) == out.stdout


def firmware_activations(cargo, model, frames_csv, tag):
    """Builds the tracking firmware with `model` and `frames_csv` embedded and returns the
    activations it prints under QEMU, {frame: float32 array}."""
    target = "thumbv7em-none-eabihf"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAENMF_") and k != "RUSTFLAGS"}
    env.update(VAENMF_MODEL=str(model), VAENMF_FRAMES=str(frames_csv))
    target_dir = ROOT / "target/firmware/shared"
    build = subprocess.run(
        [
            cargo,
            "build",
            "--release",
            "--quiet",
            "--bin",
            "vaenmf-firmware-example",
            "--target",
            target,
            "--target-dir",
            str(target_dir),
        ],
        cwd=ROOT / "firmware-example",
        env=env,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    elf = target_dir / target / "release/vaenmf-firmware-example"
    run = subprocess.run(QEMU_M4 + ["-kernel", str(elf)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    z = {}
    for line in run.stdout.splitlines():
        if line.startswith("z,"):
            cells = line.split(",")[1:]
            z[int(cells[0])] = np.array([np.float32(c) for c in cells[1:]], dtype=np.float32)
    return z


@pytest.mark.parametrize("quantized", [False, True])
def test_firmware_computes_transform_bit_for_bit(gait, firmware_tools, tmp_path, quantized):
    X, _ = gait
    X32 = X.astype(np.float32)
    est = vaenmf.VAENMF(4, hidden=(24, 16), epochs=5, validation=0.0, random_state=2).fit(X32[:2000])
    if quantized:
        est = vaenmf.quantize(est, X32[:2000])
    model = tmp_path / "model.vnmf"
    est.save(model)
    frames = X32[5000:5040]
    csv = tmp_path / "frames.csv"
    # The shortest text of each float32 that parses back to it, on the device too.
    csv.write_text(
        "\n".join(",".join(np.format_float_positional(v, unique=True) for v in row) for row in frames) + "\n"
    )
    device = firmware_activations(firmware_tools, model, csv, "python")
    assert len(device) == len(frames)
    host = est.transform(frames)
    for f, z in device.items():
        assert np.array_equal(z, host[f]), (f, z, host[f])


@pytest.mark.parametrize("model", ["default.vnmf", "default-int8.vnmf", "nmf.vnmf"])
def test_command_line_models_load_and_transform_as_vaenmf_eval(vaenmf_bin, tmp_path, model):
    # Models written by `vaenmf train` / `quantize` scale their input (here 0.1086 per
    # channel): `transform` applies it as `vaenmf eval` and the device do, bit for bit.
    path = ROOT / "firmware-example/model" / model
    frames = ROOT / "firmware-example/model/frames.csv"
    z_csv = tmp_path / "z.csv"
    run = subprocess.run(
        [
            str(vaenmf_bin),
            "eval",
            "--model",
            str(path),
            "--data",
            str(frames),
            "--report",
            str(tmp_path / "r.json"),
            "--activations",
            str(z_csv),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    theirs = np.loadtxt(z_csv, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    X = np.loadtxt(frames, delimiter=",", skiprows=1, dtype=np.float32)
    est = vaenmf.load(path)
    assert not np.all(est._scale == 1)
    ours = est.transform(X)
    assert ours.dtype == np.float32
    assert np.array_equal(ours, theirs)
    # components_ are in the data's units: the reconstruction is in X's units.
    assert est.score(X) > 0.9
    assert np.allclose(est.inverse_transform(ours) * est._scale, ours @ est._dictionary, rtol=1e-5, atol=1e-6)
