//! Request routing: authenticate the caller, then hand the request to the
//! endpoint that answers it (discovery, reviews, tokens, the service proxy, or
//! the objects of a type), recording each request for the tests.

use std::sync::Arc;

use axum::body::Body;
use http::{Request, Response};
use hyper::body::Incoming;

use crate::auth::{API_AUDIENCE, User};
use crate::request_info::{self, RequestInfo, ResourceRequest};
use crate::state::{ClientIdentity, RecordedRequest, Shared};
use crate::status::ApiError;
use crate::wire::{
    bearer_token, error_response, json_response, query_param, read_object, text_response,
};
use crate::{access, aggregator, discovery, objects, openapi, tokens};

/// Who is calling: Ok(None) is anonymous, Err is a credential that was presented
/// but is not valid (401, as the apiserver answers even on public paths).
async fn authenticate(
    shared: &Shared,
    identity: Option<&ClientIdentity>,
    token: Option<&str>,
) -> Result<Option<User>, ()> {
    if let Some(identity) = identity {
        let (name, groups) = identity.as_ref();
        return Ok(Some(
            User::new(name.clone())
                .with_groups(groups.clone())
                .authenticated(),
        ));
    }
    let Some(token) = token else {
        return Ok(None);
    };
    tokens::authenticate_token(shared, token, &[API_AUDIENCE.to_string()])
        .await
        .map(|(user, _)| Some(user))
        .ok_or(())
}

/// Answers one request: authentication, routing, and a record of it.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    identity: Option<ClientIdentity>,
    req: Request<Incoming>,
) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let token = bearer_token(&req);

    let authn = authenticate(&shared, identity.as_ref(), token.as_deref()).await;
    let user = authn.clone().ok().flatten();
    let resp = match authn {
        Err(()) => error_response(&ApiError::unauthorized()),
        Ok(user) => route(&shared, user, req).await,
    };

    shared.lock().requests.push(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        user: user.map(|u| u.name),
        bearer_token_seen: token,
        status: resp.status().as_u16(),
    });
    resp
}

const PUBLIC_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version"];

async fn route(shared: &Shared, user: Option<User>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let watch = matches!(query_param(&query, "watch").as_deref(), Some("true" | "1"));
    let info = request_info::parse(req.method(), &path, watch);

    let Some(user) = user else {
        return if PUBLIC_PATHS.contains(&path.trim_end_matches('/')) {
            non_resource(shared, &path)
        } else {
            error_response(&ApiError::unauthorized())
        };
    };

    if let Some(backend) = aggregator::backend_for(shared, &path) {
        // As in kube-apiserver, the aggregator's own authorizer decides first;
        // the backend then authorizes again (SubjectAccessReview).
        if let RequestInfo::Resource(rr) = &info
            && let Err(e) = access::authorize_request(shared, &user, rr)
        {
            return error_response(&e);
        }
        return aggregator::forward(shared, &user, backend, req, &query).await;
    }

    match info {
        RequestInfo::NonResource => {
            if req.method() == http::Method::GET || req.method() == http::Method::HEAD {
                non_resource(shared, &path)
            } else {
                error_response(&ApiError::forbidden(
                    "",
                    "",
                    "",
                    format!(
                        "User {:?} cannot {} path {:?}",
                        user.name,
                        req.method().as_str().to_lowercase(),
                        path
                    ),
                ))
            }
        }
        RequestInfo::Resource(rr) => match resource_request(shared, &user, rr, req, &query).await {
            Ok(resp) => resp,
            Err(e) => error_response(&e),
        },
    }
}

fn non_resource(shared: &Shared, path: &str) -> Response<Body> {
    let path = path.trim_end_matches('/');
    let (types, aggregated) = {
        let inner = shared.lock();
        (
            inner.types.clone(),
            aggregator::aggregated_group_versions(&inner),
        )
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let doc = match parts.as_slice() {
        ["healthz"] | ["livez"] | ["readyz"] => return text_response("ok"),
        ["version"] => Some(discovery::version()),
        ["api"] => Some(discovery::api_versions(&shared.addr.to_string())),
        ["apis"] => Some(discovery::api_group_list(&types, &aggregated)),
        ["api", version] => discovery::api_resource_list(&types, "", version),
        ["apis", group] => discovery::api_group(&types, &aggregated, group),
        ["apis", group, version] => discovery::api_resource_list(&types, group, version),
        ["openapi", "v3"] => Some(openapi::index(&types)),
        ["openapi", "v3", gv @ ..] => openapi::group_version(&types, &gv.join("/")),
        _ => None,
    };
    match doc {
        Some(doc) => json_response(200, &doc),
        None => error_response(&ApiError::no_route()),
    }
}

async fn resource_request(
    shared: &Shared,
    user: &User,
    rr: ResourceRequest,
    req: Request<Incoming>,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    access::authorize_request(shared, user, &rr)?;

    match (
        rr.group.as_str(),
        rr.version.as_str(),
        rr.resource.as_str(),
        rr.subresource.as_str(),
    ) {
        ("authentication.k8s.io", "v1", "selfsubjectreviews", "") if rr.verb == "create" => {
            let _ = read_object(req).await?;
            Ok(json_response(201, &access::self_subject_review(user)))
        }
        ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "") if rr.verb == "create" => {
            let body = read_object(req).await?;
            Ok(json_response(
                201,
                &access::self_subject_access_review(shared, user, body),
            ))
        }
        ("authentication.k8s.io", "v1", "tokenreviews", "") if rr.verb == "create" => {
            let body = read_object(req).await?;
            Ok(json_response(
                201,
                &tokens::token_review(shared, body).await,
            ))
        }
        ("authorization.k8s.io", "v1", "subjectaccessreviews", "") if rr.verb == "create" => {
            let body = read_object(req).await?;
            Ok(json_response(
                201,
                &access::subject_access_review(shared, body),
            ))
        }
        ("", "v1", "serviceaccounts", "token") if rr.verb == "create" => {
            let body = read_object(req).await?;
            tokens::token_request(shared, &rr, body).map(|v| json_response(201, &v))
        }
        ("", "v1", "services", "proxy") => crate::proxy::forward(shared, &rr, req, query).await,
        (_, _, _, "") => {
            let rt = shared
                .lock()
                .types
                .iter()
                .find(|t| t.group == rr.group && t.version == rr.version && t.plural == rr.resource)
                .cloned()
                .ok_or_else(ApiError::no_route)?;
            objects::object_request(shared, &rt, &rr, req, query).await
        }
        _ => Err(ApiError::no_route()),
    }
}
