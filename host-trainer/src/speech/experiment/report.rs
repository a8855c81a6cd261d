//! Summaries of a [`super::results::TableRun`]: means per method and SNR and over −5…10 dB
//! (the paper's "Aver"), as `table.json` and as Markdown tables shaped like the paper's.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use vaenmf_core::speech::EnhancerMethod;

use super::results::{ConditionResult, Scored, TableRun};
use crate::choice::Choice;
use crate::speech::metrics::{mean, SpeechMetrics};

/// The measures a table reports for one method at one SNR (means over mixtures).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Mixtures averaged.
    pub count: usize,
    /// SDR, dB.
    pub sdr: f64,
    /// SIR, dB.
    pub sir: f64,
    /// SAR, dB.
    pub sar: f64,
    /// P.862 narrowband MOS-LQO (P.862.1) on input decimated to 8 kHz.
    pub pesq_nb_mos_lqo: f64,
    /// P.862.2 wideband MOS-LQO.
    pub pesq_wb: Option<f64>,
    /// STOI.
    pub stoi: f64,
}

/// Method → SNR key (as given, e.g. `-5`) or `average` → scores.
pub type Table = BTreeMap<String, BTreeMap<String, Scores>>;

/// The order methods are shown in: input, every method in [`EnhancerMethod`]'s order (the
/// paper's four, the ablations, what goes beyond the paper), the oracle.
pub fn method_order() -> Vec<&'static str> {
    std::iter::once("input")
        .chain(EnhancerMethod::CHOICES.iter().map(|c| c.0))
        .chain(std::iter::once("oracle"))
        .collect()
}

/// How [`markdown`] groups the methods: the paper's four, the ablations between the input and
/// the oracle; every other method after them.
const MARKDOWN_GROUPS: [&[&str]; 2] = [
    &["nmf", "dnmf", "dnn", "vae-nmf"],
    &["input", "nmf-dict-net", "vae-nmf-dict-mu", "oracle"],
];

/// [`MARKDOWN_GROUPS`] and a last group of the methods they leave out, in [`method_order`].
fn markdown_groups() -> Vec<Vec<&'static str>> {
    let mut groups: Vec<Vec<&str>> = MARKDOWN_GROUPS.iter().map(|g| g.to_vec()).collect();
    let rest = method_order()
        .into_iter()
        .filter(|m| !MARKDOWN_GROUPS.iter().any(|g| g.contains(m)))
        .collect();
    groups.push(rest);
    groups
}

/// SNRs the paper's "Aver" covers.
const AVERAGE_RANGE: std::ops::RangeInclusive<f64> = -5.0..=10.0;

fn scores_of(items: &[SpeechMetrics]) -> Scores {
    let m = mean(items);
    Scores {
        count: items.len(),
        sdr: m.sdr,
        sir: m.sir,
        sar: m.sar,
        pesq_nb_mos_lqo: m.pesq_nb_mos_lqo,
        pesq_wb: m.pesq_wb,
        stoi: m.stoi,
    }
}

/// The table of a set of scored mixtures.
pub fn summarise<'a>(mixtures: impl Iterator<Item = &'a Scored> + Clone) -> Table {
    let methods: BTreeSet<&String> = mixtures.clone().flat_map(|m| m.scores.keys()).collect();
    let mut snrs: Vec<f64> = mixtures.clone().map(|m| m.snr_db).collect();
    snrs.sort_by(f64::total_cmp);
    snrs.dedup();
    let mut table = Table::new();
    for method in methods {
        let pick = |keep: &dyn Fn(f64) -> bool| -> Vec<SpeechMetrics> {
            mixtures
                .clone()
                .filter(|m| keep(m.snr_db))
                .filter_map(|m| m.scores.get(method).copied())
                .collect()
        };
        let mut rows = BTreeMap::new();
        for &snr in &snrs {
            rows.insert(format!("{snr}"), scores_of(&pick(&|s| s == snr)));
        }
        let average = pick(&|s| AVERAGE_RANGE.contains(&s));
        if !average.is_empty() {
            rows.insert("average".to_string(), scores_of(&average));
        }
        table.insert(method.clone(), rows);
    }
    table
}

