//! `outputs.json`: the deployed stacks' outputs, merged run after run. Two deploys at once (two
//! terminals, two CI jobs on one runner) must not lose each other's outputs, and a reader must
//! never see half a file: the merge happens under an exclusive lock on a lock file beside it,
//! and the new file replaces the old one by a rename.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Outputs by stack, then by output key.
pub type Outputs = BTreeMap<String, BTreeMap<String, String>>;

/// The file's name.
pub const FILE: &str = "outputs.json";

/// Merges `outputs` into `<dir>/outputs.json` (stacks not in `outputs` keep theirs) and returns
/// its path.
pub fn merge(dir: &Path, outputs: &Outputs) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!(".{FILE}.lock")))?;
    lock.lock()?;
    let result = merge_locked(&path, outputs);
    let _ = lock.unlock();
    result.map(|()| path)
}

fn merge_locked(path: &Path, outputs: &Outputs) -> io::Result<()> {
    let mut all: Outputs = match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Outputs::new(),
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not the outputs file deploy writes ({e}); move it away or delete it",
                    path.display()
                ),
            )
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Outputs::new(),
        Err(e) => return Err(e),
    };
    for (stack, values) in outputs {
        all.insert(stack.clone(), values.clone());
    }
    let text = serde_json::to_string_pretty(&all).map_err(io::Error::other)?;
    let temporary = path.with_extension(format!("json.{}.tmp", std::process::id()));
    {
        let mut file = File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(stack: &str, value: &str) -> Outputs {
        BTreeMap::from([(
            stack.to_owned(),
            BTreeMap::from([("Key".to_owned(), value.to_owned())]),
        )])
    }

    #[test]
    fn merges_keep_other_stacks_and_replace_the_same_one() {
        let dir = tempfile::tempdir().unwrap();
        merge(dir.path(), &outputs("A", "1")).unwrap();
        merge(dir.path(), &outputs("B", "2")).unwrap();
        let path = merge(dir.path(), &outputs("A", "3")).unwrap();
        let all: Outputs = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(all["A"]["Key"], "3");
        assert_eq!(all["B"]["Key"], "2");
    }

    #[test]
    fn writers_at_once_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let dir = dir.path().to_owned();
                std::thread::spawn(move || {
                    for round in 0..10 {
                        merge(&dir, &outputs(&format!("Stack{i}"), &round.to_string())).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let all: Outputs =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(FILE)).unwrap()).unwrap();
        assert_eq!(all.len(), 16);
        assert!(all.values().all(|v| v["Key"] == "9"));
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    }

    #[test]
    fn a_file_that_is_not_outputs_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "not json").unwrap();
        let err = merge(dir.path(), &outputs("A", "1")).unwrap_err();
        assert!(
            err.to_string()
                .contains("is not the outputs file deploy writes"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FILE)).unwrap(),
            "not json"
        );
    }
}
