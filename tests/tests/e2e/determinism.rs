//! The same program synthesizes byte-identical output on every run.

use std::process::Command;

use crate::{output_dir, synthesize_fixtures};

#[test]
fn two_synths_in_one_process_are_identical() {
    let first = synthesize_fixtures();
    let second = synthesize_fixtures();
    for ((name, a), (_, b)) in first.iter().zip(&second) {
        assert_eq!(a.stacks().len(), b.stacks().len());
        for (x, y) in a.stacks().iter().zip(b.stacks()) {
            assert_eq!(x.template(), y.template(), "{name}/{} differs", x.name());
            assert_eq!(x.sha256(), y.sha256());
        }
    }
}

/// Separate processes get different hash seeds and memory layouts: any iteration over a
/// randomized collection would show here as different bytes.
#[test]
fn two_processes_write_identical_files() {
    for fixture in ["staging", "showcase", "synthetic-1200"] {
        let dirs = [
            output_dir(&format!("determinism/{fixture}-a")),
            output_dir(&format!("determinism/{fixture}-b")),
        ];
        for dir in &dirs {
            let output = Command::new(env!("CARGO_BIN_EXE_fixture-app"))
                .args([fixture, "synth", "--out"])
                .arg(dir)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let mut files: Vec<_> = std::fs::read_dir(&dirs[0])
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{files:?}");
        for file in files {
            let a = std::fs::read(dirs[0].join(&file)).unwrap();
            let b = std::fs::read(dirs[1].join(&file)).unwrap();
            assert!(
                a == b,
                "{fixture}: {} differs between runs",
                file.to_string_lossy()
            );
        }
    }
}
