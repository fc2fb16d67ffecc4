//! An answer's status and body, and a request's body, the same for the
//! direct HTTP client and the kube client.

use std::time::Duration;

use http_body_util::BodyExt as _;

use super::error::error_chain;

/// An answer's status and body, whatever the transport.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: ReplyBody,
}

pub(crate) enum ReplyBody {
    Http(reqwest::Response),
    Kube(kube::client::Body),
}

impl ReplyBody {
    pub(crate) async fn chunk(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self {
            ReplyBody::Http(r) => r
                .chunk()
                .await
                .map(|c| c.map(|b| b.to_vec()))
                .map_err(|e| error_chain(&e)),
            ReplyBody::Kube(body) => loop {
                match body.frame().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(error_chain(&e)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data.to_vec()));
                        }
                    }
                }
            },
        }
    }

    pub(crate) async fn bytes(mut self) -> Result<Vec<u8>, String> {
        let mut all = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }
}

/// A request body, gzip-encoded or not.
pub(crate) struct Upload {
    pub(crate) bytes: Vec<u8>,
    pub(crate) gzip: bool,
}

/// The `Retry-After` seconds of an answer.
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
