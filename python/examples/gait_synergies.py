"""Muscle synergies of the bundled Gait120 sit-to-stand EMG, as `cargo xtask demo` plots
them: four NMF synergies as unit-norm muscle weightings, and their activations over the
movement cycle (mean ± SD of the 99 cycles).

    python python/examples/gait_synergies.py [out.png]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import vaenmf  # noqa: E402

data = Path(__file__).resolve().parents[2] / "data/gait120-sts"
X = np.load(data / "V_matrix.npy").T  # 9900 frames × 12 muscles
lines = (data / "channel_names.txt").read_text().splitlines()
names = [n.strip() for n in lines if n.strip() and not n.startswith("#")]

nmf = vaenmf.NMF(n_components=4, max_iter=500, random_state=0)
Z = nmf.fit_transform(X)
print(f"VAF {nmf.score(X):.4f} with {nmf.n_components} synergies after {nmf.n_iter_} updates")

# Unit-norm synergies; the activations carry the scale.
norms = np.linalg.norm(nmf.components_, axis=1)
W, Z = nmf.components_ / norms[:, None], Z * norms
cycles = Z.reshape(99, 100, 4)  # 99 cycles × 100 time-normalised points

fig, axes = plt.subplots(4, 2, figsize=(10, 9), gridspec_kw={"width_ratios": [2, 3]})
for k in range(4):
    axes[k, 0].bar(names, W[k], color="tab:blue")
    axes[k, 0].set_ylabel(f"synergy {k + 1}")
    axes[k, 0].set_ylim(0, 1)
    mean, sd = cycles[:, :, k].mean(axis=0), cycles[:, :, k].std(axis=0)
    t = np.arange(100)
    axes[k, 1].plot(t, mean, color="tab:orange")
    axes[k, 1].fill_between(t, mean - sd, mean + sd, color="tab:orange", alpha=0.3)
    axes[k, 1].set_xlim(0, 99)
for ax in axes[:, 0]:
    ax.tick_params(axis="x", labelsize=8)
axes[-1, 1].set_xlabel("sit-to-stand cycle (%)")
axes[0, 0].set_title("muscle weightings (unit norm)")
axes[0, 1].set_title("activations (mean ± SD of 99 cycles)")
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "gait-synergies.png"
fig.savefig(out, dpi=120)
print(f"wrote {out}")
