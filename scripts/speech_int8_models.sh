#!/usr/bin/env bash
# Issue #23: the network enhancers quantised (int8 weights, int16 activations) against their
# f32 versions on Table 1's test mixtures (4 noises × 10 utterances × −5, 0, 5, 10 dB, the
# seeds `speech table` uses: 1001 + k for noise k), calibrated on training mixtures only
# (clean/train + noise/*/train.wav, seed 7). Models: the past-only and ±1-frame 2 × 128
# networks of scripts/speech_small_models.sh and the paper-size ones of
# `cargo xtask bench speech-table`. Writes out/bench/speech-int8/{NOISE-MODEL.json,table.md}.
# Usage: scripts/speech_int8_models.sh   (data: ../shared/data/speech)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/speech
out=out/bench/speech-int8
mkdir -p "$out"
cargo build --release --quiet -p vaenmf-trainer --bin vaenmf
vaenmf=target/release/vaenmf
models=(
  "out/bench/speech-small-L0 vae-nmf small-L0"
  "out/bench/speech-small-L0 vae-nmf-e2e small-L0"
  "out/bench/speech-small-L0 dnn small-L0"
  "out/bench/speech-small-L1 vae-nmf small-L1"
  "out/bench/speech-table vae-nmf paper"
)
k=0
for noise in babble doing_the_dishes exercise_bike running_tap; do
  [ -f "$out/mix/train-$noise/manifest.csv" ] || $vaenmf speech mix --speech "$data/clean/train" \
    --noise "$noise=$data/noise/$noise/train.wav" --snr=-5,0,5,10 --seed 7 --loop-noise \
    --out "$out/mix/train-$noise" >/dev/null
  [ -f "$out/mix/test-$noise/manifest.csv" ] || $vaenmf speech mix --speech "$data/clean/test" \
    --noise "$noise=$data/noise/$noise/test.wav" --snr=-5,0,5,10 --seed $((1001 + k)) --loop-noise \
    --out "$out/mix/test-$noise" >/dev/null
  for entry in "${models[@]}"; do
    read -r dir method tag <<<"$entry"
    report="$out/$noise-$method-$tag.json"
    [ -f "$report" ] || $vaenmf quantize "$dir/models/$noise-$method.vnmf" \
      --data "$out/mix/train-$noise/manifest.csv" --test "$out/mix/test-$noise/manifest.csv" \
      -o "$out/models/$noise-$method-$tag-int8.vnmf" --report "$report" >/dev/null
  done
  k=$((k + 1))
done
python3 - "$out" <<'PY' | tee "$out/table.md"
import json, sys, glob, os
from statistics import mean
out = sys.argv[1]
rows = {}
for path in sorted(glob.glob(f"{out}/*.json")):
    noise, rest = os.path.basename(path)[:-5].split("-", 1)
    r = json.load(open(path))
    key = rest
    rows.setdefault(key, []).append(r)
print("| model | noises | SDR f32 → int8 (dB) | PESQ-NB f32 → int8 | STOI f32 → int8 | gain error mean / p99 (calibration) | int8 network bytes |")
print("|---|---|---|---|---|---|---|")
for key, rs in rows.items():
    f = lambda side, m: mean(r["test"][side][m] for r in rs)
    print(f"| {key} | {len(rs)} | {f('f32','sdr'):.2f} → {f('int8','sdr'):.2f} ({f('int8','sdr') - f('f32','sdr'):+.3f}) "
          f"| {f('f32','pesq_nb'):.3f} → {f('int8','pesq_nb'):.3f} ({f('int8','pesq_nb') - f('f32','pesq_nb'):+.3f}) "
          f"| {f('f32','stoi'):.4f} → {f('int8','stoi'):.4f} ({f('int8','stoi') - f('f32','stoi'):+.4f}) "
          f"| {mean(r['calibration']['gain_error']['mean_abs'] for r in rs):.4f} / {mean(r['calibration']['gain_error']['p99_abs'] for r in rs):.4f} "
          f"| {rs[0]['bytes']['network_parameters']} |")
PY
