//! Property tests over the token model's parsers: no input panics, every
//! generated token validates, every valid token round-trips through the
//! Secret encoding, and durations round-trip through Go's formatting.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use tokensmith::token::{
    BootstrapToken, BootstrapTokenString, Expiry, format_go_duration, parse_go_duration,
    short_human_duration,
};

fn token_chars(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(b"0123456789abcdefghijklmnopqrstuvwxyz".to_vec()),
        n,
    )
    .prop_map(|v| String::from_utf8(v).unwrap())
}

fn valid_token() -> impl Strategy<Value = String> {
    (token_chars(6), token_chars(16)).prop_map(|(i, s)| format!("{i}.{s}"))
}

fn group() -> impl Strategy<Value = String> {
    "[a-z0-9:-]{0,20}[a-z0-9]".prop_map(|g| format!("system:bootstrappers:{g}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_parser_never_panics_and_accepts_exactly_the_pattern(s in "\\PC{0,40}") {
        let ok = BootstrapTokenString::parse(&s).is_ok();
        let b = s.as_bytes();
        let expected = b.len() == 23
            && b[6] == b'.'
            && b.iter().enumerate().all(|(i, c)| i == 6 || c.is_ascii_digit() || c.is_ascii_lowercase());
        prop_assert_eq!(ok, expected, "{:?}", s);
    }

    #[test]
    fn every_generated_token_validates(_i in 0..64u8) {
        let t = BootstrapTokenString::generate();
        prop_assert!(BootstrapTokenString::parse(&t.expose()).is_ok());
    }

    #[test]
    fn valid_tokens_round_trip_through_the_secret(
        token in valid_token(),
        description in "\\PC{0,40}",
        ttl_secs in -100_000i64..10_000_000,
        usages in proptest::sample::subsequence(vec!["authentication", "signing"], 0..=2),
        groups in proptest::collection::vec(group(), 0..4),
        now_secs in 0i64..4_000_000_000,
    ) {
        let now = Timestamp::from_second(now_secs).unwrap();
        let mut t = BootstrapToken::with_defaults(BootstrapTokenString::parse(&token).unwrap());
        t.description = description.clone();
        t.ttl = Some(SignedDuration::from_secs(ttl_secs));
        t.usages = usages.iter().map(|u| u.to_string()).collect();
        t.groups = groups.clone();
        let data = t.to_secret_data(now);
        let back = BootstrapToken::from_secret(&t.token.id().secret_name(), &data).unwrap();
        prop_assert_eq!(back.token.expose(), token);
        prop_assert_eq!(back.description, description);
        let mut sorted = t.usages.clone();
        sorted.sort();
        prop_assert_eq!(back.usages, sorted);
        prop_assert_eq!(back.groups, groups);
        match back.expires {
            None => prop_assert!(ttl_secs <= 0),
            Some(e) => prop_assert_eq!(e.timestamp(), Timestamp::from_second(now_secs + ttl_secs).unwrap()),
        }
    }

    #[test]
    fn secret_decoding_never_panics(
        entries in proptest::collection::btree_map("\\PC{0,20}", "\\PC{0,30}", 0..8),
        name in "\\PC{0,30}",
    ) {
        let _ = BootstrapToken::from_secret(&name, &entries);
        let mut with_id: BTreeMap<String, String> = entries;
        with_id.insert("token-id".into(), "abcdef".into());
        let _ = BootstrapToken::from_secret("bootstrap-token-abcdef", &with_id);
    }

    #[test]
    fn duration_parser_never_panics(s in "\\PC{0,30}") {
        let _ = parse_go_duration(&s);
    }

    #[test]
    fn durations_round_trip_through_go_formatting(nanos in any::<i64>()) {
        let d = SignedDuration::from_nanos(nanos);
        prop_assert_eq!(parse_go_duration(&format_go_duration(d)).unwrap(), d);
        let _ = short_human_duration(d);
    }

    #[test]
    fn expiry_parser_never_panics_and_round_trips(s in "\\PC{0,30}", secs in -62_000_000_000i64..250_000_000_000) {
        let _ = Expiry::parse(&s);
        let e = Expiry::utc(Timestamp::from_second(secs).unwrap());
        prop_assert_eq!(Expiry::parse(&e.to_rfc3339()).unwrap(), e);
    }
}
