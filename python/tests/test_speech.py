"""vaenmf.speech against `vaenmf speech enhance` and `vaenmf speech metrics` on the bundled
speech enhancer and recordings: the same samples and the same report."""

import json
import subprocess

import numpy as np
import pytest

import vaenmf
from conftest import ROOT

MODEL = ROOT / "firmware-example/model/speech.vnmf"
NOISY = ROOT / "firmware-example/model/speech.wav"
CLEAN = ROOT / "firmware-example/model/speech-clean.wav"
NOISE = ROOT / "firmware-example/model/speech-noise.wav"


def read_wav(path):
    """Mono samples and rate of a 16-bit PCM or 32-bit float WAV file."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + size]
        if tag == b"fmt ":
            fmt = (
                int.from_bytes(body[0:2], "little"),
                int.from_bytes(body[2:4], "little"),
                int.from_bytes(body[4:8], "little"),
                int.from_bytes(body[14:16], "little"),
            )
        elif tag == b"data":
            samples = body
        pos += 8 + size + (size & 1)
    code, channels, rate, bits = fmt
    assert channels == 1
    if code == 3 or (code == 0xFFFE and bits == 32):
        return np.frombuffer(samples, dtype="<f4").astype(np.float32), rate
    assert bits == 16
    return (np.frombuffer(samples, dtype="<i2") / 32768.0).astype(np.float32), rate


def test_enhance_equals_the_command(vaenmf_bin, tmp_path):
    noisy, rate = read_wav(NOISY)
    enhancer = vaenmf.load(MODEL)
    assert isinstance(enhancer, vaenmf.speech.Enhancer)
    assert enhancer.rate == rate
    ours = vaenmf.speech.enhance(enhancer, noisy, rate)
    assert ours.dtype == np.float32 and ours.shape == noisy.shape
    out = tmp_path / "enhanced.wav"
    run = subprocess.run(
        [str(vaenmf_bin), "speech", "enhance", "--model", str(MODEL), str(NOISY), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    theirs, out_rate = read_wav(out)
    assert out_rate == rate
    assert np.array_equal(ours, theirs)
    inspect = subprocess.run([str(vaenmf_bin), "inspect", str(MODEL)], capture_output=True, text=True)
    assert enhancer.describe() == inspect.stdout
    # A path works as well as a loaded model; the offline mode gives an estimate as long.
    assert np.array_equal(vaenmf.speech.enhance(str(MODEL), noisy, rate), ours)
    offline = vaenmf.speech.enhance(enhancer, noisy, rate, mode="offline")
    assert offline.shape == noisy.shape


def test_metrics_equal_the_command(vaenmf_bin, tmp_path):
    clean, rate = read_wav(CLEAN)
    noise, _ = read_wav(NOISE)
    estimate = vaenmf.speech.enhance(vaenmf.load(MODEL), clean + noise, rate)
    est_path = tmp_path / "estimate.wav"
    write_float_wav(est_path, estimate, rate)
    ours = vaenmf.speech.metrics(clean, noise, estimate, rate)
    report = tmp_path / "report.json"
    run = subprocess.run(
        [
            str(vaenmf_bin),
            "speech",
            "metrics",
            "--reference",
            str(CLEAN),
            "--noise",
            str(NOISE),
            "--estimate",
            str(est_path),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert ours == json.loads(report.read_text())
    assert {"sdr", "sir", "sar", "pesq_nb_raw", "pesq_nb_mos_lqo", "pesq_wb", "stoi", "estoi"} <= set(ours)
    # Enhancement helps on this mixture.
    noisy_scores = vaenmf.speech.metrics(clean, noise, clean + noise, rate)
    assert ours["sdr"] > noisy_scores["sdr"]


def write_float_wav(path, samples, rate):
    data = np.asarray(samples, dtype="<f4").tobytes()
    fmt = (
        (3).to_bytes(2, "little")
        + (1).to_bytes(2, "little")
        + rate.to_bytes(4, "little")
        + (rate * 4).to_bytes(4, "little")
        + (4).to_bytes(2, "little")
        + (32).to_bytes(2, "little")
    )
    body = (
        b"WAVE"
        + b"fmt "
        + len(fmt).to_bytes(4, "little")
        + fmt
        + b"data"
        + len(data).to_bytes(4, "little")
        + data
    )
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)


def test_speech_errors():
    clean, rate = read_wav(CLEAN)
    enhancer = vaenmf.load(MODEL)
    with pytest.raises(ValueError, match=f"samples: sample rate 8000 Hz, but the enhancer needs {rate} Hz"):
        vaenmf.speech.enhance(enhancer, clean, 8000)
    with pytest.raises(ValueError, match="lengths differ: reference clean has"):
        vaenmf.speech.metrics(clean, clean[:-1], clean, rate)
    with pytest.raises(ValueError, match="a mono recording"):
        vaenmf.speech.enhance(enhancer, np.zeros((2, 100)), rate)
    with pytest.raises(ValueError, match="invalid --updates-per-frame 0"):
        vaenmf.speech.enhance(enhancer, clean, rate, updates_per_frame=0)
    with pytest.raises(ValueError, match="invalid --mode fast"):
        vaenmf.speech.enhance(enhancer, clean, rate, mode="fast")
    # Resampled in and back, as long as the input.
    half = vaenmf.speech.enhance(enhancer, clean[::2], rate // 2, resample=True)
    assert half.shape == clean[::2].shape
