#!/usr/bin/env python3
"""Reference values for vaenmf's speech-enhancement tests and the supervised-NMF baseline.

  python scripts/speech_reference.py fixtures
      Writes host-trainer/tests/fixtures/speech/: BSS-eval cases computed by
      mir_eval.separation.bss_eval_sources (estimates as float WAV, references taken from
      the bundled data/speech-mini files) and the oracle-mask SDRs of the bundled test
      mixtures made by `vaenmf speech mix` (SciPy STFT, 512-point periodic Hamming, hop 128).

  python scripts/speech_reference.py int16-input
      Writes host-trainer/tests/fixtures/speech/int16_input.json and int16_{clean,noise,noisy}.wav:
      a 0 dB mixture whose clean, noise and noisy files were each rounded to 16-bit PCM, and
      mir_eval's ratios of the unprocessed input with and without the permutation search
      (the input is the speech estimate; with the search the rounding-noise residual can be
      picked as the "speech").

  python scripts/speech_reference.py baseline --data DIR [--snr -5,0] [--out FILE]
      The plain supervised-NMF pipeline the issue describes, on DIR (the layout of
      ../shared/data/speech): scikit-learn NMF(40, solver='mu', init='random', max_iter=200)
      per dictionary on the train files, SciPy STFT 512 / hop 128 Hamming, 100 Euclidean
      multiplicative updates for the activations, Wiener gain p = 2, mir_eval SDR. Test
      utterances x test noise segments only. Mixtures from `vaenmf speech mix` (give its
      output folder with --mixtures) so both pipelines score the same files.

Needs: numpy, scipy, mir_eval, scikit-learn (scripts/requirements.txt).
"""
import argparse
import csv
import json
import os
import sys
import wave

import numpy as np
import scipy.signal
from mir_eval.separation import bss_eval_sources

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINI = os.path.join(ROOT, "data", "speech-mini")
FIX = os.path.join(ROOT, "host-trainer", "tests", "fixtures", "speech")
FS, NFFT, HOP = 16000, 512, 128


def read_wav(path):
    import scipy.io.wavfile
    rate, x = scipy.io.wavfile.read(path)
    if x.dtype == np.int16:
        x = x.astype(np.float64) / 32768.0
    return rate, x.astype(np.float64)


def write_float_wav(path, x):
    import scipy.io.wavfile
    scipy.io.wavfile.write(path, FS, np.asarray(x, dtype=np.float32))


def stft(x):
    # Periodic Hamming, centred (zero padding of n/2 each side), no scaling that matters
    # for masks: scipy's scaling cancels in istft.
    win = scipy.signal.get_window("hamming", NFFT, fftbins=True)
    _, _, z = scipy.signal.stft(x, FS, window=win, nperseg=NFFT, noverlap=NFFT - HOP,
                                boundary="zeros", padded=True)
    return z


def istft(z, length):
    win = scipy.signal.get_window("hamming", NFFT, fftbins=True)
    _, x = scipy.signal.istft(z, FS, window=win, nperseg=NFFT, noverlap=NFFT - HOP,
                              boundary=True)
    x = x[:length]
    return np.pad(x, (0, length - len(x)))


def oracle(clean, noise, p=2.0):
    s, n, y = stft(clean), stft(noise), stft(clean + noise)
    a, b = np.abs(s) ** p, np.abs(n) ** p
    g = np.where(a + b > 0, a / np.maximum(a + b, 1e-300), 0.0)
    return istft(g * y, len(clean))


def speech_sdr(clean, noise, est):
    mix = clean + noise
    sdr, sir, sar, perm = bss_eval_sources(np.vstack([clean, noise]), np.vstack([est, mix - est]))
    return {"sdr": float(sdr[0]), "sir": float(sir[0]), "sar": float(sar[0]),
            "permuted": bool(perm[0] != 0)}


def to_pcm(a, b):
    """Both signals as int16 with one scale (vaenmf's rule: full scale 1 unless exceeded)."""
    peak = max(np.max(np.abs(a)), np.max(np.abs(b)), 1.0)
    s = 32767.0 / peak
    return np.round(a * s).astype(np.int16), np.round(b * s).astype(np.int16)


