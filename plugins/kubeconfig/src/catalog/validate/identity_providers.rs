//! `identityProviders[]`: issuer, client, secret reference, grant type and the
//! rest of what `kubectl oidc-login` gets.

use super::ca::check_ca;
use super::{BaseDir, Checker, check_duplicates, check_https_url, check_name, opt_pos, pos};
use crate::catalog::raw::RawCatalog;
use crate::catalog::{GRANT_TYPES, IdentityProvider, PKCE_METHODS, SecretRef};

pub(super) fn check_identity_providers(
    raw: &RawCatalog,
    base: &BaseDir,
    ck: &mut Checker,
) -> Vec<IdentityProvider> {
    let list = raw.identity_providers.as_deref().unwrap_or_default();
    if list.is_empty() {
        ck.error(
            "identityProviders",
            None,
            "no identity provider is defined; add at least one with name, issuerURL and clientID",
        );
    }
    check_duplicates(
        list.iter()
            .enumerate()
            .filter_map(|(i, p)| p.value.name.as_ref().map(|n| (i, n))),
        "identityProviders",
        "identity provider",
        ck,
    );
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let p = &item.value;
        let path = format!("identityProviders[{i}]");
        let at = pos(item);
        let name = ck.required(&p.name, &format!("{path}.name"), at, "name");
        if let Some(name) = name {
            check_name(name, &format!("{path}.name"), opt_pos(&p.name), ck);
        }
        let issuer = ck
            .required(&p.issuer_url, &format!("{path}.issuerURL"), at, "issuerURL")
            .filter(|u| {
                check_https_url(
                    u,
                    &format!("{path}.issuerURL"),
                    opt_pos(&p.issuer_url),
                    "issuer URL",
                    ck,
                )
            });
        if let Some(u) = issuer.and_then(|u| url::Url::parse(u).ok())
            && (u.query().is_some() || u.fragment().is_some())
        {
            ck.error(
                &format!("{path}.issuerURL"),
                opt_pos(&p.issuer_url),
                "an OpenID Connect issuer URL has no query or fragment",
            );
        }
        let client_id = ck.required(&p.client_id, &format!("{path}.clientID"), at, "clientID");
        let client_secret = p.client_secret_ref.as_ref().and_then(|r| {
            let rpath = format!("{path}.clientSecretRef");
            match (&r.value.env, &r.value.file) {
                (Some(env), None) if !env.value.is_empty() => {
                    Some(SecretRef::Env(env.value.clone()))
                }
                (None, Some(file)) if !file.value.is_empty() => match base.resolve(&file.value) {
                    Ok(p) => Some(SecretRef::File(p)),
                    Err(e) => {
                        ck.error(&format!("{rpath}.file"), pos(file), e);
                        None
                    }
                },
                _ => {
                    ck.error(
                        &rpath,
                        pos(r),
                        "give exactly one of env (an environment variable name) or file (a path)",
                    );
                    None
                }
            }
        });
        let mut extra_scopes = Vec::new();
        for (j, scope) in p.extra_scopes.iter().flatten().enumerate() {
            let spath = format!("{path}.extraScopes[{j}]");
            if scope.value.is_empty() || scope.value.contains(char::is_whitespace) {
                ck.error(
                    &spath,
                    pos(scope),
                    format!("scope {:?} must be one word", scope.value),
                );
            } else if scope.value == "openid" {
                ck.warn(
                    &spath,
                    pos(scope),
                    "openid is always requested; no need to list it",
                );
            } else if extra_scopes.contains(&scope.value) {
                ck.warn(
                    &spath,
                    pos(scope),
                    format!("scope {:?} is listed twice", scope.value),
                );
            } else {
                extra_scopes.push(scope.value.clone());
            }
        }
        let grant_type = p.grant_type.as_ref().and_then(|g| {
            if GRANT_TYPES.contains(&g.value.as_str()) {
                (g.value != "auto").then(|| g.value.clone())
            } else {
                ck.error(
                    &format!("{path}.grantType"),
                    pos(g),
                    format!(
                        "unknown grant type {:?} (use one of {})",
                        g.value,
                        GRANT_TYPES.join(", ")
                    ),
                );
                None
            }
        });
        let pkce_method = p.pkce_method.as_ref().and_then(|m| {
            if PKCE_METHODS.contains(&m.value.as_str()) {
                Some(m.value.clone())
            } else {
                ck.error(
                    &format!("{path}.pkceMethod"),
                    pos(m),
                    format!(
                        "unknown PKCE method {:?} (use one of {})",
                        m.value,
                        PKCE_METHODS.join(", ")
                    ),
                );
                None
            }
        });
        let redirect_url = p
            .redirect_url
            .as_ref()
            .and_then(|r| match url::Url::parse(&r.value) {
                Ok(_) => Some(r.value.clone()),
                Err(e) => {
                    ck.error(
                        &format!("{path}.redirectURL"),
                        pos(r),
                        format!("redirect URL {:?} is not a valid URL: {e}", r.value),
                    );
                    None
                }
            });
        let mut listen_addresses = Vec::new();
        for (j, addr) in p.listen_addresses.iter().flatten().enumerate() {
            let valid = addr
                .value
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if valid {
                listen_addresses.push(addr.value.clone());
            } else {
                ck.error(
                    &format!("{path}.listenAddresses[{j}]"),
                    pos(addr),
                    format!(
                        "listen address {:?} must be HOST:PORT, e.g. 127.0.0.1:8000",
                        addr.value
                    ),
                );
            }
        }
        let mut extra_args = Vec::new();
        for (j, arg) in p.extra_args.iter().flatten().enumerate() {
            if arg.value.starts_with("--") {
                extra_args.push(arg.value.clone());
            } else {
                ck.error(
                    &format!("{path}.extraArgs[{j}]"),
                    pos(arg),
                    format!(
                        "extra argument {:?} must be a flag written as --name=value",
                        arg.value
                    ),
                );
            }
        }
        let ca = check_ca(
            &p.certificate_authority,
            &format!("{path}.certificateAuthority"),
            base,
            ck,
        );
        if let (Some(name), Some(issuer), Some(client_id)) = (name, issuer, client_id) {
            out.push(IdentityProvider {
                name: name.to_string(),
                issuer_url: issuer.to_string(),
                client_id: client_id.to_string(),
                client_secret,
                extra_scopes,
                grant_type,
                pkce_method,
                redirect_url,
                listen_addresses,
                auth_request_extra_params: p.auth_request_extra_params.clone().unwrap_or_default(),
                use_access_token: p.use_access_token.unwrap_or(false),
                certificate_authority_pem: ca,
                provide_cluster_info: p.provide_cluster_info.unwrap_or(false),
                extra_args,
            });
        }
    }
    out
}
