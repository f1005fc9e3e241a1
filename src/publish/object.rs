//! The Secret and ConfigMap sinks: create or update one key, keep the other
//! keys, retry on a write conflict.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};

use super::PublishError;
use crate::cluster::error::describe;

const CONFLICT_RETRIES: u32 = 5;

/// Which kind of object holds the published text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Secret,
    ConfigMap,
}

impl ObjectKind {
    /// The API resource name (`secrets`, `configmaps`).
    pub fn resource(self) -> &'static str {
        match self {
            ObjectKind::Secret => "secrets",
            ObjectKind::ConfigMap => "configmaps",
        }
    }

    /// The name used in reports (`secret`, `configmap`).
    pub fn singular(self) -> &'static str {
        self.resource().trim_end_matches('s')
    }
}

/// Sets `key` to `text` in `namespace/name`, creating the object if needed.
pub async fn upsert_key(
    client: kube::Client,
    server: &str,
    kind: ObjectKind,
    namespace: &str,
    name: &str,
    key: &str,
    text: &str,
) -> Result<(), PublishError> {
    let url = format!(
        "{server}/api/v1/namespaces/{namespace}/{}/{name}",
        kind.resource()
    );
    let fail = |cause: String| PublishError::Object {
        what: format!("{} {namespace}/{name} key {key}", kind.resource()),
        server: server.to_owned(),
        cause,
    };
    let mut last = String::new();
    for attempt in 0..CONFLICT_RETRIES {
        let result = match kind {
            ObjectKind::Secret => {
                let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
                upsert_secret(&api, name, key, text).await
            }
            ObjectKind::ConfigMap => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
                upsert_config_map(&api, name, key, text).await
            }
        };
        match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                let f = describe(&e, "Put", &url);
                let conflict = matches!(f.status, Some(409));
                if !(conflict || f.transient) {
                    return Err(fail(f.cause));
                }
                last = f.cause;
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    Err(fail(format!(
        "gave up after {CONFLICT_RETRIES} attempts: {last}"
    )))
}

async fn upsert_secret(
    api: &Api<Secret>,
    name: &str,
    key: &str,
    text: &str,
) -> Result<(), kube::Error> {
    match api.get_opt(name).await? {
        Some(mut s) => {
            s.data
                .get_or_insert_with(BTreeMap::new)
                .insert(key.to_owned(), ByteString(text.as_bytes().to_vec()));
            api.replace(name, &PostParams::default(), &s).await?;
        }
        None => {
            let s = Secret {
                metadata: ObjectMeta {
                    name: Some(name.to_owned()),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([(
                    key.to_owned(),
                    ByteString(text.as_bytes().to_vec()),
                )])),
                type_: Some("Opaque".to_owned()),
                ..Secret::default()
            };
            api.create(&PostParams::default(), &s).await?;
        }
    }
    Ok(())
}

async fn upsert_config_map(
    api: &Api<ConfigMap>,
    name: &str,
    key: &str,
    text: &str,
) -> Result<(), kube::Error> {
    match api.get_opt(name).await? {
        Some(mut c) => {
            c.data
                .get_or_insert_with(BTreeMap::new)
                .insert(key.to_owned(), text.to_owned());
            api.replace(name, &PostParams::default(), &c).await?;
        }
        None => {
            let c = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(name.to_owned()),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([(key.to_owned(), text.to_owned())])),
                ..ConfigMap::default()
            };
            api.create(&PostParams::default(), &c).await?;
        }
    }
    Ok(())
}
