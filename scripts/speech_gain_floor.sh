#!/usr/bin/env bash
# Where the speech enhancers' artefacts at high SNR come from, and the gain floor's
# before/after, with the enhancers `cargo xtask bench speech-table` saved:
#  1. mixtures: the table's test mixtures again (seed 1001 + k for noise k) and validation
#     mixtures of the TRAINING files (clean/train with each noise's train.wav, seed 2001 + k);
#  2. gain floor: every saved per-noise enhancer (Table 1) through `speech eval --offline
#     --gain-floor F` for F in none, −20, −12, −6 dB on the test mixtures (reported, never
#     used to choose); `insample`: the babble ones on the validation mixtures (training
#     speakers, which these models were trained on);
#     `pooled`: the pooled enhancers (Table 2) on each noise's test mixtures with no floor and
#     with the floor $FLOOR (dB);
#  2b. held-out speakers (`heldout`): every method trained again on 6 of the 8 training
#     speakers and 35 s of each training noise, the floors scored on the other 2 speakers and
#     the last 10 s — still training files, but unseen by those models: the default floor
#     is chosen here;
#  2c. `cross`: babble with the training speakers and the test babble, and with the test
#     speakers and the training babble — which unseen part hurts;
#  3. level (feature normalisation): the babble and running-tap test mixtures 10 dB softer
#     and 10 dB louder, no floor;
#  4. training SNR range: the babble dnn, vae-nmf and dnmf enhancers trained at −5…20 dB instead of
#     −5…10 dB, on the babble test mixtures.
# Everything goes to out/bench/speech-floor/; scripts/speech_gain_floor_analysis.py prints
# the tables. Stages can be run alone.
# Usage: [FLOOR=DB] scripts/speech_gain_floor.sh [mix|insample|floor|heldout|cross|pooled|level|snr]…
# (data: ../shared/data/speech)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/speech
models=out/bench/speech-table/models
out=out/bench/speech-floor
bin=target/release/vaenmf
noises=(babble doing_the_dishes exercise_bike running_tap)
methods=(nmf dnmf dnn vae-nmf nmf-dict-net vae-nmf-dict-mu vae-nmf-e2e)
floors=(none -20 -12 -6)
stages=("${@:-mix insample floor heldout cross level snr}")
floor=${FLOOR:-none}
cargo build --release --quiet -p vaenmf-trainer --bin vaenmf
mkdir -p "$out"

# eval SET NOISE MODEL_CONDITION METHOD FLOOR OUT: one enhancer on one set, skipped if done.
evaluate() {
  [ -f "$6/eval.json" ] && return
  "$bin" speech eval --manifest "$out/$1-$2/manifest.csv" --model "$2=$models/$3-$4.vnmf" \
    --offline --gain-floor "$5" --out "$6" >/dev/null
}