/// The table over every mixture of `results`.
pub fn table_of(results: &[ConditionResult]) -> Table {
    summarise(results.iter().flat_map(|r| r.mixtures.iter()))
}

/// One table per noise type.
pub fn by_noise(results: &[ConditionResult]) -> BTreeMap<String, Table> {
    let noises: BTreeSet<&str> = results
        .iter()
        .flat_map(|r| r.mixtures.iter().map(|m| m.noise.as_str()))
        .collect();
    noises
        .into_iter()
        .map(|n| {
            let of = results
                .iter()
                .flat_map(|r| r.mixtures.iter())
                .filter(move |m| m.noise == n);
            (n.to_string(), summarise(of))
        })
        .collect()
}

/// `table.json`: both tables, their per-noise breakdowns, every mixture's scores, timings
/// and the settings.
pub fn json(run: &TableRun, settings: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "table1": table_of(&run.table1),
        "table2": table_of(&run.table2),
        "table1_by_noise": by_noise(&run.table1),
        "table2_by_noise": by_noise(&run.table2),
        "paper": paper_json(),
        "seconds": run.seconds,
        "bss_eval_assignment": run.assignment,
        "bss_eval": run.assignment.describe(),
        "speech_models": run.speech,
        "conditions": {
            "table1": run.table1,
            "table2": run.table2,
        },
        "settings": settings,
    })
}

