#!/usr/bin/env python3
"""Tables of scripts/speech_gain_floor.sh's runs (out/bench/speech-floor/):

1. per gain floor and method, over the four noises: average SDR and PESQ-WB, SDR at −5 and
   10 dB input, and at 10 dB the worst SDR − input of any mixture and how many end below
   the input — on mixtures of the training speakers (in-sample), on held-out training
   speakers (models trained without them: where the default is chosen) and on the test
   mixtures (reported only);
2. the floor the held-out speakers choose: the lowest at which no learned method ends below
   a 10 dB input, or failing that the highest average SDR over every method;
   babble: which unseen part hurts (speakers or babble talkers);
3. level: the test mixtures 10 dB softer / as mixed / 10 dB louder, no floor;
4. training SNR range: babble enhancers trained at −5…10 dB and at −5…20 dB;
5. the pooled enhancers (Table 2) with no floor and with the chosen one.

Usage: scripts/speech_gain_floor_analysis.py [out/bench/speech-floor]
"""
import glob
import json
import os
import sys
from collections import defaultdict
from statistics import mean

METHODS = ["nmf", "dnmf", "dnn", "vae-nmf", "nmf-dict-net", "vae-nmf-dict-mu", "vae-nmf-e2e"]
FLOORS = ["none", "-20", "-12", "-6"]
LEARNED = ["dnmf", "dnn", "vae-nmf", "nmf-dict-net", "vae-nmf-e2e"]
CONDITIONS = ["babble", "doing_the_dishes", "exercise_bike", "running_tap", "pooled"]


def load(path):
    """Per-mixture (snr, input SDR, method SDR, method PESQ-WB) of one eval.json."""
    with open(path) as f:
        mixtures = json.load(f)["mixtures"]
    return [(m["snr_db"], m["input"]["sdr"], m["method"]["sdr"], m["method"]["pesq_wb"])
            for m in mixtures]


def stats(rows):
    at = lambda snr: [r for r in rows if r[0] == snr]
    gains = [r[2] - r[1] for r in at(10)]
    return {
        "sdr": mean(r[2] for r in rows),
        "pesq": mean(r[3] for r in rows),
        "sdr-5": mean(r[2] for r in at(-5)),
        "sdr10": mean(r[2] for r in at(10)),
        "worst10": min(gains),
        "below10": sum(g < 0 for g in gains),
        "n10": len(gains),
    }


def collect(pattern):
    """rows[(method, floor)] over every noise folder matching `pattern`."""
    rows = defaultdict(list)
    for path in glob.glob(pattern):
        name = os.path.basename(os.path.dirname(path))
        for condition in CONDITIONS:
            for m in METHODS:
                for f in FLOORS:
                    if name == f"{condition}-{m}-{f}":
                        rows[(m, f)] += load(path)
    return rows


def floor_table(title, rows):
    print(f"## {title}")
    print()
    print("| method | floor (dB) | SDR | PESQ-WB | SDR at −5 dB | SDR at 10 dB |"
          " at 10 dB: worst SDR − input | below the input |")
    print("|---|---|---|---|---|---|---|---|")
    for m in METHODS:
        for f in FLOORS:
            if (m, f) not in rows:
                continue
            s = stats(rows[(m, f)])
            print(f"| {m} | {f} | {s['sdr']:.2f} | {s['pesq']:.2f} | {s['sdr-5']:.2f} | "
                  f"{s['sdr10']:.2f} | {s['worst10']:+.2f} | {s['below10']} of {s['n10']} |")
    print()


