#!/usr/bin/env python3
"""An independent PyTorch training of the paper-sized VAE-NMF on `vaenmf synth` data, to tell
apart what the model and its recipe reach on that data from what our burn training reaches.

Usage: vae_nmf_pytorch_reference.py SYNTH_DIR SIGMA SEED
  SYNTH_DIR  output of `vaenmf synth` (train.csv, test.csv, synergies.csv)
  SIGMA      Gaussian likelihood sigma on the max-scaled data (`training.sigma` of a
             `vaenmf train` report on the same data)
Prints one line: seed, epochs, similarity to the truth (normalised columns, best one-to-one
matching, mean cosine), held-out VAF with the encoder's posterior means.

The recipe is `vaenmf train --method vae-nmf`'s defaults: data scaled by the training maximum;
10 -> 400 -> 400 -> 2x4 with ReLU, softplus + 1e-3 heads; Gamma(1, 1) prior; one
`Gamma.rsample()` per frame; Gaussian likelihood summed over channels and KL summed over
synergies, both averaged over the batch, plus (1000/2) sum(min(W, 0)^2); Adam lr 1e-3, weight
decay 5e-4, eps 1e-8, batch 128; every 10th frame held out for early stopping (patience 15, at
most 100 epochs, best validation model kept). One difference: W starts uniform random here, from
a quick NMF in vaenmf.
"""
import itertools
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.distributions import Gamma, kl_divergence


def load(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)


class VaeNmf(nn.Module):
    def __init__(self, m, r):
        super().__init__()
        self.layer1, self.layer2 = nn.Linear(m, 400), nn.Linear(400, 400)
        self.alpha_head, self.beta_head = nn.Linear(400, r), nn.Linear(400, r)
        self.decoder = nn.Parameter(torch.rand(r, m))

    def encode(self, x):
        h = torch.relu(self.layer2(torch.relu(self.layer1(x))))
        alpha = nn.functional.softplus(self.alpha_head(h)) + 1e-3
        beta = nn.functional.softplus(self.beta_head(h)) + 1e-3
        return alpha, beta

    def loss(self, x, z, alpha, beta, sigma, gamma=1000.0):
        reconstruction = ((x - z @ self.decoder) ** 2).sum(1).mean() / (2 * sigma**2)
        prior = Gamma(torch.ones_like(alpha), torch.ones_like(beta))
        kl = kl_divergence(Gamma(alpha, beta), prior).sum(1).mean()
        return reconstruction + kl + gamma / 2 * (self.decoder.clamp(max=0) ** 2).sum()


def main():
    folder, sigma, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(seed)
    x, x_test, truth = (load(f"{folder}/{f}.csv") for f in ("train", "test", "synergies"))
    scale = x.max()
    x, x_test = x / scale, x_test / scale
    m, r = x.shape[1], truth.shape[1]
    held_out = np.arange(len(x)) % 10 == 9
    train, validation = torch.tensor(x[~held_out]), torch.tensor(x[held_out])

    model = VaeNmf(m, r)
    optim = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4, eps=1e-8)
    best, best_state, since_best = float("inf"), None, 0
    start = time.time()
    for epoch in range(1, 101):
        order = torch.randperm(len(train))
        for i in range(0, len(train), 128):
            xb = train[order[i : i + 128]]
            alpha, beta = model.encode(xb)
            loss = model.loss(xb, Gamma(alpha, beta).rsample(), alpha, beta, sigma)
            optim.zero_grad()
            loss.backward()
            optim.step()
        with torch.no_grad():
            alpha, beta = model.encode(validation)
            v = model.loss(validation, alpha / beta, alpha, beta, sigma, gamma=0.0).item()
        if v < best:
            best, since_best = v, 0
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
        else:
            since_best += 1
            if since_best >= 15:
                break
    model.load_state_dict(best_state)

    w = model.decoder.detach().clamp(min=0).numpy().T  # m x r
    cosine = (w / np.linalg.norm(w, axis=0)).T @ (truth / np.linalg.norm(truth, axis=0))
    similarity = max(
        np.mean([cosine[k, p[k]] for k in range(r)]) for p in itertools.permutations(range(r))
    )
    with torch.no_grad():
        alpha, beta = model.encode(torch.tensor(x_test))
        x_hat = ((alpha / beta) @ model.decoder.clamp(min=0)).numpy()
    vaf = 1 - ((x_test - x_hat) ** 2).sum() / (x_test**2).sum()
    print(
        f"seed {seed} epochs {epoch} similarity {similarity:.4f} test_vaf {vaf:.4f} "
        f"seconds {time.time() - start:.0f}"
    )


if __name__ == "__main__":
    main()