def quality(clean, degraded):
    """PESQ (ITU reference code through PyPI pesq) and STOI / ESTOI (pystoi) at 16 kHz.
    Narrowband PESQ on 8 kHz input (SciPy resample_poly), the variant vaenmf reports."""
    from pesq import pesq
    from pystoi import stoi
    r16, d16 = to_pcm(clean, degraded)
    wb = pesq(FS, r16.astype(float), d16.astype(float), "wb")
    nb16 = pesq(FS, r16.astype(float), d16.astype(float), "nb")
    r8, d8 = to_pcm(scipy.signal.resample_poly(clean, 1, 2), scipy.signal.resample_poly(degraded, 1, 2))
    nb8 = pesq(8000, r8.astype(float), d8.astype(float), "nb")
    return {"pesq_wb": float(wb), "pesq_nb_mos_lqo": float(nb8), "pesq_nb_16k_itu": float(nb16),
            "stoi": float(stoi(clean, degraded, FS)), "estoi": float(stoi(clean, degraded, FS, extended=True))}


def fixtures():
    os.makedirs(FIX, exist_ok=True)
    n = 2 * FS
    _, clean = read_wav(os.path.join(MINI, "clean/test/ls_302-123504-0000.wav"))
    clean = clean[FS:FS + n]  # 1-3 s: speech, not the leading silence
    rng = np.random.default_rng(20261126)
    cases = []
    for noise_name, snr in [("babble", 0.0), ("running_tap", 5.0)]:
        _, noise = read_wav(os.path.join(MINI, f"noise/{noise_name}/test.wav"))
        noise = noise[:n]
        gain = np.linalg.norm(clean) / (np.linalg.norm(noise) * 10 ** (snr / 20))
        scaled = noise * gain
        # Two kinds of estimate: a magnitude mask (filtering + artefacts), and the clean
        # speech delayed and scaled plus residual noise and white noise (interference).
        est_a = oracle(clean, scaled, p=1.0)
        delayed = np.concatenate([np.zeros(7), clean[:-7]])
        est_b = 0.8 * delayed + 0.3 * scaled + 0.01 * rng.standard_normal(n)
        for kind, est in [("mask", est_a), ("mixed", est_b)]:
            name = f"{noise_name}_{kind}.wav"
            write_float_wav(os.path.join(FIX, name), est)
            _, est32 = read_wav(os.path.join(FIX, name))  # score what was stored (float32)
            refs = np.vstack([clean, scaled])
            sdr, sir, sar, perm = bss_eval_sources(refs, np.vstack([est32, clean + scaled - est32]))
            cases.append({
                "clean": "clean/test/ls_302-123504-0000.wav", "clean_start": FS, "length": n,
                "noise": f"noise/{noise_name}/test.wav", "noise_start": 0, "noise_gain": gain,
                "estimate": name,
                "sdr": sdr.tolist(), "sir": sir.tolist(), "sar": sar.tolist(),
                "permutation": perm.tolist(),
            })
    metric_cases = []
    for case in cases:
        _, est = read_wav(os.path.join(FIX, case["estimate"]))
        metric_cases.append({"pair": case["estimate"], **quality(clean, est)})
    oracle_cases = []
    mix_dir = os.environ.get("VAENMF_MINI_MIX")
    if mix_dir:
        with open(os.path.join(mix_dir, "manifest.csv")) as f:
            for row in csv.DictReader(f):
                _, c = read_wav(os.path.join(mix_dir, row["clean"]))
                _, nz = read_wav(os.path.join(mix_dir, row["noise_file"]))
                r = speech_sdr(c, nz, oracle(c, nz))
                oracle_cases.append({"utterance": row["utterance"], "noise": row["noise"],
                                     "snr_db": float(row["snr_db"]),
                                     "segment_start": int(row["segment_start"]), **r})
                metric_cases.append({"pair": f"{row['noise']}/{row['utterance']} noisy",
                                     **quality(c, c + nz)})
    out = {"generator": "scripts/speech_reference.py fixtures",
           "mir_eval": __import__("mir_eval").__version__,
           "pesq": __import__("importlib.metadata").metadata.version("pesq"),
           "pystoi": __import__("importlib.metadata").metadata.version("pystoi"),
           "bss_eval": cases, "oracle_p2": oracle_cases, "quality": metric_cases}
    with open(os.path.join(FIX, "reference.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


def int16_input():
    import scipy.io.wavfile
    n = 2 * FS
    _, clean = read_wav(os.path.join(MINI, "clean/test/ls_302-123504-0000.wav"))
    clean = 0.7 * clean[FS:FS + n]  # a level change: the clean file is rounded anew
    _, noise = read_wav(os.path.join(MINI, "noise/babble/test.wav"))
    noise = noise[:n] * np.linalg.norm(clean) / np.linalg.norm(noise[:n])  # 0 dB

    def pcm(x):
        return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)

    files = {"clean": pcm(clean), "noise": pcm(noise), "noisy": pcm(clean + noise)}
    for name, x in files.items():
        scipy.io.wavfile.write(os.path.join(FIX, f"int16_{name}.wav"), FS, x)
    c, nz, y = (files[k].astype(np.float64) / 32768.0 for k in ("clean", "noise", "noisy"))
    refs, ests = np.vstack([c, nz]), np.vstack([y, c + nz - y])
    out = {"generator": "scripts/speech_reference.py int16-input",
           "mir_eval": __import__("mir_eval").__version__,
           "files": {k: f"int16_{k}.wav" for k in files}}
    for key, perm in [("fixed", False), ("permutation", True)]:
        sdr, sir, sar, p = bss_eval_sources(refs, ests, compute_permutation=perm)
        out[key] = {"sdr": float(sdr[0]), "sir": float(sir[0]), "sar": float(sar[0]),
                    "permuted": bool(p[0] != 0)}
    with open(os.path.join(FIX, "int16_input.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


def baseline(args):
    from sklearn.decomposition import NMF

    def mag_frames(files):
        return np.hstack([np.abs(stft(read_wav(f)[1])) for f in files])

    def learn(v):
        m = NMF(40, solver="mu", init="random", max_iter=200, random_state=0, tol=0)
        m.fit(v.T)  # frames x bins
        return m.components_.T  # bins x 40

    data = args.data
    clean_train = sorted(os.path.join(data, "clean/train", f) for f in os.listdir(os.path.join(data, "clean/train")))
    ws = learn(mag_frames(clean_train))
    results = {}
    with open(os.path.join(args.mixtures, "manifest.csv")) as f:
        rows = list(csv.DictReader(f))
    snrs = {float(s) for s in args.snr.split(",")}
    rows = [r for r in rows if float(r["snr_db"]) in snrs]
    wn_cache = {}
    for row in rows:
        noise = row["noise"]
        if noise not in wn_cache:
            wn_cache[noise] = learn(mag_frames([os.path.join(data, "noise", noise, "train.wav")]))
        w = np.hstack([ws, wn_cache[noise]])
        _, c = read_wav(os.path.join(args.mixtures, row["clean"]))
        _, nz = read_wav(os.path.join(args.mixtures, row["noise_file"]))
        y = stft(c + nz)
        v = np.abs(y)
        h = np.full((w.shape[1], v.shape[1]), 1.0)
        wtw = w.T @ w
        wtv = w.T @ v
        for _ in range(100):
            h *= wtv / np.maximum(wtw @ h, 1e-12)
        s_hat, n_hat = (w[:, :40] @ h[:40]) ** 2, (w[:, 40:] @ h[40:]) ** 2
        est = istft(s_hat / np.maximum(s_hat + n_hat, 1e-12) * y, len(c))
        r = speech_sdr(c, nz, est)
        # The input's residual (mixture − mixture) is silent, which mir_eval refuses; its SDR
        # is the single-source one (the mixture lies in the span of the references).
        sdr_in = bss_eval_sources(c[np.newaxis], (c + nz)[np.newaxis])[0][0]
        r_in = {"sdr": float(sdr_in)}
        key = f"{noise}/{row['snr_db']}"
        results.setdefault(key, []).append({"utterance": row["utterance"], "nmf": r, "input": r_in})
        print(key, row["utterance"], round(r["sdr"], 2), "input", round(r_in["sdr"], 2), file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fixtures")
    sub.add_parser("int16-input")
    b = sub.add_parser("baseline")
    b.add_argument("--data", required=True)
    b.add_argument("--mixtures", required=True)
    b.add_argument("--snr", default="-5,0", help="SNRs of the manifest to score")
    b.add_argument("--out", default="baseline.json")
    a = ap.parse_args()
    {"fixtures": fixtures, "int16-input": int16_input}.get(a.cmd, lambda: baseline(a))()
