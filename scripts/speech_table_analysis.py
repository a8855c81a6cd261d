#!/usr/bin/env python3
"""Breakdowns of a `speech table` run that the tables do not print, from its table.json:

1. SDR per method on the LibriSpeech test utterances (`ls_*`) and, separately, on the CMU
   ARCTIC ones (`arctic_*`, another corpus: the cross-corpus check);
2. do no harm at high SNR: at 10 dB input, each method's SDR minus the input's SDR per
   mixture — the worst, the mean, and how many mixtures end below the input.

Usage: scripts/speech_table_analysis.py [out/bench/speech-table/table.json]
"""
import json
import sys
from collections import defaultdict
from statistics import mean


def main(path):
    with open(path) as f:
        table = json.load(f)
    for name in ("table1", "table2"):
        results = table["conditions"].get(name) or []
        mixtures = [m for r in results for m in r["mixtures"]]
        if not mixtures:
            continue
        methods = sorted({k for m in mixtures for k in m["scores"]} - {"input", "oracle"})
        print(f"## {name}: {len(mixtures)} test mixtures")
        print()
        print("| method | SDR LibriSpeech | SDR ARCTIC | ARCTIC − LibriSpeech |"
              " at 10 dB: worst SDR − input | mean | below the input |")
        print("|---|---|---|---|---|---|---|")
        for method in ["input"] + methods + ["oracle"]:
            corpus = defaultdict(list)
            for m in mixtures:
                corpus[m["utterance"].split("_")[0]].append(m["scores"][method]["sdr"])
            ls, arctic = mean(corpus["ls"]), mean(corpus["arctic"])
            gains = [m["scores"][method]["sdr"] - m["scores"]["input"]["sdr"]
                     for m in mixtures if m["snr_db"] == 10]
            below = sum(g < 0 for g in gains)
            print(f"| {method} | {ls:.2f} | {arctic:.2f} | {arctic - ls:+.2f} | "
                  f"{min(gains):+.2f} | {mean(gains):+.2f} | {below} of {len(gains)} |")
        print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/bench/speech-table/table.json")
