//! One request, start to finish: authenticate, authorize, inject faults,
//! route to discovery or a verb, answer, and record it in the request log.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::auth::{self, Target};
use super::crud::{self, ListOptions, PatchKind, Preconditions, WriteContext};
use super::discovery;
use super::faults::{Fault, FaultConfig};
use super::objects;
use super::openapi;
use super::requestlog::{RequestLog, RequestRecord};
use super::resource_version;
use super::resources::Resource;
use super::review;
use super::route::{self, NonResource, Route};
use super::status::ApiError;
use super::store::Store;
use super::table;
use super::watch::{self, WatchRequest};

/// kube-apiserver's request body cap (3 MiB, `MaxRequestBodyBytes`).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Everything a request handler shares.
pub struct ApiServer {
    // (Debug is implemented by hand: the admin token must not be printed.)
    pub store: Arc<Store>,
    pub admin_token: String,
    pub faults: RwLock<FaultConfig>,
    pub requests: RequestLog,
    pub server_url: String,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("server_url", &self.server_url)
            .finish_non_exhaustive()
    }
}

/// What becomes of a request: an answer, or a dropped connection (a fault).
pub enum Outcome {
    Respond(Response),
    DropConnection,
}

pub(super) fn json_response(code: u16, body: &Value) -> Response {
    // to_vec, not to_string: no intermediate String.
    bytes_response(code, serde_json::to_vec(body).unwrap_or_default())
}

