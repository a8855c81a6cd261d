"""PyTorch baseline for `cargo bench -p vaenmf-trainer --bench vae`: the same VAE-NMF training
step (10 -> 400 -> 400 -> 2x4, batch 128, one reparameterised Gamma sample, Gaussian likelihood,
closed-form Gamma KL, nonnegativity penalty, Adam lr 1e-3, weight decay 5e-4, eps 1e-8) on the
CPU with PyTorch's default threads.

Usage: python vae_pytorch.py STEPS [fused]   ("fused": torch.optim.Adam(fused=True)).
Prints one line: `frames_per_second <value>`."""
import sys
import time

import torch
from torch import nn
from torch.distributions import Gamma, kl_divergence

M, H, R, BATCH = 10, 400, 4, 128
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
fused = len(sys.argv) > 2 and sys.argv[2] == "fused"
torch.manual_seed(1)


class VaeNmf(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(M, H)
        self.layer2 = nn.Linear(H, H)
        self.alpha_head = nn.Linear(H, R)
        self.beta_head = nn.Linear(H, R)
        self.decoder = nn.Parameter(torch.rand(R, M))

    def forward(self, x):
        h = torch.relu(self.layer2(torch.relu(self.layer1(x))))
        alpha = nn.functional.softplus(self.alpha_head(h)) + 1e-3
        beta = nn.functional.softplus(self.beta_head(h)) + 1e-3
        z = Gamma(alpha, beta).rsample()
        xhat = z @ self.decoder
        rec = ((x - xhat) ** 2).sum(1).mean() / (2 * 0.05**2)
        prior = Gamma(torch.ones_like(alpha), torch.ones_like(beta))
        kl = kl_divergence(Gamma(alpha, beta), prior).sum(1).mean()
        penalty = 500.0 * (self.decoder.clamp(max=0) ** 2).sum()
        return rec + kl + penalty


model = VaeNmf()
optim = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4, eps=1e-8, fused=fused)
batches = [torch.rand(BATCH, M) for _ in range(8)]


def step(i):
    optim.zero_grad(set_to_none=True)
    model(batches[i % len(batches)]).backward()
    optim.step()


for i in range(5):
    step(i)
start = time.perf_counter()
for i in range(steps):
    step(i)
print(f"frames_per_second {steps * BATCH / (time.perf_counter() - start):.0f}")
