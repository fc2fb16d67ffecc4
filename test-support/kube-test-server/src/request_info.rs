//! Turns a request path into what the apiserver's `RequestInfoFactory` makes of
//! it: a non-resource path, or a resource request with its verb, API group,
//! namespace, resource, name and subresource.

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResourceRequest {
    pub(crate) verb: String,
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) namespace: String,
    pub(crate) resource: String,
    pub(crate) name: String,
    pub(crate) subresource: String,
    /// For `proxy` subresources: the path after `.../proxy`, starting with `/`.
    pub(crate) rest: String,
}

impl ResourceRequest {
    /// `resource/subresource`, as RBAC names it.
    pub(crate) fn rbac_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RequestInfo {
    NonResource,
    Resource(ResourceRequest),
}

const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

pub(crate) fn parse(method: &http::Method, path: &str, watch: bool) -> RequestInfo {
    let trailing_slash = path.ends_with('/') && path.len() > 1;
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, mut current): (&str, &str, &[&str]) = match parts.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => ("", version, rest),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => (group, version, rest),
        _ => return RequestInfo::NonResource,
    };

    let mut namespace = "";
    if current[0] == "namespaces" && current.len() > 1 {
        namespace = current[1];
        if current.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&current[2]) {
            current = &current[2..];
        }
    }

    let resource = current[0];
    let name = current.get(1).copied().unwrap_or("");
    let subresource = current.get(2).copied().unwrap_or("");
    let rest = if current.len() > 3 {
        let mut r = format!("/{}", current[3..].join("/"));
        if trailing_slash {
            r.push('/');
        }
        r
    } else if subresource.is_empty() {
        String::new()
    } else {
        "/".to_string()
    };

    let verb = match *method {
        http::Method::GET | http::Method::HEAD => {
            if watch {
                "watch"
            } else if name.is_empty() {
                "list"
            } else {
                "get"
            }
        }
        http::Method::POST => "create",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE => {
            if name.is_empty() {
                "deletecollection"
            } else {
                "delete"
            }
        }
        _ => "",
    };

    RequestInfo::Resource(ResourceRequest {
        verb: verb.to_string(),
        group: group.to_string(),
        version: version.to_string(),
        namespace: namespace.to_string(),
        resource: resource.to_string(),
        name: name.to_string(),
        subresource: subresource.to_string(),
        rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn res(method: Method, path: &str) -> ResourceRequest {
        match parse(&method, path, false) {
            RequestInfo::Resource(r) => r,
            RequestInfo::NonResource => panic!("{path} parsed as non-resource"),
        }
    }

    #[test]
    fn non_resource_paths() {
        for p in [
            "/version",
            "/api",
            "/api/v1",
            "/apis",
            "/apis/authentication.k8s.io/v1",
            "/healthz",
        ] {
            assert_eq!(
                parse(&Method::GET, p, false),
                RequestInfo::NonResource,
                "{p}"
            );
        }
    }

    #[test]
    fn namespaced_get_and_list() {
        let r = res(Method::GET, "/api/v1/namespaces/prod/secrets/db");
        assert_eq!(
            (
                r.verb.as_str(),
                r.namespace.as_str(),
                r.resource.as_str(),
                r.name.as_str()
            ),
            ("get", "prod", "secrets", "db")
        );
        let r = res(Method::GET, "/api/v1/namespaces/prod/secrets");
        assert_eq!((r.verb.as_str(), r.name.as_str()), ("list", ""));
        let r = res(Method::GET, "/api/v1/secrets");
        assert_eq!((r.verb.as_str(), r.namespace.as_str()), ("list", ""));
    }

    #[test]
    fn namespaces_themselves() {
        let r = res(Method::GET, "/api/v1/namespaces/prod");
        assert_eq!(
            (r.resource.as_str(), r.name.as_str(), r.namespace.as_str()),
            ("namespaces", "prod", "prod")
        );
        let r = res(Method::GET, "/api/v1/namespaces");
        assert_eq!(
            (r.verb.as_str(), r.resource.as_str()),
            ("list", "namespaces")
        );
    }

    #[test]
    fn subresources_and_proxy_paths() {
        let r = res(
            Method::POST,
            "/api/v1/namespaces/ns/serviceaccounts/ci/token",
        );
        assert_eq!(
            (r.verb.as_str(), r.rbac_resource().as_str(), r.name.as_str()),
            ("create", "serviceaccounts/token", "ci")
        );
        let r = res(
            Method::GET,
            "/api/v1/namespaces/ns/services/https:sink:8443/proxy/api/v1/search/",
        );
        assert_eq!(r.name, "https:sink:8443");
        assert_eq!(r.rest, "/api/v1/search/");
        let r = res(Method::GET, "/api/v1/namespaces/ns/services/sink/proxy");
        assert_eq!(r.rest, "/");
        let r = res(
            Method::POST,
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        );
        assert_eq!(
            (r.group.as_str(), r.resource.as_str(), r.verb.as_str()),
            ("authentication.k8s.io", "selfsubjectreviews", "create")
        );
    }
}
