//! The `resourceVersion` and `resourceVersionMatch` query parameters of
//! get, list and watch, refused where kube-apiserver refuses them and in its
//! words: the list handler's ValidateListOptions (422), then the storage
//! layer's APIObjectVersioner.ParseResourceVersion, whose error reaches the
//! client as a 400 on list but unconverted (a 500 without reason) on get and
//! watch, as the watch cache returns it (storage/cacher/delegator.go).

use std::collections::HashMap;

use super::status::{ApiError, FieldCause};

/// `strconv.ParseUint(rv, 10, 64)` as APIObjectVersioner wraps its error:
/// `resourceVersion: Invalid value: "x": strconv.ParseUint: parsing "x": invalid syntax`.
fn parse(rv: &str) -> Result<u64, String> {
    if rv.is_empty() || rv == "0" {
        return Ok(0);
    }
    let why = if !rv.bytes().all(|b| b.is_ascii_digit()) {
        "invalid syntax"
    } else {
        match rv.parse::<u64>() {
            Ok(v) => return Ok(v),
            Err(_) => "value out of range",
        }
    };
    let quoted = crate::token::go_quote(rv);
    Err(format!(
        "resourceVersion: Invalid value: {quoted}: strconv.ParseUint: parsing {quoted}: {why}"
    ))
}

fn param<'a>(query: &'a HashMap<String, String>, name: &str) -> &'a str {
    query.get(name).map(String::as_str).unwrap_or("")
}

/// A get's `resourceVersion` (served from the watch cache when set).
pub fn check_get(query: &HashMap<String, String>) -> Result<(), ApiError> {
    parse(param(query, "resourceVersion"))
        .map(drop)
        .map_err(|m| ApiError::unknown(500, m))
}

/// A watch's `resourceVersion`: refused before the stream starts.
pub fn check_watch(query: &HashMap<String, String>) -> Result<(), ApiError> {
    let rv = param(query, "resourceVersion");
    let matching = param(query, "resourceVersionMatch");
    let mut causes = Vec::new();
    if !matching.is_empty() {
        if !query.contains_key("sendInitialEvents") {
            causes.push(forbidden(
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        if matching != "NotOlderThan" {
            causes.push(not_supported(matching, &["NotOlderThan"]));
        }
        if !param(query, "continue").is_empty() {
            causes.push(forbidden(
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
    }
    list_options_invalid(causes)?;
    parse(rv).map(drop).map_err(|m| ApiError::unknown(500, m))
}

/// A list's `resourceVersion`, `resourceVersionMatch` and `continue`
/// (internalversion/validation ValidateListOptions, then
/// storage.ValidateListOptions).
pub fn check_list(query: &HashMap<String, String>) -> Result<(), ApiError> {
    let rv = param(query, "resourceVersion");
    let matching = param(query, "resourceVersionMatch");
    let cont = param(query, "continue");
    let mut causes = Vec::new();
    if !matching.is_empty() {
        if rv.is_empty() {
            causes.push(forbidden(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if !cont.is_empty() {
            causes.push(forbidden(
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        if matching != "Exact" && matching != "NotOlderThan" {
            causes.push(not_supported(matching, &["Exact", "NotOlderThan", ""]));
        }
        if matching == "Exact" && rv == "0" {
            causes.push(forbidden(
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if query.contains_key("sendInitialEvents") {
        causes.push(FieldCause::forbidden(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for list",
        ));
    }
    list_options_invalid(causes)?;
    if !cont.is_empty() {
        if !rv.is_empty() && rv != "0" {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        return Ok(());
    }
    parse(rv)
        .map(drop)
        .map_err(|m| ApiError::bad_request(format!("invalid resource version: {m}")))
}

fn forbidden(detail: &str) -> FieldCause {
    FieldCause::forbidden("resourceVersionMatch", detail)
}

fn not_supported(value: &str, supported: &[&str]) -> FieldCause {
    let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
    FieldCause {
        field: "resourceVersionMatch".into(),
        reason: "FieldValueNotSupported",
        value: Some(crate::token::go_quote(value)),
        detail: format!("supported values: {}", list.join(", ")),
    }
}

fn list_options_invalid(causes: Vec<FieldCause>) -> Result<(), ApiError> {
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_kind(
            "ListOptions",
            "meta.k8s.io",
            "",
            causes,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resource_versions_parse_as_go_parse_uint() {
        assert_eq!(parse(""), Ok(0));
        assert_eq!(parse("42"), Ok(42));
        assert_eq!(
            parse("+5").unwrap_err(),
            "resourceVersion: Invalid value: \"+5\": strconv.ParseUint: parsing \"+5\": invalid syntax"
        );
        assert!(
            parse("99999999999999999999")
                .unwrap_err()
                .ends_with(": value out of range")
        );
    }

    #[test]
    fn a_bad_list_resource_version_is_a_bad_request() {
        let e = check_list(&q(&[("resourceVersion", "abc")])).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn a_match_without_a_version_is_invalid_list_options() {
        let e = check_list(&q(&[("resourceVersionMatch", "Exact")])).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
    }
}
