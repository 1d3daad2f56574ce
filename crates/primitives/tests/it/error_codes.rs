//! Every stable error code is defined once in the whole workspace.
//!
//! A definition is where a code is given to an error: a message that starts with it (a string
//! literal `"[V-XXX-NNN] ..."`, as in `#[error("[V-XXX-NNN] ...")]` or a message built by hand
//! for an HTTP answer), a `coded_error!` transparent variant's `#[code("V-XXX-NNN")]`, or a
//! named constant (`const NAME: &str = "V-XXX-NNN";`, as the API's code list). Everything else
//! that mentions a code (a test matching a prefix `"[V-XXX-NNN]"`, a `match` arm, a doc) is a
//! use. Comment lines are skipped, so doc examples do not count.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use verity_primitives::error_code::is_code;

/// One place a code is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Definition {
    file: PathBuf,
    line: usize,
    text: String,
}

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

/// The workspace's library and binary sources: `crates/*/src/**/*.rs`.
fn workspace_sources() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/ holds this crate")
        .to_path_buf();
    let mut files = Vec::new();
    for krate in fs::read_dir(&crates).expect("read crates/").flatten() {
        rust_files(&krate.path().join("src"), &mut files);
    }
    files.sort();
    files
}

/// The code at the start of `rest` (after an opening quote), if `rest` is `[CODE]...` (or
/// `CODE"` when `bracketed` is false).
fn leading_code(rest: &str, bracketed: bool) -> Option<&str> {
    let rest = if bracketed {
        rest.strip_prefix('[')?
    } else {
        rest
    };
    let end = rest.find(if bracketed { ']' } else { '"' })?;
    let code = &rest[..end];
    is_code(code.as_bytes()).then_some(code)
}

/// The definitions in one file's text, with their line numbers.
fn definitions(source: &str) -> Vec<(String, usize, String)> {
    // Blank out comment lines (keeping line numbers) so doc examples are not definitions.
    let code: String = source
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (at, _) in code.match_indices("\"[") {
        let rest = &code[at + 1..];
        // A message: the code, then a space and the text. `"[V-XXX-NNN]"` alone is a prefix
        // a test matches.
        if let Some(c) = leading_code(rest, true)
            && rest[c.len() + 2..].starts_with(' ')
        {
            let text = rest.lines().next().unwrap_or_default().to_owned();
            found.push((c.to_owned(), line_of(at), text));
        }
    }
    for (at, _) in code.match_indices("#[code(\"") {
        if let Some(c) = leading_code(&code[at + "#[code(\"".len()..], false) {
            found.push((c.to_owned(), line_of(at), "#[code]".to_owned()));
        }
    }
    for (at, _) in code.match_indices("const ") {
        // `const NAME: &str = "CODE"` or `&'static str`.
        let rest = &code[at..];
        let Some(stmt) = rest.split(';').next() else {
            continue;
        };
        let Some((lhs, rhs)) = stmt.split_once('=') else {
            continue;
        };
        if !(lhs.contains("&str") || lhs.contains("&'static str")) {
            continue;
        }
        if let Some(c) = rhs
            .trim()
            .strip_prefix('"')
            .and_then(|r| leading_code(r, false))
        {
            found.push((c.to_owned(), line_of(at), stmt.trim().to_owned()));
        }
    }
    found
}

fn all_definitions() -> BTreeMap<String, Vec<Definition>> {
    let mut defs: BTreeMap<String, Vec<Definition>> = BTreeMap::new();
    for file in workspace_sources() {
        let source = fs::read_to_string(&file).expect("read source");
        for (code, line, text) in definitions(&source) {
            defs.entry(code).or_default().push(Definition {
                file: file.clone(),
                line,
                text,
            });
        }
    }
    defs
}

#[test]
fn no_error_code_is_defined_twice() {
    let defs = all_definitions();
    // The scan must see the workspace, or it proves nothing.
    assert!(
        defs.len() > 100,
        "found only {} codes: is the scan looking at crates/*/src?",
        defs.len()
    );
    let twice: Vec<_> = defs.iter().filter(|(_, d)| d.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "error codes defined for more than one error:\n{}",
        twice
            .iter()
            .map(|(code, d)| format!(
                "{code}:\n{}",
                d.iter()
                    .map(|d| format!("  {}:{}: {}", d.file.display(), d.line, d.text))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_scan_tells_definitions_from_uses() {
    let source = r#"
        #[error("[V-TST-001] first {0}")]
        A(u8),
        #[error(
            "[V-TST-002] second"
        )]
        B,
        #[error(transparent)]
        #[code("V-TST-003")]
        C(Inner),
        pub const D: &str = "V-TST-004";
        pub const E: &'static str = "V-TST-005";
        /// #[error("[V-TST-006] in a doc comment")]
        assert_eq!(e.code(), "V-TST-001");
        Self::A(_) => "V-TST-001",
        const N: u64 = 7;
        ApiError::new(status, "V-TST-007", format!("[V-TST-007] no such endpoint: {path}"));
        assert!(e.to_string().starts_with("[V-TST-001]"), "{e}");
    "#;
    let mut codes: Vec<_> = definitions(source)
        .into_iter()
        .map(|(c, line, _)| (c, line))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("V-TST-001".to_owned(), 2),
            ("V-TST-002".to_owned(), 5),
            ("V-TST-003".to_owned(), 9),
            ("V-TST-004".to_owned(), 11),
            ("V-TST-005".to_owned(), 12),
            ("V-TST-007".to_owned(), 17),
        ]
    );
}
