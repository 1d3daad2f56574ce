//! Issue 17: the settlement crate's event stream is the one chain-reading path. No source or
//! test outside `crates/settlement/src/events/` calls `eth_getLogs` (the devchain, which serves
//! that RPC, and its own tests excepted).

use std::{
    fs,
    path::{Path, PathBuf},
};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where a log read by hand starts: alloy's provider method, the raw method name, and the
/// filter-based variants. Built with `concat!` so this file does not match itself.
const PATTERNS: [&str; 4] = [
    concat!("get_", "logs("),
    concat!("\"eth_", "getLogs\""),
    concat!("get_filter_", "logs("),
    concat!("\"eth_", "getFilterLogs\""),
];

#[test]
fn no_log_reads_outside_the_event_stream() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/ holds this crate")
        .to_path_buf();
    let stream = crates.join("settlement").join("src").join("events");
    let mut files = Vec::new();
    for krate in fs::read_dir(&crates).expect("read crates/").flatten() {
        if krate.file_name() == "devchain" {
            continue;
        }
        rust_files(&krate.path(), &mut files);
    }
    files.sort();
    assert!(
        files.len() > 50,
        "found only {} Rust files under {}",
        files.len(),
        crates.display()
    );
    let mut offending = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&stream)) {
        let text = fs::read_to_string(file).expect("read a source file");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if PATTERNS.iter().any(|p| code.contains(p)) {
                offending.push(format!("{}:{}: {}", file.display(), i + 1, code));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "logs read outside verity_settlement::events (use EventStream or events::history):\n{}",
        offending.join("\n")
    );
    // The scan sees the one read that is allowed, so it is looking at the right text.
    let source = fs::read_to_string(stream.join("source.rs")).expect("read source.rs");
    assert!(
        source.contains(PATTERNS[0]),
        "source.rs no longer reads logs?"
    );
}