/// One of the paper's "Aver" rows: method, SDR, SIR, SAR, PESQ.
pub type PaperRow = (&'static str, f64, f64, f64, f64);

/// The paper's "Aver" rows (Table 1 then Table 2).
pub const PAPER_AVERAGES: [[PaperRow; 4]; 2] = [
    [
        ("nmf", 8.86, 12.71, 12.41, 2.50),
        ("dnmf", 9.96, 13.65, 13.48, 2.54),
        ("dnn", 11.34, 15.25, 13.86, 2.66),
        ("vae-nmf", 11.47, 15.42, 13.95, 2.62),
    ],
    [
        ("nmf", 7.50, 12.39, 10.68, 2.35),
        ("dnmf", 9.40, 12.95, 13.14, 2.46),
        ("dnn", 11.25, 15.19, 13.30, 2.62),
        ("vae-nmf", 11.37, 16.40, 13.21, 2.59),
    ],
];

fn paper_json() -> serde_json::Value {
    let table = |rows: &[PaperRow; 4]| {
        rows.iter()
            .map(|(m, sdr, sir, sar, pesq)| {
                (
                    m.to_string(),
                    serde_json::json!({"sdr": sdr, "sir": sir, "sar": sar, "pesq": pesq}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
    };
    serde_json::json!({
        "table1_average": table(&PAPER_AVERAGES[0]),
        "table2_average": table(&PAPER_AVERAGES[1]),
        "note": "Averages over -5, 0, 5, 10 dB as printed in the paper (TIMIT + NOISEX-92 factory and babble)",
    })
}

fn ordered_methods(table: &Table) -> Vec<&str> {
    method_order()
        .into_iter()
        .filter(|m| table.contains_key(*m))
        .collect()
}

fn snr_keys(table: &Table) -> Vec<String> {
    let mut keys: Vec<String> = table.values().flat_map(|rows| rows.keys().cloned()).collect();
    keys.sort_by(|a, b| {
        let v = |k: &str| k.parse::<f64>().unwrap_or(f64::INFINITY);
        v(a).total_cmp(&v(b))
    });
    keys.dedup();
    keys
}

fn label(key: &str) -> &str {
    if key == "average" {
        "Aver"
    } else {
        key
    }
}

/// One table: rows SNR and Aver, per method the columns SDR, SIR, SAR, PESQ (NB MOS-LQO),
/// PESQ-WB and STOI; the paper's four methods in one table, the others in a second.
fn method_tables(table: &Table) -> String {
    let mut s = String::new();
    let keys = snr_keys(table);
    for group in markdown_groups() {
        let group: Vec<&str> = group.into_iter().filter(|m| table.contains_key(*m)).collect();
        if group.is_empty() {
            continue;
        }
        let group = group.as_slice();
        s += "| SNR (dB) |";
        for m in group {
            s += &format!(" {m} SDR | SIR | SAR | PESQ | PESQ-WB | STOI |");
        }
        s += "\n|---|";
        s += &"---|".repeat(6 * group.len());
        s += "\n";
        for k in &keys {
            s += &format!("| {} |", label(k));
            for m in group {
                match table[*m].get(k) {
                    Some(v) => {
                        let wb = v.pesq_wb.map_or("–".to_string(), |w| format!("{w:.2}"));
                        s += &format!(
                            " {:.2} | {:.2} | {:.2} | {:.2} | {wb} | {:.3} |",
                            v.sdr, v.sir, v.sar, v.pesq_nb_mos_lqo, v.stoi
                        );
                    }
                    None => s += &" – |".repeat(6),
                }
            }
            s += "\n";
        }
        s += "\n";
    }
    s
}

/// Average SDR and PESQ per noise type: the per-noise claims at a glance.
fn per_noise_table(noises: &BTreeMap<String, Table>) -> String {
    let Some(first) = noises.values().next() else {
        return String::new();
    };
    let methods = ordered_methods(first);
    let mut s = String::from("| noise |");
    for m in &methods {
        s += &format!(" {m} SDR | PESQ |");
    }
    s += "\n|---|";
    s += &"---|".repeat(2 * methods.len());
    s += "\n";
    for (noise, table) in noises {
        s += &format!("| {noise} |");
        for m in &methods {
            match table.get(*m).and_then(|rows| rows.get("average")) {
                Some(v) => s += &format!(" {:.2} | {:.2} |", v.sdr, v.pesq_nb_mos_lqo),
                None => s += " – | – |",
            }
        }
        s += "\n";
    }
    s + "\n"
}

fn timing_table(results: &[ConditionResult]) -> String {
    let mut s = String::from(
        "| condition | method | training (s) | enhancing the test set (s) |\n|---|---|---|---|\n",
    );
    for r in results {
        for m in method_order() {
            if let Some(t) = r.seconds.get(m) {
                s += &format!("| {} | {m} | {:.1} | {:.1} |\n", r.condition, t.train, t.enhance);
            }
        }
    }
    s + "\n"
}

fn paper_table(which: usize) -> String {
    let mut s = String::from("| paper (Aver) | SDR | SIR | SAR | PESQ |\n|---|---|---|---|---|\n");
    for (m, sdr, sir, sar, pesq) in PAPER_AVERAGES[which] {
        s += &format!("| {m} | {sdr:.2} | {sir:.2} | {sar:.2} | {pesq:.2} |\n");
    }
    s + "\n"
}

/// `table.md`: Table 1 and Table 2 like the paper's, the paper's averages beside them, the
/// per-noise averages and the time each method took.
pub fn markdown(run: &TableRun) -> String {
    let mut s = String::from("# Speech enhancement: the paper's Tables 1 and 2 on this data\n\n");
    s += "PESQ is P.862 narrowband MOS-LQO (P.862.1) on the signals decimated to 8 kHz; PESQ-WB is P.862.2. \
          SDR/SIR/SAR are BSS-eval v3 (mir_eval semantics). \"Aver\" is the mean over the mixtures at −5, 0, 5 and 10 dB. \
          `input` is the unprocessed mixture, `oracle` the ideal ratio mask |S|ᵖ/(|S|ᵖ+|N|ᵖ).\n\n";
    s += &format!("BSS-eval, every row: {}.\n\n", run.assignment.describe());
    for (i, (title, results)) in [
        ("Table 1: a noise model per noise type", &run.table1),
        ("Table 2: one noise model on the pooled noises", &run.table2),
    ]
    .into_iter()
    .enumerate()
    {
        if results.is_empty() {
            continue;
        }
        let n: usize = results.iter().map(|r| r.mixtures.len()).sum();
        s += &format!("## {title} ({n} test mixtures)\n\n");
        s += &method_tables(&table_of(results));
        s += &paper_table(i);
        s += "Average (−5…10 dB) per noise type:\n\n";
        s += &per_noise_table(&by_noise(results));
        s += "Time per method:\n\n";
        s += &timing_table(results);
    }
    s += &format!("Whole run: {:.0} s.\n", run.seconds);
    s
}