for stage in ${stages[*]}; do
  case $stage in
  mix)
    for k in 0 1 2 3; do
      n=${noises[$k]}
      "$bin" speech mix --speech "$data/clean/test" --noise "$n=$data/noise/$n/test.wav" \
        --snr=-5,0,5,10 --seed $((1001 + k)) --loop-noise --out "$out/test-$n" >/dev/null
      "$bin" speech mix --speech "$data/clean/train" --noise "$n=$data/noise/$n/train.wav" \
        --snr=-5,0,5,10 --seed $((2001 + k)) --loop-noise --out "$out/validation-$n" >/dev/null
    done
    ;;
  insample)
    for m in "${methods[@]}"; do
      for f in "${floors[@]}"; do
        evaluate validation babble babble "$m" "$f" "$out/floor-validation/babble/babble-$m-$f"
      done
    done
    ;;
  floor)
    for set in test; do
      for n in "${noises[@]}"; do
        for m in "${methods[@]}"; do
          for f in "${floors[@]}"; do
            evaluate "$set" "$n" "$n" "$m" "$f" "$out/floor-$set/$n/$n-$m-$f"
          done
        done
      done
    done
    ;;
  pooled)
    for n in "${noises[@]}"; do
      for m in "${methods[@]}"; do
        for f in none "$floor"; do
          evaluate test "$n" pooled "$m" "$f" "$out/pooled/$n/pooled-$m-$f"
        done
      done
    done
    ;;
  heldout)
    # Held-out speakers: every method trained on 6 of the 8 training speakers and the first
    # 35 s of each training noise, scored on the other 2 speakers (1 F, 1 M) with the last
    # 10 s — training files only, unseen by these models: where a floor can be chosen.
    h=$out/heldout
    mkdir -p "$h/train" "$h/validation" "$h/noise"
    for f in "$data"/clean/train/*.wav; do
      case $(basename "$f") in
      ls_8324-* | ls_446-*) cp "$f" "$h/validation/" ;;
      *) cp "$f" "$h/train/" ;;
      esac
    done
    args=()
    for n in "${noises[@]}"; do
      python3 - "$data/noise/$n/train.wav" "$h/noise/$n" <<'PY'
# Splits a 16-bit PCM WAV into its first 35 s (PREFIX-train.wav) and the rest (-rest.wav).
import sys, wave
with wave.open(sys.argv[1]) as w:
    params, frames = w.getparams(), w.readframes(w.getnframes())
cut = 35 * params.framerate * params.sampwidth * params.nchannels
for name, part in (("train", frames[:cut]), ("rest", frames[cut:])):
    with wave.open(f"{sys.argv[2]}-{name}.wav", "wb") as out:
        out.setparams(params)
        out.writeframes(part)
PY
      args+=(--noise "$n=$h/noise/$n-train.wav:$h/noise/$n-rest.wav")
    done
    [ -f "$h/table/table.json" ] || "$bin" speech table --speech-train "$h/train" \
      --speech-test "$h/validation" "${args[@]}" --no-pooled --loop-noise \
      --save-models "$h/models" --out "$h/table" >/dev/null
    for k in 0 1 2 3; do
      n=${noises[$k]}
      "$bin" speech mix --speech "$h/validation" --noise "$n=$h/noise/$n-rest.wav" \
        --snr=-5,0,5,10 --seed $((1001 + k)) --loop-noise --out "$out/heldout-$n" >/dev/null
      for m in "${methods[@]}"; do
        for f in "${floors[@]}"; do
          [ -f "$out/floor-heldout/$n/$n-$m-$f/eval.json" ] || "$bin" speech eval \
            --manifest "$out/heldout-$n/manifest.csv" --model "$n=$h/models/$n-$m.vnmf" \
            --offline --gain-floor "$f" --out "$out/floor-heldout/$n/$n-$m-$f" >/dev/null
        done
      done
    done
    ;;
  cross)
    # Which unseen part hurts on babble: training speakers with the test babble (unseen
    # talkers in the noise), and test speakers with the training babble (unseen speakers).
    # Evaluation only: nothing is chosen here.
    "$bin" speech mix --speech "$data/clean/train" --noise "babble=$data/noise/babble/test.wav" \
      --snr=-5,0,5,10 --seed 1001 --loop-noise --out "$out/cross-seen_speakers-babble" >/dev/null
    "$bin" speech mix --speech "$data/clean/test" --noise "babble=$data/noise/babble/train.wav" \
      --snr=-5,0,5,10 --seed 1001 --loop-noise --out "$out/cross-seen_babble-babble" >/dev/null
    for set in seen_speakers seen_babble; do
      for m in "${methods[@]}"; do
        evaluate "cross-$set" babble babble "$m" none "$out/cross/$set/babble-$m-none"
      done
    done
    ;;
  level)
    for db in -10 10; do
      for n in babble running_tap; do
        python3 - "$out/test-$n" "$out/level$db-$n" "$db" <<'PY'
# Copies a `speech mix` set with every float WAV scaled by DB dB.
import array, os, shutil, sys
src, dst, db = sys.argv[1], sys.argv[2], float(sys.argv[3])
g = 10 ** (db / 20)
for root, _, files in os.walk(src):
    for f in files:
        s = os.path.join(root, f)
        d = os.path.join(dst, os.path.relpath(s, src))
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if not f.endswith('.wav'):
            shutil.copy(s, d)
            continue
        b = bytearray(open(s, 'rb').read())
        i = 12
        while b[i:i + 4] != b'data':
            i += 8 + int.from_bytes(b[i + 4:i + 8], 'little')
        n, start = int.from_bytes(b[i + 4:i + 8], 'little'), i + 8
        a = array.array('f')
        a.frombytes(bytes(b[start:start + n]))
        b[start:start + n] = array.array('f', (x * g for x in a)).tobytes()
        open(d, 'wb').write(b)
PY
        for m in "${methods[@]}"; do
          evaluate "level$db" "$n" "$n" "$m" none "$out/level$db/$n/$n-$m-none"
        done
      done
    done
    ;;
  snr)
    mkdir -p "$out/wide-snr"
    for m in dnn vae-nmf dnmf; do
      model="$out/wide-snr/babble-$m.vnmf"
      [ -f "$model" ] || "$bin" speech train --method "$m" --speech-train "$data/clean/train" \
        --noise "babble=$data/noise/babble/train.wav" --loop-noise --snr=-5,0,5,10,15,20 \
        -o "$model" --report "$out/wide-snr/babble-$m.json" >/dev/null
      [ -f "$out/wide-snr/eval-$m/eval.json" ] || "$bin" speech eval \
        --manifest "$out/test-babble/manifest.csv" --model "babble=$model" --offline \
        --gain-floor none --out "$out/wide-snr/eval-$m" >/dev/null
    done
    ;;
  *) echo "unknown stage $stage (mix, insample, floor, heldout, cross, pooled, level, snr)" >&2; exit 2 ;;
  esac
done
