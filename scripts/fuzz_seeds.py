#!/usr/bin/env python3
"""Seed inputs of the trainer's loader fuzz targets (host-trainer/fuzz/seeds/TARGET/): small
valid files of each kind a user hands to vaenmf, so the fuzzer starts inside the formats.

  python scripts/fuzz_seeds.py

Needs numpy and scipy (scripts/requirements.txt). The seeds are committed; run again only to
change them.
"""
import io
import os
import struct

import numpy as np
import scipy.io
import scipy.io.wavfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "host-trainer", "fuzz", "seeds")
rng = np.random.default_rng(1)


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def wav(rate, x):
    b = io.BytesIO()
    scipy.io.wavfile.write(b, rate, x)
    return b.getvalue()


t = np.arange(64)
tone = np.sin(0.3 * t)
put("wav", "pcm16-16k.wav", wav(16000, (tone * 12000).astype(np.int16)))
put("wav", "pcm16-stereo-8k.wav", wav(8000, np.stack([tone, -tone], 1).__mul__(9000).astype(np.int16)))
put("wav", "float32-22k.wav", wav(22050, tone.astype(np.float32)))
put("wav", "pcm32-16k.wav", wav(16000, (tone * 2e9).astype(np.int32)))
put("wav", "pcm8-16k.wav", wav(16000, (tone * 100 + 128).astype(np.uint8)))
# 24-bit PCM by hand (scipy writes no 24-bit): fmt chunk, 3 bytes per sample.
s24 = b"".join(struct.pack("<i", int(v * 4e6))[:3] for v in tone)
fmt = struct.pack("<HHIIHH", 1, 1, 16000, 16000 * 3, 3, 24)
put("wav", "pcm24-16k.wav", b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(s24)) + b"WAVE"
    + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(s24)) + s24)

x = rng.random((6, 3))
for name, arr in [("f64-c.npy", x), ("f32-c.npy", x.astype(np.float32)),
                  ("f64-fortran.npy", np.asfortranarray(x)), ("i16.npy", (x * 100).astype(np.int16))]:
    b = io.BytesIO()
    np.save(b, arr)
    put("npy", name, b.getvalue())

stim = np.array([[1, 1, 0, 1, 1, 0]], dtype=float).T
rep = np.array([[1, 2, 0, 3, 5, 0]], dtype=float).T
for name, d in [("ninapro.mat", {"emg": x, "restimulus": stim, "rerepetition": rep}),
                ("one.mat", {"x": x}), ("single.mat", {"x": x.astype(np.float32)}),
                ("int.mat", {"x": (x * 10).astype(np.int32)})]:
    b = io.BytesIO()
    scipy.io.savemat(b, d, format="5", do_compression=False)
    put("mat", name, b.getvalue())

put("csv", "header.csv", b"a,b,c\n0.1,0.2,0.3\n0.4,0.5,0.6\n0.7,0.8,0.9\n")
put("csv", "plain.csv", b"1,2\n3,4\n5,6\n")
put("csv", "semicolon.csv", b"m1;m2\n1;2\n3;4\n")

put("manifest", "manifest.csv",
    b"utterance,noise,segment_start,snr_db,clean,noise_file,noisy\n"
    b"u1,babble,12,-5,babble/-5dB/u1.clean.wav,babble/-5dB/u1.noise.wav,babble/-5dB/u1.noisy.wav\n"
    b"\"a,b\",tap,0,10,\"tap/10dB/a,b.clean.wav\",\"tap/10dB/a,b.noise.wav\",\"tap/10dB/a,b.noisy.wav\"\n")
print("seeds written to", SEEDS)
