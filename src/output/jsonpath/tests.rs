use serde_json::json;

use super::*;

fn run(template: &str, data: &Value) -> Result<String, String> {
    JsonPathTemplate::parse(template, true, false)?.execute(data)
}

fn strict(template: &str, data: &Value) -> Result<String, String> {
    JsonPathTemplate::parse(template, false, false)?.execute(data)
}

fn data() -> Value {
    json!({
        "kind": "List",
        "items": [
            {"name": "a", "type": "x", "tags": ["t1", "t2"], "n": 1},
            {"name": "b", "type": "y", "tags": [], "n": 2.5},
            {"name": "c", "type": "x", "tags": ["t3"], "n": 3}
        ],
        "meta": {"dotted.key": "dk", "hy-phen": "h"}
    })
}

#[test]
fn fields_text_and_literals() {
    let d = data();
    assert_eq!(run("kind={.kind}{\"\\n\"}", &d).unwrap(), "kind=List\n");
    assert_eq!(run("{.items[0].name}", &d).unwrap(), "a");
    assert_eq!(run("{.meta.hy-phen}", &d).unwrap(), "h");
    assert_eq!(run(r"{.meta.dotted\.key}", &d).unwrap(), "dk");
    assert_eq!(run("{$.kind}", &d).unwrap(), "List");
    assert_eq!(run("{.items[*].name}", &d).unwrap(), "a b c");
    assert_eq!(run("{.items[-1].name}", &d).unwrap(), "c");
    assert_eq!(run("{.items[0:2].name}", &d).unwrap(), "a b");
    assert_eq!(run("{.items[::2].name}", &d).unwrap(), "a c");
    assert_eq!(run("{.items[0]['name']}", &d).unwrap(), "a");
    assert_eq!(run("{.items[0]['name','type']}", &d).unwrap(), "a x");
    assert_eq!(run("{.items[*].n}", &d).unwrap(), "1 2.5 3");
    assert_eq!(run("{.items[0].tags}", &d).unwrap(), r#"["t1","t2"]"#);
    assert_eq!(run("{..name}", &d).unwrap(), "a b c");
}

#[test]
fn range_iterates_with_each_element_as_root() {
    let d = data();
    assert_eq!(
        run(r#"{range .items[*]}{.name}:{.tags[*]}{"\n"}{end}"#, &d).unwrap(),
        "a:t1 t2\nb:\nc:t3\n"
    );
    assert_eq!(
        run(r#"{range .items[*]}[{range .tags[*]}<{@}>{end}]{end}"#, &d).unwrap(),
        "[<t1><t2>][][<t3>]"
    );
}

#[test]
fn filters_are_evaluated_by_jsonpath_rust() {
    let d = data();
    assert_eq!(run(r#"{.items[?(@.type=="x")].name}"#, &d).unwrap(), "a c");
    assert_eq!(run(r#"{.items[?(@.n > 2)].name}"#, &d).unwrap(), "b c");
}

#[test]
fn missing_keys_and_bad_indexes_are_kubectl_errors() {
    let d = data();
    assert_eq!(run("{.nope}", &d).unwrap(), "");
    assert_eq!(strict("{.nope}", &d).unwrap_err(), "nope is not found");
    assert_eq!(
        strict("{.items[*].nope}", &d).unwrap_err(),
        "nope is not found"
    );
    assert_eq!(
        run("{.items[5]}", &d).unwrap_err(),
        "array index out of bounds: index 5, length 3"
    );
    assert_eq!(
        run("{.kind[0]}", &d).unwrap_err(),
        "string is not array or slice"
    );
}

#[test]
fn parse_errors_read_like_kubectl() {
    assert_eq!(
        JsonPathTemplate::parse("{.a", true, false).unwrap_err(),
        "unclosed action"
    );
    assert_eq!(
        JsonPathTemplate::parse("{.a[0}", true, false).unwrap_err(),
        "unterminated array"
    );
    assert_eq!(
        JsonPathTemplate::parse("{.a[x]}", true, false).unwrap_err(),
        "invalid array index x"
    );
    assert_eq!(
        JsonPathTemplate::parse("{end}", true, false).unwrap_err(),
        "not in range, nothing to end"
    );
    assert_eq!(
        JsonPathTemplate::parse("{foo}", true, false).unwrap_err(),
        "unrecognized identifier foo"
    );
    assert_eq!(
        JsonPathTemplate::parse("{#}", true, false).unwrap_err(),
        "unrecognized character in action: U+0023 '#'"
    );
    // client-go's parser refuses a recursive descent right after another;
    // three dots are one descent then an empty field, and parse.
    for raw in ["{....}", "{.........}", "{.a....b}", "{..[0]....}"] {
        assert_eq!(
            JsonPathTemplate::parse(raw, true, false).unwrap_err(),
            "invalid multiple recursive descent",
            "{raw}"
        );
    }
    assert!(JsonPathTemplate::parse("{...}", true, false).is_ok());
    assert!(JsonPathTemplate::parse("{..a..b}", true, false).is_ok());
}

#[test]
fn as_json_wraps_each_expression_result() {
    let d = data();
    let t = JsonPathTemplate::parse("{.items[*].name}", true, true).unwrap();
    assert_eq!(
        t.execute(&d).unwrap(),
        "[\n    \"a\",\n    \"b\",\n    \"c\"\n]\n"
    );
}

#[test]
fn extreme_indexes_are_errors_not_overflows() {
    let d = data();
    for t in [
        "{.items[9223372036854775807]}",
        "{.items[-9223372036854775808]}",
        "{.items[0:9223372036854775807]}",
        "{.items[-9223372036854775808:-9223372036854775808:9223372036854775807]}",
    ] {
        assert!(
            run(t, &d).is_err() || run(t, &d).is_ok_and(|s| s.is_empty()),
            "{t}"
        );
    }
    assert!(JsonPathTemplate::parse("{.items[99999999999999999999]}", true, false).is_err());
}
