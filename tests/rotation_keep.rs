//! `keep` retires the oldest tokens even when several rotations fall within
//! one second of `creationTimestamp` (issue 10): the real binary runs a
//! script that rotates in a tight loop against the dev cluster.

mod support;

use support::TestCluster;

#[test]
fn keep_retires_the_oldest_of_tokens_made_within_one_second() {
    let c = TestCluster::start();
    let script = c.dir().join("burst.rhai");
    // After every rotation, the rotation's tokens must be exactly the
    // `keep` newest: with list (name) order deciding ties, each step
    // would keep the wrong one half the time.
    std::fs::write(
        &script,
        r#"
let made = [];
for i in 0..10 {
    let r = token::rotate(#{ name: "burst", keep: 2, ttl: "1h", description: "burst", publish: [#{ file: "join.sh" }] });
    made.push(r.created);
    let left = token::list().filter(|t| t.description == "burst").map(|t| t.id);
    left.sort();
    let want = if made.len() < 2 { made } else { made.extract(made.len() - 2) };
    want.sort();
    if left != want { throw `after rotation ${i}: left ${left}, want ${want}`; }
}
print(`ok ${made.len()}`);
"#,
    )
    .expect("script");
    let out = c
        .tokensmith()
        .arg("run")
        .arg(&script)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("ok 10"), "{stdout}\n{stderr}");
}
