//! Every ```rhai block of `docs/guide.md` passes `tokensmith check` verbatim:
//! a reader who copies an example gets a script that compiles, calls only
//! functions that exist and has a valid header.

mod support;

use std::path::Path;

fn rhai_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == "```rhai" => current = Some((i + 1, String::new())),
            None => {}
            Some(_) if line.trim_start() == "```" => blocks.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn every_guide_example_passes_check() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide.md"))
            .expect("read the guide");
    let blocks = rhai_blocks(&guide);
    assert!(blocks.len() >= 8, "found only {} rhai blocks", blocks.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut paths = Vec::new();
    for (line, text) in &blocks {
        // A test file's example is checked as one: `check` knows the
        // test-only functions only in `*_test.rhai` files, as `test` runs them.
        let suffix = if text.contains("fn test_") {
            "_test"
        } else {
            ""
        };
        let p = dir.path().join(format!("guide_line_{line}{suffix}.rhai"));
        std::fs::write(&p, text).expect("write example");
        paths.push(p);
    }
    let out = support::tokensmith()
        .arg("check")
        .args(&paths)
        .output()
        .expect("run check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "guide examples fail `check` (file names give the guide line of each block):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("warning:"), "{stdout}");
}
