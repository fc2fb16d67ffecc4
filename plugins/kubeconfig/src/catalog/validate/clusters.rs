//! `clusters[]`: server, certificate authority, TLS name, proxy, namespace and
//! labels.

use std::collections::BTreeMap;

use super::ca::check_ca;
use super::{
    BaseDir, Checker, check_duplicates, check_https_url, check_name, check_namespace, opt_pos, pos,
};
use crate::catalog::Cluster;
use crate::catalog::raw::RawCatalog;
use kubectl_kit::selector::{check_label_key, check_label_value};

pub(super) fn check_clusters(raw: &RawCatalog, base: &BaseDir, ck: &mut Checker) -> Vec<Cluster> {
    let list = raw.clusters.as_deref().unwrap_or_default();
    if list.is_empty() {
        ck.error(
            "clusters",
            None,
            "no cluster is defined; add at least one with name and server",
        );
    }
    check_duplicates(
        list.iter()
            .enumerate()
            .filter_map(|(i, c)| c.value.name.as_ref().map(|n| (i, n))),
        "clusters",
        "cluster",
        ck,
    );
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let c = &item.value;
        let path = format!("clusters[{i}]");
        let at = pos(item);
        let name = ck.required(&c.name, &format!("{path}.name"), at, "name");
        if let Some(name) = name {
            check_name(name, &format!("{path}.name"), opt_pos(&c.name), ck);
        }
        let server = ck
            .required(&c.server, &format!("{path}.server"), at, "server")
            .filter(|s| {
                check_https_url(
                    s,
                    &format!("{path}.server"),
                    opt_pos(&c.server),
                    "server URL",
                    ck,
                )
            });
        let ca = check_ca(
            &c.certificate_authority,
            &format!("{path}.certificateAuthority"),
            base,
            ck,
        );
        let tls_server_name = c.tls_server_name.as_ref().and_then(|t| {
            let valid = !t.value.is_empty()
                && t.value
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '.' | '*'));
            if valid {
                Some(t.value.clone())
            } else {
                ck.error(
                    &format!("{path}.tlsServerName"),
                    pos(t),
                    format!("{:?} is not a DNS name", t.value),
                );
                None
            }
        });
        let proxy_url = c.proxy_url.as_ref().and_then(|p| match url::Url::parse(&p.value) {
            Ok(u) if matches!(u.scheme(), "http" | "https" | "socks5") && u.host_str().is_some() => {
                Some(p.value.clone())
            }
            Ok(u) => {
                ck.error(
                    &format!("{path}.proxyURL"),
                    pos(p),
                    format!("proxy URL {:?} must use http, https or socks5 and name a host (found {}://)", p.value, u.scheme()),
                );
                None
            }
            Err(e) => {
                ck.error(
                    &format!("{path}.proxyURL"),
                    pos(p),
                    format!("proxy URL {:?} is not a valid URL: {e}", p.value),
                );
                None
            }
        });
        let namespace = check_namespace(&c.namespace, &format!("{path}.namespace"), ck);
        let mut labels = BTreeMap::new();
        for (key, value) in c.labels.iter().flatten() {
            let lpath = format!("{path}.labels.{key}");
            if let Err(e) = check_label_key(key).and_then(|_| check_label_value(&value.value)) {
                ck.error(&lpath, pos(value), e.to_string());
            } else {
                labels.insert(key.clone(), value.value.clone());
            }
        }
        if let (Some(name), Some(server)) = (name, server) {
            out.push(Cluster {
                name: name.to_string(),
                server: server.to_string(),
                certificate_authority_pem: ca,
                tls_server_name,
                proxy_url,
                namespace,
                labels,
            });
        }
    }
    out
}