/// A JSON body already serialised.
fn bytes_response(code: u16, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub(super) fn error_response(e: &ApiError) -> Response {
    let mut resp = json_response(e.code, &e.to_status());
    if let Some(secs) = e.retry_after()
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn text_response(code: StatusCode, text: &'static str) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The field manager of a non-apply write: `fieldManager`, else the
/// user agent's first word, as apiserver's prefixFromUserAgent.
fn manager_for(query: &HashMap<String, String>, user_agent: &str) -> String {
    if let Some(m) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    user_agent
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

fn dry_run(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    match query.get("dryRun").map(String::as_str) {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: dryRun: Unsupported value: \"{other}\": supported values: \"All\""
        ))),
    }
}

fn is_watch(query: &HashMap<String, String>) -> bool {
    query.get("watch").is_some_and(|v| v == "true" || v == "1")
}

pub async fn handle(api: Arc<ApiServer>, req: Request<Body>) -> Outcome {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query: HashMap<String, String> = Query::try_from_uri(&parts.uri)
        .map(|q: Query<HashMap<String, String>>| q.0)
        .unwrap_or_default();
    let user_agent = header_str(&parts.headers, header::USER_AGENT).to_string();
    let route = route::parse(&path);

    let mut record = RequestRecord {
        method: parts.method.to_string(),
        path: path.clone(),
        query: raw_query,
        verb: parts.method.as_str().to_ascii_lowercase(),
        resource: None,
        namespace: None,
        name: None,
        user: String::new(),
        code: 0,
        user_agent: user_agent.clone(),
    };

    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    // x509 first, as kube-apiserver's authenticator union orders it; the
    // handshake already verified the certificate against the cluster CA.
    let client_cert = parts
        .extensions
        .get::<std::sync::Arc<axum_server::tls::TlsInfo>>()
        .and_then(|t| t.peer_certificates.first().cloned());
    let user = client_cert
        .as_deref()
        .and_then(auth::certificate_user)
        .or_else(|| auth::authenticate(authorization, &api.admin_token, &api.store));
    let Some(user) = user else {
        let e = ApiError::unauthorized();
        record.code = e.code;
        if !matches!(route, Route::Admin(_)) {
            api.requests.record(record);
        }
        return Outcome::Respond(error_response(&e));
    };
    record.user = user.name();

    if let Route::Admin(which) = route {
        return Outcome::Respond(
            super::admin::admin(&api, &user, which, &parts.method, body).await,
        );
    }

    let faults = api
        .faults
        .read()
        .map(|f| f.clone())
        .unwrap_or_else(|p| p.into_inner().clone());
    if faults.latency_ms > 0 {
        tokio::time::sleep(faults.latency()).await;
    }
    match faults.draw() {
        Fault::None => {}
        Fault::Drop => {
            record.code = 0;
            api.requests.record(record);
            return Outcome::DropConnection;
        }
        Fault::Error => {
            let e = ApiError::internal("injected fault: internal error");
            record.code = e.code;
            api.requests.record(record);
            return Outcome::Respond(error_response(&e));
        }
        Fault::Throttle(secs) => {
            let e = ApiError::too_many_requests(secs);
            record.code = e.code;
            api.requests.record(record);
            return Outcome::Respond(error_response(&e));
        }
    }

    let accept = header_str(&parts.headers, header::ACCEPT).to_string();
    let content_type = header_str(&parts.headers, header::CONTENT_TYPE).to_string();
    let content_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let resp = match route {
        Route::NotFound => text_response(StatusCode::NOT_FOUND, "404 page not found\n"),
        Route::UnknownApi => error_response(&ApiError::no_such_resource()),
        Route::NonResource(which) => match auth::authorize(&user, &Target::Path(&path)) {
            Err(e) => error_response(&e),
            Ok(()) if parts.method != Method::GET && parts.method != Method::HEAD => {
                error_response(&ApiError::method_not_allowed())
            }
            Ok(()) => non_resource(&api, which, &path),
        },
        Route::Collection {
            resource,
            namespace,
        } => {
            let verb = match parts.method {
                Method::GET if is_watch(&query) => "watch",
                Method::GET => "list",
                Method::POST if namespace.is_some() || !resource.namespaced() => "create",
                Method::DELETE => "deletecollection",
                _ => "",
            };
            note_resource(&mut record, verb, resource, namespace.clone(), None);
            let target = Target::Resource {
                verb,
                resource,
                namespace: namespace.as_deref().unwrap_or(""),
                name: None,
            };
            match authorized_body(&user, verb, &target, body, content_length).await {
                Err(resp) => resp,
                Ok(bytes) => {
                    collection(
                        &api,
                        &user,
                        verb,
                        resource,
                        namespace,
                        &query,
                        &bytes,
                        &content_type,
                        &user_agent,
                        &accept,
                    )
                    .await
                }
            }
        }
        Route::Object {
            resource,
            namespace,
            name,
        } => {
            let verb = match parts.method {
                Method::GET => "get",
                Method::PUT => "update",
                Method::PATCH => "patch",
                Method::DELETE => "delete",
                _ => "",
            };
            let ns = (!namespace.is_empty()).then(|| namespace.clone());
            note_resource(&mut record, verb, resource, ns, Some(name.clone()));
            let target = Target::Resource {
                verb,
                resource,
                namespace: &namespace,
                name: Some(&name),
            };
            match authorized_body(&user, verb, &target, body, content_length).await {
                Err(resp) => resp,
                Ok(bytes) => {
                    object(
                        &api,
                        verb,
                        resource,
                        &namespace,
                        &name,
                        &query,
                        &bytes,
                        &content_type,
                        &user_agent,
                        &accept,
                    )
                    .await
                }
            }
        }
        Route::Subresource {
            resource,
            name,
            sub,
        } => {
            let verb = match parts.method {
                Method::GET => "get",
                Method::PUT => "update",
                Method::PATCH => "patch",
                _ => "",
            };
            note_resource(&mut record, verb, resource, None, Some(name.clone()));
            let target = Target::Resource {
                verb,
                resource,
                namespace: "",
                name: Some(&name),
            };
            match authorized_body(&user, verb, &target, body, content_length).await {
                Err(resp) => resp,
                Ok(bytes) => {
                    subresource(
                        &api,
                        verb,
                        resource,
                        &name,
                        sub,
                        &query,
                        &bytes,
                        &content_type,
                        &user_agent,
                    )
                    .await
                }
            }
        }
        Route::Admin(_) => unreachable!("admin routes return above"),
        Route::SelfSubjectReview => {
            record.verb = "create".into();
            record.resource = Some("selfsubjectreviews".into());
            review::who_am_i(&user, &parts.method)
        }
        Route::SelfSubjectAccessReview => {
            record.verb = "create".into();
            record.resource = Some("selfsubjectaccessreviews".into());
            match read_body(body, content_length).await {
                Ok(bytes) => review::can_i(&user, &parts.method, &content_type, &bytes),
                Err(e) => error_response(&e),
            }
        }
    };
    record.code = resp.status().as_u16();
    api.requests.record(record);
    Outcome::Respond(resp)
}

/// Reads a body up to [`MAX_BODY`]. A larger one is read to its end (up to
/// [`DRAIN_LIMIT`]) and discarded, so the client gets its 413 instead of a
/// broken pipe while it is still writing.
/// Fills the request-log entry of a resource request. An unsupported method
/// (empty `verb`) keeps the entry's default verb.
fn note_resource(
    record: &mut RequestRecord,
    verb: &str,
    resource: Resource,
    namespace: Option<String>,
    name: Option<String>,
) {
    if !verb.is_empty() {
        record.verb = verb.to_string();
    }
    record.resource = Some(resource.plural().to_string());
    record.namespace = namespace;
    record.name = name;
}

/// The front half every resource verb shares: 405 for an unsupported method,
/// then authorization, then the (size-capped) body.
async fn authorized_body(
    user: &auth::User,
    verb: &str,
    target: &Target<'_>,
    body: Body,
    content_length: Option<usize>,
) -> Result<bytes::Bytes, Response> {
    if verb.is_empty() {
        return Err(error_response(&ApiError::method_not_allowed()));
    }
    auth::authorize(user, target).map_err(|e| error_response(&e))?;
    let bytes = read_body(body, content_length)
        .await
        .map_err(|e| error_response(&e))?;
    if let (Target::Resource { resource, .. }, "create") = (target, verb) {
        auth::admit_node_create(user, *resource, &bytes).map_err(|e| error_response(&e))?;
    }
    Ok(bytes)
}

pub(super) async fn read_body(
    body: Body,
    content_length: Option<usize>,
) -> Result<bytes::Bytes, ApiError> {
    use http_body_util::BodyExt;
    if content_length.is_some_and(|n| n > MAX_BODY) {
        drain(body).await;
        return Err(ApiError::too_large());
    }
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(ApiError::bad_request("error reading the request body"));
        };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            if buf.len() > MAX_BODY {
                drain(body).await;
                return Err(ApiError::too_large());
            }
        }
    }
    Ok(buf.freeze())
}

