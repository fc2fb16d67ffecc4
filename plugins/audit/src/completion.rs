//! Dynamic shell completion (`kubectl audit <TAB>` through kubectl's plugin
//! completion): query field names for the QUERY argument, groupable fields for
//! `--by`, kubectl resource names, verbs, stages and response classes.

use kubectl_kit::completion::{Candidate, Request, Target};

use crate::filters::STAGES;
use crate::resources::RESOURCES;

const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
];

/// Candidates for what the kit cannot know; `None` falls back to its built-in ones.
pub fn dynamic(request: &Request) -> Option<Vec<Candidate>> {
    match request.target() {
        Target::Positional { id, .. } if id == "query" => Some(
            audit_api::FIELDS
                .iter()
                .map(|f| Candidate::with_help(format!("{}:", f.name), f.example))
                .collect(),
        ),
        Target::Positional { id, .. } if id == "object" => Some(
            RESOURCES
                .iter()
                .map(|r| format!("{}/", r.short.first().copied().unwrap_or(r.singular)).into())
                .collect(),
        ),
        Target::FlagValue { id } => match id.as_str() {
            "by" => Some(
                audit_api::FIELDS
                    .iter()
                    .filter(|f| f.groupable)
                    .map(|f| Candidate::with_help(f.name, f.source))
                    .collect(),
            ),
            "resource" => Some(
                RESOURCES
                    .iter()
                    .flat_map(|r| std::iter::once(r.plural).chain(r.short.iter().copied()))
                    .map(Candidate::from)
                    .collect(),
            ),
            "verb" => Some(VERBS.iter().map(|v| Candidate::from(*v)).collect()),
            "stage" => Some(STAGES.iter().map(|s| Candidate::from(*s)).collect()),
            "status" => Some(
                [
                    "2xx", "3xx", "4xx", "5xx", "401", "403", "404", "409", "422", "429", "500",
                ]
                .into_iter()
                .map(Candidate::from)
                .collect(),
            ),
            "subresource" => Some(
                [
                    "exec",
                    "attach",
                    "portforward",
                    "log",
                    "status",
                    "scale",
                    "proxy",
                    "eviction",
                    "token",
                ]
                .into_iter()
                .map(Candidate::from)
                .collect(),
            ),
            // `--user` filters events here; the kubeconfig user is --kube-user.
            "user" | "group" | "name" => Some(Vec::new()),
            _ => None,
        },
        _ => None,
    }
}
