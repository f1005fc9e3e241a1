use serde_json::{Map, Value, json};

use super::to_yaml;

fn one(key: &str, v: Value) -> String {
    let mut m = Map::new();
    m.insert(key.to_owned(), v);
    to_yaml(&m)
}

#[test]
fn plain_single_and_double_quoting_follow_go_yaml() {
    for (s, want) in [
        ("plain words", "d: plain words\n"),
        ("", "d: \"\"\n"),
        ("yes", "d: \"yes\"\n"),
        ("2024-01-02", "d: \"2024-01-02\"\n"),
        ("a: b", "d: 'a: b'\n"),
        ("- x", "d: '- x'\n"),
        ("#x", "d: '#x'\n"),
        ("it's", "d: it's\n"),
        ("'q'", "d: '''q'''\n"),
        (" lead", "d: ' lead'\n"),
        ("tab\there", "d: \"tab\\there\"\n"),
        ("emoji 😀", "d: \"emoji \\U0001F600\"\n"),
        ("ünï", "d: ünï\n"),
        ("<a & b>", "d: <a & b>\n"),
    ] {
        assert_eq!(one("d", json!(s)), want, "{s:?}");
    }
}

#[test]
fn multi_line_strings_become_literal_blocks() {
    assert_eq!(one("d", json!("a\nb")), "d: |-\n  a\n  b\n");
    assert_eq!(one("d", json!("a\nb\n")), "d: |\n  a\n  b\n");
    assert_eq!(one("d", json!("a\n\nb")), "d: |-\n  a\n\n  b\n");
    assert_eq!(one("d", json!(" a\nb")), "d: |2-\n   a\n  b\n");
    assert_eq!(one("d", json!("a \nb")), "d: \"a \\nb\"\n");
}

#[test]
fn long_lines_fold_at_eighty_columns() {
    let long = "word ".repeat(20) + "end";
    let out = one("description", json!(long));
    assert_eq!(
        out,
        "description: word word word word word word word word word word word word word word\n  word word word word word word end\n"
    );
}