/// How much of an oversized body is read and thrown away before giving up on
/// the connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen > DRAIN_LIMIT {
                return;
            }
        }
    }
}

fn non_resource(api: &ApiServer, which: NonResource, path: &str) -> Response {
    match which {
        NonResource::Version => json_response(200, &discovery::version()),
        NonResource::Api => {
            let addr = api.server_url.trim_start_matches("https://").to_string();
            json_response(200, &discovery::core_versions(&addr))
        }
        NonResource::CoreV1 => json_response(200, &discovery::core_resources()),
        NonResource::Apis => json_response(200, &discovery::groups()),
        NonResource::CoordinationGroup => json_response(200, &discovery::coordination_group_doc()),
        NonResource::CoordinationV1 => json_response(200, &discovery::coordination_resources()),
        NonResource::CertificatesGroup => json_response(200, &discovery::certificates_group_doc()),
        NonResource::CertificatesV1 => json_response(200, &discovery::certificates_resources()),
        NonResource::ReviewGroup(g) => match discovery::review_group_doc(g) {
            Some(doc) => json_response(200, &doc),
            None => error_response(&ApiError::no_such_resource()),
        },
        NonResource::ReviewV1(g) => match discovery::review_resources(g) {
            Some(doc) => json_response(200, &doc),
            None => error_response(&ApiError::no_such_resource()),
        },
        NonResource::Health => text_response(StatusCode::OK, "ok"),
        NonResource::OpenApi => text_response(StatusCode::NOT_FOUND, "404 page not found\n"),
        NonResource::OpenApiV3Root => json_response(200, &openapi::root()),
        NonResource::OpenApiV3 => {
            let gv = path
                .trim_start_matches("/openapi/v3/")
                .trim_end_matches('/');
            match openapi::group_version(gv) {
                Some(doc) => json_response(200, &doc),
                None => text_response(StatusCode::NOT_FOUND, "404 page not found\n"),
            }
        }
    }
}

fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// kube's metadata API (`get_metadata`, `list_metadata`, `watch_metadata`).
fn wants_metadata(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=PartialObjectMetadata"))
}

fn answer(result: Result<(u16, Value), ApiError>) -> Response {
    match result {
        Ok((code, v)) => json_response(code, &v),
        Err(e) => error_response(&e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn collection(
    api: &Arc<ApiServer>,
    user: &auth::User,
    verb: &str,
    resource: Resource,
    namespace: Option<String>,
    query: &HashMap<String, String>,
    body: &[u8],
    content_type: &str,
    user_agent: &str,
    accept: &str,
) -> Response {
    let ns = namespace.as_deref().unwrap_or("");
    match verb {
        "watch" => match WatchRequest::parse(resource, namespace.clone(), query)
            .and_then(|w| resource_version::check_watch(query).map(|()| w))
        {
            Err(e) => error_response(&e),
            Ok(mut w) => {
                w.table = wants_table(accept);
                w.metadata_only = wants_metadata(accept);
                let rx = watch::start(api.store.clone(), w, api.shutdown.clone());
                let mut resp = Response::new(Body::from_stream(rx));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                resp
            }
        },
        "list" => match ListOptions::parse(resource, query)
            .and_then(|o| resource_version::check_list(query).map(|()| o))
        {
            Err(e) => error_response(&e),
            Ok(opts) => {
                let page = crud::list(&api.store, resource, namespace.as_deref(), &opts);
                if wants_table(accept) {
                    json_response(200, &table::from_list(&page))
                } else if wants_metadata(accept) {
                    json_response(
                        200,
                        &objects::as_partial_metadata_list(&page.metadata, &page.items),
                    )
                } else {
                    bytes_response(200, page.to_json())
                }
            }
        },
        "create" => {
            let ctx = match dry_run(query) {
                Ok(d) => WriteContext {
                    resource,
                    namespace: ns,
                    manager: manager_for(query, user_agent),
                    dry_run: d,
                },
                Err(e) => return error_response(&e),
            };
            let json = crud::body_as_json(resource, content_type, body).and_then(|json| {
                if resource == Resource::CertificateSigningRequests {
                    super::csr::prepare_create(user, &json)
                } else {
                    Ok(json)
                }
            });
            match json {
                Ok(json) => answer(crud::create(&api.store, &ctx, &json).await),
                Err(e) => error_response(&e),
            }
        }
        "deletecollection" => {
            let opts = match ListOptions::parse(resource, query) {
                Ok(o) => o,
                Err(e) => return error_response(&e),
            };
            let ctx = match dry_run(query) {
                Ok(d) => WriteContext {
                    resource,
                    namespace: ns,
                    manager: manager_for(query, user_agent),
                    dry_run: d,
                },
                Err(e) => return error_response(&e),
            };
            answer(crud::delete_collection(&api.store, &ctx, namespace.as_deref(), &opts).await)
        }
        _ => error_response(&ApiError::method_not_allowed()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn object(
    api: &Arc<ApiServer>,
    verb: &str,
    resource: Resource,
    namespace: &str,
    name: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    content_type: &str,
    user_agent: &str,
    accept: &str,
) -> Response {
    if verb == "get" {
        return match resource_version::check_get(query)
            .and_then(|()| crud::get(&api.store, resource, namespace, name))
        {
            Ok(obj) if wants_table(accept) => {
                json_response(200, &table::from_object(resource, &obj))
            }
            Ok(obj) if wants_metadata(accept) => {
                json_response(200, &objects::as_partial_metadata(&obj))
            }
            Ok(obj) => json_response(200, &obj),
            Err(e) => error_response(&e),
        };
    }
    let dry = match dry_run(query) {
        Ok(d) => d,
        Err(e) => return error_response(&e),
    };
    let mut ctx = WriteContext {
        resource,
        namespace,
        manager: manager_for(query, user_agent),
        dry_run: dry,
    };
    match verb {
        "update" => match crud::body_as_json(resource, content_type, body) {
            Ok(json) => answer(crud::update(&api.store, &ctx, name, &json).await),
            Err(e) => error_response(&e),
        },
        "patch" => match PatchKind::from_content_type(content_type, query) {
            Err(e) => error_response(&e),
            Ok(kind) => {
                if matches!(kind, PatchKind::Apply { .. }) {
                    // Apply names its manager explicitly; no user-agent fallback.
                    ctx.manager = query.get("fieldManager").cloned().unwrap_or_default();
                }
                answer(crud::patch(&api.store, &ctx, name, kind, body).await)
            }
        },
        // client-go (kubeadm) sends its DeleteOptions as protobuf; the proto
        // decoder knows only the served kinds, so such a body's options are
        // not read (docs/departures.md).
        "delete" => match if content_type.starts_with("application/vnd.kubernetes.protobuf") {
            Ok(Preconditions::default())
        } else {
            crud::body_as_json(resource, content_type, body)
                .and_then(|json| Preconditions::from_body(&json))
        } {
            Err(e) => error_response(&e),
            Ok(pre) => answer(crud::delete(&api.store, &ctx, name, &pre).await),
        },
        _ => error_response(&ApiError::method_not_allowed()),
    }
}

/// GET, PUT and PATCH on `approval` and `status`. A patch is applied to the
/// current object and written as a PUT, whose resourceVersion makes a
/// concurrent change a conflict rather than a lost update.
#[allow(clippy::too_many_arguments)]
async fn subresource(
    api: &Arc<ApiServer>,
    verb: &str,
    resource: Resource,
    name: &str,
    sub: &str,
    query: &HashMap<String, String>,
    body: &[u8],
    content_type: &str,
    user_agent: &str,
) -> Response {
    let current = match crud::get(&api.store, resource, "", name) {
        Ok(obj) => obj,
        Err(e) => return error_response(&e),
    };
    if verb == "get" {
        return json_response(200, &current);
    }
    let ctx = match dry_run(query) {
        Ok(d) => WriteContext {
            resource,
            namespace: "",
            manager: manager_for(query, user_agent),
            dry_run: d,
        },
        Err(e) => return error_response(&e),
    };
    let json = match verb {
        "update" => crud::body_as_json(resource, content_type, body).map(|b| b.to_vec()),
        _ => patched(&current, content_type, query, body),
    };
    match json {
        Ok(json) => answer(crud::update_subresource(&api.store, &ctx, name, sub, &json).await),
        Err(e) => error_response(&e),
    }
}

fn patched(
    current: &Value,
    content_type: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    use super::patch;
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut obj = current.clone();
    match PatchKind::from_content_type(content_type, query)? {
        PatchKind::Merge => patch::merge(&mut obj, &doc),
        PatchKind::Strategic => {
            patch::strategic_merge(&mut obj, &doc).map_err(ApiError::bad_request)?
        }
        PatchKind::Json => {
            patch::json_patch(&mut obj, &doc).map_err(|_| ApiError::json_patch_failed())?
        }
        PatchKind::Apply { .. } => return Err(ApiError::method_not_allowed()),
    }
    Ok(obj.to_string().into_bytes())
}
