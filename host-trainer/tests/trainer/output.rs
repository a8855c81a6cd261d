//! Outputs as a set: a failure while the files are moved into place leaves what was there
//! before, and no file or folder of the failed run.

use std::path::Path;

use vaenmf_trainer::output::OutputSet;

/// Every entry under `dir`, sorted, relative.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_failure_at_commit_restores_the_previous_files_and_removes_new_folders() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::write(root.join("model.vnmf"), b"old model").unwrap();
    // The second target is a folder that holds a file: the rename onto it fails at commit,
    // after the first file has been moved into place.
    std::fs::create_dir(root.join("report.json")).unwrap();
    std::fs::write(root.join("report.json/keep"), b"x").unwrap();
    let before = tree(root);

    let mut set = OutputSet::new();
    set.add(&root.join("model.vnmf"), b"new model").unwrap();
    set.add(&root.join("plots/a/b.csv"), b"1,2").unwrap();
    set.add(&root.join("report.json"), b"{}").unwrap();
    let err = format!("{:#}", set.commit().unwrap_err());
    assert!(err.contains("report.json"), "{err}");

    assert_eq!(std::fs::read(root.join("model.vnmf")).unwrap(), b"old model");
    assert_eq!(
        tree(root),
        before,
        "no temporary file, no new folder, nothing moved"
    );
}

#[test]
fn a_commit_replaces_every_file_and_a_dropped_set_leaves_nothing() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::write(root.join("model.vnmf"), b"old").unwrap();
    let mut set = OutputSet::new();
    set.add(&root.join("model.vnmf"), b"new").unwrap();
    set.add(&root.join("out/report.json"), b"{}").unwrap();
    set.commit().unwrap();
    assert_eq!(std::fs::read(root.join("model.vnmf")).unwrap(), b"new");
    assert_eq!(std::fs::read(root.join("out/report.json")).unwrap(), b"{}");
    assert_eq!(tree(root), ["model.vnmf", "out", "out/report.json"]);

    // Staged, then abandoned (a later step failed): no file, no folder.
    let mut set = OutputSet::new();
    set.add(&root.join("x/y/z.png"), b"png").unwrap();
    drop(set);
    assert_eq!(tree(root), ["model.vnmf", "out", "out/report.json"]);
}