def main(root):
    validation = collect(f"{root}/floor-validation/*/*/eval.json")
    heldout = collect(f"{root}/floor-heldout/*/*/eval.json")
    test = collect(f"{root}/floor-test/*/*/eval.json")
    if validation:
        floor_table("Gain floor on mixtures of the training speakers (in-sample for these models)",
                    validation)
    if heldout:
        floor_table("Gain floor on held-out training speakers (models trained without them)",
                    heldout)
        complete = [f for f in FLOORS if all((m, f) in heldout for m in METHODS)]
        score = {f: mean(stats(heldout[(m, f)])["sdr"] for m in METHODS) for f in complete}
        harmless = [f for f in complete
                    if all(stats(heldout[(m, f)])["below10"] == 0 for m in LEARNED)]
        if score:
            print("Average held-out SDR over the methods: " + ", ".join(
                f"{f}: {v:.3f}" for f, v in score.items()))
            print("Floors at which no learned method ends below a 10 dB input: "
                  + (", ".join(harmless) or "none of them"))
            # The rule, fixed before the held-out results were seen: the lowest floor (the
            # most noise reduction) that does no harm at 10 dB; failing that, the best SDR.
            chosen = harmless[0] if harmless else max(score, key=score.get)
            print(f"→ chosen floor: {chosen}")
            print()
    if test:
        floor_table("Gain floor on the test mixtures (reported, not used to choose)", test)
    cross = {
        "training speakers, training babble (in-sample)": f"{root}/floor-validation/babble/*/eval.json",
        "training speakers, test babble": f"{root}/cross/seen_speakers/*/eval.json",
        "test speakers, training babble": f"{root}/cross/seen_babble/*/eval.json",
        "test speakers, test babble (Table 1)": f"{root}/floor-test/babble/*/eval.json",
    }
    cross = {k: collect(v) for k, v in cross.items()}
    if all(cross.values()):
        print("## Babble: which unseen part hurts (no floor)")
        print()
        print("| method | mixtures | SDR | SDR − input | at 10 dB: worst SDR − input | below the input |")
        print("|---|---|---|---|---|---|")
        for m in METHODS:
            for label, rows in cross.items():
                r = rows.get((m, "none"))
                if r:
                    s = stats(r)
                    gain = mean(x[2] - x[1] for x in r)
                    print(f"| {m} | {label} | {s['sdr']:.2f} | {gain:+.2f} | "
                          f"{s['worst10']:+.2f} | {s['below10']} of {s['n10']} |")
        print()
    levels = {db: collect(f"{root}/level{db}/*/*/eval.json") for db in ("-10", "10")}
    if any(levels.values()):
        print("## Level: test mixtures 10 dB softer, as mixed, 10 dB louder (no floor)")
        print()
        print("| noise | method | SDR −10 dB | SDR as mixed | SDR +10 dB |")
        print("|---|---|---|---|---|")
        for noise in ("babble", "running_tap"):
            same = collect(f"{root}/floor-test/{noise}/*/eval.json")
            quiet = collect(f"{root}/level-10/{noise}/*/eval.json")
            loud = collect(f"{root}/level10/{noise}/*/eval.json")
            for m in METHODS:
                key = (m, "none")
                if key in same and key in quiet and key in loud:
                    print(f"| {noise} | {m} | {stats(quiet[key])['sdr']:.2f} | "
                          f"{stats(same[key])['sdr']:.2f} | {stats(loud[key])['sdr']:.2f} |")
        print()
    wide = sorted(glob.glob(f"{root}/wide-snr/eval-*/eval.json"))
    if wide:
        print("## Training SNR range (babble): −5…10 dB (the table's) against −5…20 dB, no floor")
        print()
        print("| method | training SNRs | SDR | SDR at 10 dB | at 10 dB: worst SDR − input |"
              " below the input |")
        print("|---|---|---|---|---|---|")
        babble = collect(f"{root}/floor-test/babble/*/eval.json")
        for path in wide:
            m = os.path.basename(os.path.dirname(path))[len("eval-"):]
            for label, rows in (("−5…10", babble.get((m, "none"))), ("−5…20", load(path))):
                if rows:
                    s = stats(rows)
                    print(f"| {m} | {label} | {s['sdr']:.2f} | {s['sdr10']:.2f} | "
                          f"{s['worst10']:+.2f} | {s['below10']} of {s['n10']} |")
        print()
    pooled = collect(f"{root}/pooled/*/*/eval.json")
    if pooled:
        floor_table("Pooled enhancers (Table 2) on the test mixtures", pooled)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/bench/speech-floor")
