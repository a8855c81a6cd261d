#!/usr/bin/env bash
# Groundwork for issue #23 (a model that fits a Cortex-M4): Table 1 of the network methods
# with small networks, 257·(context) → 128 → 128 → output, next to the paper-size ones of
# `cargo xtask bench speech-table` (out/bench/speech-table). LOOK_AHEAD=1 (default) or 0.
# Writes out/bench/speech-small-L$LOOK_AHEAD/{table.json,table.md,models/}.
# Usage: [LOOK_AHEAD=0|1] scripts/speech_small_models.sh   (data: ../shared/data/speech)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/speech
look_ahead=${LOOK_AHEAD:-1}
out=out/bench/speech-small-L$look_ahead
cargo build --release --quiet -p vaenmf-trainer --bin vaenmf
args=()
for n in babble doing_the_dishes exercise_bike running_tap; do
  args+=(--noise "$n=$data/noise/$n/train.wav:$data/noise/$n/test.wav")
done
[ -f "$out/table.json" ] || target/release/vaenmf speech table --speech-train "$data/clean/train" \
  --speech-test "$data/clean/test" "${args[@]}" --loop-noise --no-pooled \
  --methods dnn,vae-nmf,nmf-dict-net,vae-nmf-e2e --net-hidden 128,128 \
  --look-ahead "$look_ahead" --save-models "$out/models" --out "$out" >/dev/null
# Average over Table 1's 160 mixtures against the paper-size networks, with the multiply-adds
# per frame and the latency `vaenmf inspect` gives for the babble enhancer of each.
rows=()
for table in out/bench/speech-table "$out"; do
  for m in dnn vae-nmf nmf-dict-net vae-nmf-e2e; do
    rows+=("$table $m $(target/release/vaenmf inspect "$table/models/babble-$m.vnmf" \
      | grep -o '[0-9.]* M multiply-adds\|latency [0-9.]* ms' | tr '\n' ' ')")
  done
done
python3 - "${rows[@]}" <<'PY'
import json, sys
from statistics import mean
print("| networks | method | M MAC/frame | latency | SDR | PESQ | STOI |")
print("|---|---|---|---|---|---|---|")
for line in sys.argv[1:]:
    table, method, macs, _, _, _, latency, _ = line.split()
    rows = [m["scores"][method] for r in json.load(open(table + "/table.json"))["conditions"]["table1"]
            for m in r["mixtures"]]
    print(f"| {table} | {method} | {macs} | {latency} ms | {mean(r['sdr'] for r in rows):.2f} | "
          f"{mean(r['pesq_nb_mos_lqo'] for r in rows):.2f} | {mean(r['stoi'] for r in rows):.3f} |")
PY
