//! Listing: label and field selectors, `limit`/`continue` paging with
//! `remainingItemCount`, as the generic registry answers a list.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::objects::{self, Stored};
use super::resources::Resource;
use super::selectors::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::Store;

/// Parsed list options shared by list, watch and deletecollection.
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: usize,
    pub continue_from: Option<(String, String)>,
}

impl ListOptions {
    pub fn parse(r: Resource, query: &HashMap<String, String>) -> Result<ListOptions, ApiError> {
        let labels =
            LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or(""))
                .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(
            query.get("fieldSelector").map(String::as_str).unwrap_or(""),
            r,
        )
        .map_err(ApiError::bad_request)?;
        let limit = match query.get("limit").map(String::as_str) {
            None | Some("") => 0,
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "strconv.ParseInt: parsing {s:?}: invalid syntax"
                    ))
                })?
                .max(0) as usize,
        };
        let continue_from = match query.get("continue").map(String::as_str) {
            None | Some("") => None,
            Some(token) => Some(decode_continue(token)?),
        };
        Ok(ListOptions {
            labels,
            fields,
            limit,
            continue_from,
        })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    let doc = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{namespace}/{name}\u{0}")});
    URL_SAFE_NO_PAD.encode(doc.to_string())
}

/// Where Go's `base64.RawURLEncoding` reports a token corrupt: the first
/// byte outside the alphabet, else the lone byte of a final 1-byte quantum.
fn base64_error_offset(token: &str) -> usize {
    token
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .unwrap_or(token.len().saturating_sub(1))
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "invalid continue token: continue key is not valid: illegal base64 data at input byte {}",
                base64_error_offset(token)
            ))
        })?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let start = doc.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    let start = start.trim_end_matches('\u{0}');
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

/// One page of a list: what the response is made of, whichever form the
/// client asked for (JSON, Table, PartialObjectMetadata).
pub struct ListPage {
    pub resource: Resource,
    /// `resourceVersion`, and `continue`/`remainingItemCount` when paged.
    pub metadata: Value,
    /// Shared with the store, not copied.
    pub items: Vec<Arc<Stored>>,
}

impl ListPage {
    /// The list as apiserver sends it, each item's stored JSON spliced in.
    pub fn to_json(&self) -> Vec<u8> {
        let items: usize = self
            .items
            .iter()
            .map(|o| o.list_item_json().len() + 1)
            .sum();
        let mut out = Vec::with_capacity(items + 256);
        // Writing JSON to memory cannot fail.
        out.extend_from_slice(b"{\"kind\":");
        let _ = serde_json::to_writer(&mut out, &self.resource.list_kind());
        out.extend_from_slice(b",\"apiVersion\":");
        let _ = serde_json::to_writer(&mut out, self.resource.api_version());
        out.extend_from_slice(b",\"metadata\":");
        let _ = serde_json::to_writer(&mut out, &self.metadata);
        out.extend_from_slice(b",\"items\":[");
        for (i, o) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(o.list_item_json());
        }
        out.extend_from_slice(b"]}");
        out
    }
}

pub fn list(store: &Store, r: Resource, namespace: Option<&str>, opts: &ListOptions) -> ListPage {
    let (items, rv) = store.list(r, namespace);
    let mut matching =
        items
            .into_iter()
            .filter(|o| opts.matches(o))
            .filter(|o| match &opts.continue_from {
                Some((ns, name)) => {
                    (objects::namespace(o), objects::name(o)) > (ns.as_str(), name.as_str())
                }
                None => true,
            });
    let mut page = Vec::new();
    let mut more = false;
    let mut remaining = 0usize;
    for o in matching.by_ref() {
        if opts.limit > 0 && page.len() == opts.limit {
            more = true;
            remaining = 1;
            break;
        }
        page.push(o);
    }
    if more {
        remaining += matching.count();
    }
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if more && let Some(last) = page.last() {
        meta["continue"] = json!(encode_continue(
            rv,
            objects::namespace(last),
            objects::name(last)
        ));
        // apiserver leaves it out when selectors filter the list.
        if opts.labels.is_empty() && opts.fields.is_empty() {
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    ListPage {
        resource: r,
        metadata: meta,
        items: page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spliced_list_is_the_list_apiserver_sends() {
        let store = Store::open(None).expect("store");
        store
            .transact(false, |tx| {
                for n in ["a", "b"] {
                    tx.put(
                        super::super::store::Key::new(Resource::Secrets, "ns", n),
                        json!({"apiVersion": "v1", "kind": "Secret", "type": "t",
                               "metadata": {"name": n, "namespace": "ns"}, "data": {"k": "dg=="}}),
                    );
                }
                Ok(())
            })
            .await
            .expect("put");
        let opts = ListOptions::parse(Resource::Secrets, &HashMap::new()).expect("options");
        let page = list(&store, Resource::Secrets, Some("ns"), &opts);
        let got: Value = serde_json::from_slice(&page.to_json()).expect("JSON");
        let item = |n: &str, rv: &str| {
            json!({"type": "t", "metadata": {"name": n, "namespace": "ns", "resourceVersion": rv},
                   "data": {"k": "dg=="}})
        };
        assert_eq!(
            got,
            json!({"kind": "SecretList", "apiVersion": "v1",
                   "metadata": {"resourceVersion": "2"},
                   "items": [item("a", "1"), item("b", "2")]})
        );
        let empty = list(&store, Resource::Secrets, Some("other"), &opts);
        let got: Value = serde_json::from_slice(&empty.to_json()).expect("JSON");
        assert_eq!(got["items"], json!([]));
    }
}
