//! The default `text` format: kubeadm's `tokenTextPrinter`
//! (cmd/kubeadm/app/cmd/token.go). A new tabwriter per token, the header only
//! before the first token, and fixed `%-9s`/`%-22s`/`%-56s` pads, so rows
//! after the first are aligned on their own, exactly as kubeadm prints them.

use jiff::Timestamp;

use super::tabwriter::TabWriter;
use crate::token::{BootstrapToken, short_human_duration};

const COLUMNS: [&str; 6] = [
    "TOKEN",
    "TTL",
    "EXPIRES",
    "USAGES",
    "DESCRIPTION",
    "EXTRA GROUPS",
];

#[derive(Debug, Default)]
pub struct TextPrinter {
    header_printed: bool,
}

impl TextPrinter {
    /// The text for one token. The TOKEN column shows the full token, as
    /// kubeadm does: this is the one place the secret is printed.
    pub fn render(&mut self, token: &BootstrapToken, now: Timestamp) -> String {
        let mut tw = TabWriter::new(10, 3);
        if !self.header_printed {
            tw.write(&COLUMNS.join("\t"));
            tw.write("\n");
            self.header_printed = true;
        }
        let (ttl, expires) = match &token.expires {
            None => ("<forever>".to_owned(), "<never>".to_owned()),
            Some(e) => (short_human_duration(e.remaining(now)), e.to_rfc3339()),
        };
        let or_none = |s: String| if s.is_empty() { "<none>".to_owned() } else { s };
        let usages = or_none(token.usages.join(","));
        let description = or_none(token.description.clone());
        let groups = or_none(token.groups.join(","));
        // Rust's width pads by chars, as Go's %-Ns pads by runes.
        let row = [
            token.token.expose(),
            format!("{ttl:<9}"),
            expires,
            format!("{usages:<22}"),
            format!("{description:<56}"),
            groups,
        ];
        tw.write(&row.join("\t"));
        tw.write("\n");
        tw.flush()
    }
}
