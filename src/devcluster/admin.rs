//! tokensmith's own admin-only endpoints: `/tokensmith/v1/faults` (fault
//! injection at run time) and `/tokensmith/v1/requests` (the request log).

use axum::body::Body;
use axum::http::Method;
use axum::response::Response;
use serde_json::json;

use super::api::{ApiServer, error_response, json_response, read_body};
use super::auth::User;
use super::faults::FaultConfig;
use super::route::Admin;
use super::status::ApiError;

/// `/tokensmith/v1/faults` and `/tokensmith/v1/requests`: admin only.
pub async fn admin(
    api: &ApiServer,
    user: &User,
    which: Admin,
    method: &Method,
    body: Body,
) -> Response {
    if *user != User::Admin {
        return error_response(&ApiError::forbidden(
            format!(
                "forbidden: User \"{}\" cannot {} path \"{}\"",
                user.name(),
                method.as_str().to_ascii_lowercase(),
                match which {
                    Admin::Faults => "/tokensmith/v1/faults",
                    Admin::Requests => "/tokensmith/v1/requests",
                }
            ),
            None,
            None,
        ));
    }
    match (which, method.clone()) {
        (Admin::Faults, Method::GET) => {
            let f = api
                .faults
                .read()
                .map(|f| f.clone())
                .unwrap_or_else(|p| p.into_inner().clone());
            json_response(200, &serde_json::to_value(f).unwrap_or_default())
        }
        (Admin::Faults, Method::PUT) => {
            let bytes = match read_body(body, None).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            let cfg: FaultConfig = match serde_json::from_slice(&bytes) {
                Ok(c) => c,
                Err(e) => {
                    return error_response(&ApiError::bad_request(format!(
                        "invalid fault configuration: {e}"
                    )));
                }
            };
            if let Err(e) = cfg.validate() {
                return error_response(&ApiError::bad_request(format!(
                    "invalid fault configuration: {e}"
                )));
            }
            match api.faults.write() {
                Ok(mut g) => *g = cfg.clone(),
                Err(p) => *p.into_inner() = cfg.clone(),
            }
            tracing::info!(?cfg, "dev cluster faults changed");
            json_response(200, &serde_json::to_value(cfg).unwrap_or_default())
        }
        (Admin::Requests, Method::GET) => json_response(200, &api.requests.to_json()),
        (Admin::Requests, Method::DELETE) => {
            api.requests.reset();
            json_response(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
            )
        }
        _ => error_response(&ApiError::method_not_allowed()),
    }
}
