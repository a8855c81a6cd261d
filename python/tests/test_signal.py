"""vaenmf.envelope against a closed form and its own contract."""

import numpy as np
import pytest

import vaenmf


def test_envelope_of_a_steady_sine_is_its_mean_rectified_value():
    # A 100 Hz sine of amplitude a inside the pass band: its full-wave rectified mean is
    # 2a/π, which the 4 Hz low-pass leaves once the transients have passed.
    fs, a = 2000.0, 0.8
    t = np.arange(int(4 * fs)) / fs
    raw = np.stack([a * np.sin(2 * np.pi * 100 * t), 0.5 * a * np.sin(2 * np.pi * 150 * t)], axis=1)
    env = vaenmf.envelope(raw, fs)
    assert env.shape == raw.shape and env.dtype == np.float32
    middle = env[len(t) // 4 : 3 * len(t) // 4]
    assert np.allclose(middle[:, 0], 2 * a / np.pi, rtol=0.02)
    assert np.allclose(middle[:, 1], a / np.pi, rtol=0.02)
    dec = vaenmf.envelope(raw, fs, decimate=10)
    assert dec.shape == (len(t) // 10, 2)
    causal = vaenmf.envelope(raw, fs, causal=True)
    assert not np.array_equal(causal, env)


def test_envelope_errors_name_the_parameter():
    raw = np.ones((100, 2))
    with pytest.raises(ValueError, match="invalid --lowpass 2000"):
        vaenmf.envelope(raw, 2000.0, lowpass=2000.0)
    with pytest.raises(ValueError, match="invalid --band 450:20"):
        vaenmf.envelope(raw, 2000.0, band=(450, 20))
    with pytest.raises(ValueError, match="invalid --fs"):
        vaenmf.envelope(raw, -1.0)
    with pytest.warns(UserWarning, match="envelope:"):
        vaenmf.envelope(np.random.default_rng(0).random((2000, 1)), 500.0)
