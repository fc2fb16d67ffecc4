//! Request-header settings read from ConfigMap
//! `kube-system/extension-apiserver-authentication` are read again every
//! [`INTERVAL`], and soon after a front-proxy certificate fails to verify
//! (at most every [`NUDGE_SPACING`]), so a rotated front-proxy CA is
//! picked up without a restart. A failed read keeps the settings in use.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::auth::{RequestHeaderAuth, RequestHeaderSettings};

/// How often the ConfigMap is read again.
pub(crate) const INTERVAL: Duration = Duration::from_secs(60);
/// Least time between reads asked for by unverified certificates.
pub(crate) const NUDGE_SPACING: Duration = Duration::from_secs(5);

/// The authenticator in use, replaced when the ConfigMap changes.
pub(crate) struct Authn {
    current: RwLock<Arc<RequestHeaderAuth>>,
    nudge: Notify,
    refreshing: bool,
}

impl Authn {
    /// Settings that never change (the `--requestheader-*` flags).
    pub(crate) fn fixed(auth: RequestHeaderAuth) -> Arc<Authn> {
        Arc::new(Authn {
            current: RwLock::new(Arc::new(auth)),
            nudge: Notify::new(),
            refreshing: false,
        })
    }

    /// Settings read from the cluster with `client`, read again until `stop`.
    pub(crate) fn refreshing(
        auth: RequestHeaderAuth,
        settings: RequestHeaderSettings,
        client: kube::Client,
        mut stop: watch::Receiver<bool>,
    ) -> Arc<Authn> {
        let a = Arc::new(Authn {
            current: RwLock::new(Arc::new(auth)),
            nudge: Notify::new(),
            refreshing: true,
        });
        let weak = Arc::downgrade(&a);
        tokio::spawn(async move {
            let mut in_use = settings;
            let mut last = tokio::time::Instant::now();
            loop {
                let Some(a) = weak.upgrade() else { return };
                let nudged = async {
                    a.nudge.notified().await;
                    tokio::time::sleep_until(last + NUDGE_SPACING).await;
                };
                tokio::select! {
                    () = tokio::time::sleep_until(last + INTERVAL) => {}
                    () = nudged => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                last = tokio::time::Instant::now();
                let read = RequestHeaderSettings::from_cluster(client.clone())
                    .await
                    .and_then(|s| RequestHeaderAuth::new(&s).map(|auth| (s, auth)));
                match read {
                    Ok((s, _)) if same(&s, &in_use) => {}
                    Ok((s, auth)) => {
                        tracing::info!(
                            origin = %s.origin,
                            "request-header settings changed (front-proxy CA or names); using the new ones"
                        );
                        *a.current.write().expect("authn lock") = Arc::new(auth);
                        in_use = s;
                    }
                    Err(e) => tracing::warn!(
                        error = %super::chain(&e),
                        "reading the request-header settings again failed; keeping those in use"
                    ),
                }
            }
        });
        a
    }

    /// The authenticator in use.
    pub(crate) fn get(&self) -> Arc<RequestHeaderAuth> {
        self.current.read().expect("authn lock").clone()
    }

    /// A certificate did not verify: perhaps the CA was rotated.
    pub(crate) fn unverified(&self) {
        if self.refreshing {
            self.nudge.notify_one();
        }
    }
}

fn same(a: &RequestHeaderSettings, b: &RequestHeaderSettings) -> bool {
    a.client_ca_pem == b.client_ca_pem
        && a.allowed_names == b.allowed_names
        && a.username_headers == b.username_headers
        && a.group_headers == b.group_headers
        && a.extra_headers_prefixes == b.extra_headers_prefixes
}
