#!/usr/bin/env bash
# The speech enhancer's checks on the shared set, after `cargo xtask bench speech-table`:
#  1. the table's running-tap test mixtures again, with `speech mix` (the table mixes noise k
#     with seed 1 + 1000 + k; running_tap is the 4th noise);
#  2. every saved running-tap enhancer through `speech eval --model`, offline and streamed
#     (offline must give the table's row; streamed is the device's path);
#  3. the causal price: vae-nmf and dnn trained by `speech train --look-ahead 0` on running
#     tap, streamed on the same mixtures (L = 1 is the table's model: `speech train` with the
#     table's settings writes the same bytes, a tested property).
# Each eval's table.md is printed; everything goes to out/bench/speech-checks/.
# Usage: scripts/speech_shared_checks.sh [SPEECH_DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/speech}"
table=out/bench/speech-table
out=out/bench/speech-checks
bin=target/release/vaenmf
cargo build --release --quiet -p vaenmf-trainer --bin vaenmf
rm -rf "$out" && mkdir -p "$out"
noise=running_tap
"$bin" speech mix --speech "$data/clean/test" --noise "$noise=$data/noise/$noise/test.wav" \
  --snr=-5,0,5,10 --seed 1004 --loop-noise --out "$out/mix" >/dev/null
evaluate() { # NAME MODEL MODE
  echo "== $1 ($3)"
  "$bin" speech eval --manifest "$out/mix/manifest.csv" --model "$noise=$2" "--$3" \
    --out "$out/eval-$1-$3" | grep -v '^wrote'
}
for method in nmf dnmf dnn vae-nmf nmf-dict-net vae-nmf-dict-mu vae-nmf-e2e; do
  for mode in offline stream; do
    evaluate "$method" "$table/models/$noise-$method.vnmf" "$mode"
  done
done
for method in vae-nmf dnn; do
  /usr/bin/time -f "$method L=0 trained in %e s" "$bin" speech train --method "$method" \
    --speech-train "$data/clean/train" --noise "$noise=$data/noise/$noise/train.wav" \
    --loop-noise --look-ahead 0 -o "$out/$method-L0.vnmf" >/dev/null
  "$bin" inspect "$out/$method-L0.vnmf" | grep -i 'latency\|context'
  evaluate "$method-L0" "$out/$method-L0.vnmf" stream
done
