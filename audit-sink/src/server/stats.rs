//! `GET /v1/stats`: counts of matching events, by a field's values and over
//! time buckets.

use audit_api::api::{ErrorBody, StatsParams};
use audit_api::fields::Field;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::read::{begin, from_index};
use super::reply::error;

/// `GET /v1/stats`.
pub(super) async fn stats(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: http::Extensions,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Response {
    let (p, query, since, until) = match begin(&st, &headers, &ext, params) {
        Ok(r) => (r.params, r.query, r.since, r.until),
        Err(r) => return r,
    };
    let by = match p.by.as_deref().filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => match Field::from_name(b) {
            Some(f) => Some(f),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    ErrorBody::new(
                        "bad_request",
                        format!(
                            "by: unknown field `{b}`; use one of {}",
                            audit_api::fields::field_names().join(", ")
                        ),
                    ),
                );
            }
        },
    };
    let interval = match p.interval.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match audit_api::time::parse_duration(s) {
            Ok(d) if d.as_secs() > 0 => Some(d.as_micros() as i64),
            parsed => {
                let why = match parsed {
                    Err(e) => e.to_string(),
                    Ok(_) => format!("{s:?} is shorter than a second; write 1s or more"),
                };
                return error(
                    StatusCode::BAD_REQUEST,
                    ErrorBody::new("bad_request", format!("interval: {why}")),
                );
            }
        },
    };
    let top = p.top.unwrap_or(10).clamp(1, 10_000);
    let found = from_index(&st.sink.shared, move |s| {
        s.parts.stats(&query, since, until, by, top, interval)
    })
    .await;
    match found {
        Ok(s) => axum::Json(s).into_response(),
        Err(r) => r,
    }
}
