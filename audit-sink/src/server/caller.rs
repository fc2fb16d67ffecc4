//! Who is calling: the bearer token, the client certificate chain and the
//! peer's address a request carries, and the check that it may search.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use axum::response::Response;

use super::AppState;
use super::reply::unauthorized;
use crate::auth::PeerCerts;
/// The peer's address.
#[derive(Clone, Copy, Debug)]
pub struct RemoteAddr(pub SocketAddr);

/// The bearer token of the `Authorization` header.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The client certificate chain (TLS) and address of the request's peer.
pub(super) fn peer_of(req_ext: &http::Extensions) -> (PeerCerts, Option<SocketAddr>) {
    (
        req_ext.get::<PeerCerts>().cloned().unwrap_or_default(),
        req_ext.get::<RemoteAddr>().map(|r| r.0),
    )
}

/// Whether the caller may search; otherwise the 401 answer.
pub(super) fn search_auth(
    st: &AppState,
    headers: &HeaderMap,
    ext: &http::Extensions,
) -> Result<(), Response> {
    let (peer, remote) = peer_of(ext);
    if st.search.allows(bearer(headers), &peer) {
        Ok(())
    } else {
        tracing::warn!(remote = ?remote, "unauthenticated search refused");
        Err(unauthorized("search"))
    }
}
