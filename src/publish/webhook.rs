//! The webhook sink: an HTTP(S) POST of a JSON payload with TLS verified, a
//! timeout, and retries with backoff on 5xx and connection failures (a 4xx is
//! the receiver's final word and is not retried). Header values, which may
//! hold credentials, are never logged.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::PublishError;

/// Where and how to POST.
#[derive(Clone, Default)]
pub struct Webhook {
    pub url: String,
    /// Extra headers, e.g. `Authorization`.
    pub headers: Vec<(String, String)>,
    /// A PEM bundle to trust instead of the system roots (e.g. a private CA).
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub attempts: u32,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("headers", &names)
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Webhook {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
            ca_file: None,
            timeout: Duration::from_secs(10),
            attempts: 4,
        }
    }

    fn fail(&self, cause: impl Into<String>) -> PublishError {
        PublishError::Webhook {
            url: self.url.clone(),
            cause: cause.into(),
        }
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig, PublishError> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(path) => {
                use rustls_pki_types::CertificateDer;
                use rustls_pki_types::pem::PemObject;
                let pem = std::fs::read(path).map_err(|e| {
                    self.fail(format!("cannot read CA file {}: {e}", path.display()))
                })?;
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert =
                        cert.map_err(|e| self.fail(format!("bad PEM in {}: {e}", path.display())))?;
                    roots.add(cert).map_err(|e| {
                        self.fail(format!("bad CA certificate in {}: {e}", path.display()))
                    })?;
                }
            }
            None => {
                let native = rustls_native_roots();
                roots.add_parsable_certificates(native);
            }
        }
        Ok(rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// POSTs `payload` as JSON, retrying transient failures; returns the
    /// final HTTP status on success (2xx).
    pub async fn post(&self, payload: &serde_json::Value) -> Result<u16, PublishError> {
        let uri: http::Uri = self
            .url
            .parse()
            .map_err(|e| self.fail(format!("invalid URL: {e}")))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(self.fail("the URL must start with http:// or https://")),
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(self.tls_config()?)
            .https_or_http()
            .enable_http1()
            .build();
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
        let body = Bytes::from(serde_json::to_vec(payload).map_err(|e| self.fail(e.to_string()))?);
        let attempts = self.attempts.max(1);
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 0..attempts {
            let mut req =
                http::Request::post(uri.clone()).header("content-type", "application/json");
            for (k, v) in &self.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let req = req
                .body(Full::new(body.clone()))
                .map_err(|e| self.fail(format!("invalid header: {e}")))?;
            let outcome = tokio::time::timeout(self.timeout, async {
                let resp = client.request(req).await?;
                let status = resp.status().as_u16();
                // Drain the body so the connection can be reused; its text helps a 4xx report.
                let text = resp
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                Ok::<_, hyper_util::client::legacy::Error>((status, text))
            })
            .await;
            let retryable = match outcome {
                Ok(Ok((status, _))) if (200..300).contains(&status) => return Ok(status),
                Ok(Ok((status, text))) => {
                    // Redacted whole before cutting, so no half secret survives the cut.
                    let body =
                        crate::script::redact::redact_tokens(&String::from_utf8_lossy(&text));
                    let snippet: String = body.chars().take(200).collect();
                    last = format!("the receiver answered {status}: {}", snippet.trim());
                    status >= 500 || status == 429
                }
                Ok(Err(e)) => {
                    last = format!("request failed: {}", source_chain(&e));
                    true
                }
                Err(_) => {
                    last = format!("no answer within {:?}", self.timeout);
                    true
                }
            };
            if !retryable {
                return Err(self.fail(last));
            }
            if attempt + 1 < attempts {
                tracing::debug!(url = %self.url, attempt, cause = %last, "retrying webhook");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
        Err(self.fail(format!("gave up after {attempts} attempts: {last}")))
    }
}

fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// The operating system's trust roots, as rustls-native-certs would find them
/// (the Debian bundle path); empty when none is installed.
fn rustls_native_roots() -> Vec<rustls_pki_types::CertificateDer<'static>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let candidates = [
        std::env::var("SSL_CERT_FILE").unwrap_or_default(),
        "/etc/ssl/certs/ca-certificates.crt".to_owned(),
        "/etc/pki/tls/certs/ca-bundle.crt".to_owned(),
    ];
    for path in candidates.iter().filter(|p| !p.is_empty()) {
        if let Ok(pem) = std::fs::read(path) {
            return CertificateDer::pem_slice_iter(&pem)
                .filter_map(Result::ok)
                .collect();
        }
    }
    Vec::new()
}
