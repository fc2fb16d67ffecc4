//! `teams[]`: the identity provider each team logs in with and the clusters it
//! works on, listed by name or chosen by label selector.

use std::collections::{BTreeSet, HashMap};

use super::{Checker, check_duplicates, check_name, check_namespace, list_or_none, opt_pos, pos};
use crate::catalog::raw::RawCatalog;
use crate::catalog::{Cluster, IdentityProvider, Team, TeamCluster};
use kubectl_kit::selector::{SelectorExt as _, parse_label_selector};

pub(super) fn check_teams(
    raw: &RawCatalog,
    idps: &[IdentityProvider],
    clusters: &[Cluster],
    ck: &mut Checker,
) -> Vec<Team> {
    let list = raw.teams.as_deref().unwrap_or_default();
    if list.is_empty() {
        ck.error(
            "teams",
            None,
            "no team is defined; add at least one with name and clusters",
        );
    }
    check_duplicates(
        list.iter()
            .enumerate()
            .filter_map(|(i, t)| t.value.name.as_ref().map(|n| (i, n))),
        "teams",
        "team",
        ck,
    );
    let raw_idp_names: BTreeSet<&str> = raw
        .identity_providers
        .iter()
        .flatten()
        .filter_map(|p| p.value.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let raw_cluster_names: BTreeSet<&str> = raw
        .clusters
        .iter()
        .flatten()
        .filter_map(|c| c.value.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let t = &item.value;
        let path = format!("teams[{i}]");
        let at = pos(item);
        let name = ck.required(&t.name, &format!("{path}.name"), at, "name");
        if let Some(name) = name {
            check_name(name, &format!("{path}.name"), opt_pos(&t.name), ck);
        }
        let idp = match &t.identity_provider {
            Some(p) if raw_idp_names.contains(p.value.as_str()) => Some(p.value.clone()),
            Some(p) => {
                ck.error(
                    &format!("{path}.identityProvider"),
                    pos(p),
                    format!(
                        "unknown identity provider {:?} (defined: {})",
                        p.value,
                        list_or_none(raw_idp_names.iter().copied())
                    ),
                );
                None
            }
            None if raw_idp_names.len() == 1 => raw_idp_names.iter().next().map(|s| s.to_string()),
            None => {
                ck.error(
                    &format!("{path}.identityProvider"),
                    at,
                    "identityProvider is missing; it is required when the catalog defines more than one",
                );
                None
            }
        };
        let team_ns = check_namespace(&t.namespace, &format!("{path}.namespace"), ck);
        let entries = t.clusters.as_deref().unwrap_or_default();
        if entries.is_empty() {
            ck.error(&format!("{path}.clusters"), at, "the team lists no cluster");
        }
        // Clusters keep the order they are listed in; a cluster named
        // explicitly takes that entry's namespace even if a selector listed it first.
        let mut chosen: Vec<(TeamCluster, bool)> = Vec::new();
        let mut explicit: HashMap<&str, usize> = HashMap::new();
        let add = |chosen: &mut Vec<(TeamCluster, bool)>, tc: TeamCluster, is_explicit: bool| {
            match chosen.iter_mut().find(|(c, _)| c.cluster == tc.cluster) {
                Some(existing) if is_explicit && !existing.1 => *existing = (tc, true),
                Some(_) => {}
                None => chosen.push((tc, is_explicit)),
            }
        };
        for (j, entry) in entries.iter().enumerate() {
            let e = &entry.value;
            let epath = format!("{path}.clusters[{j}]");
            let ns = check_namespace(&e.namespace, &format!("{epath}.namespace"), ck);
            match (&e.name, &e.selector) {
                (Some(n), None) => {
                    if let Some(first) = explicit.get(n.value.as_str()) {
                        ck.error(
                            &format!("{epath}.name"),
                            pos(n),
                            format!(
                                "cluster {:?} is listed twice (first at {path}.clusters[{first}])",
                                n.value
                            ),
                        );
                    } else if !raw_cluster_names.contains(n.value.as_str()) {
                        ck.error(
                            &epath,
                            pos(entry),
                            format!(
                                "unknown cluster {:?} (defined: {})",
                                n.value,
                                list_or_none(raw_cluster_names.iter().copied())
                            ),
                        );
                    } else {
                        explicit.insert(&n.value, j);
                        let tc = TeamCluster {
                            cluster: n.value.clone(),
                            namespace: ns.or_else(|| team_ns.clone()),
                        };
                        add(&mut chosen, tc, true);
                    }
                }
                (None, Some(s)) => match parse_team_selector(&s.value) {
                    Ok(sel) => {
                        let matching: Vec<&Cluster> =
                            clusters.iter().filter(|c| sel.matches(&c.labels)).collect();
                        if matching.is_empty() {
                            ck.warn(
                                &format!("{epath}.selector"),
                                pos(s),
                                format!("selector {:?} matches no cluster", s.value),
                            );
                        }
                        for c in matching {
                            let tc = TeamCluster {
                                cluster: c.name.clone(),
                                namespace: ns.clone().or_else(|| team_ns.clone()),
                            };
                            add(&mut chosen, tc, false);
                        }
                    }
                    Err(err) => ck.error(&format!("{epath}.selector"), pos(s), err.to_string()),
                },
                (Some(_), Some(_)) => {
                    ck.error(&epath, pos(entry), "give either name or selector, not both")
                }
                (None, None) => ck.error(
                    &epath,
                    pos(entry),
                    "give a cluster name or a label selector",
                ),
            }
        }
        let mut chosen: Vec<TeamCluster> = chosen.into_iter().map(|(c, _)| c).collect();
        // Fall back to the cluster's own default namespace.
        for tc in &mut chosen {
            if tc.namespace.is_none() {
                tc.namespace = clusters
                    .iter()
                    .find(|c| c.name == tc.cluster)
                    .and_then(|c| c.namespace.clone());
            }
        }
        if let (Some(name), Some(idp)) = (name, idp) {
            out.push(Team {
                name: name.to_string(),
                identity_provider: idp,
                clusters: chosen,
            });
        }
    }
    let _ = idps;
    out
}

/// A team's cluster selector: the kit's label selector, except that an empty
/// one is a mistake here (it would pick every cluster).
fn parse_team_selector(
    text: &str,
) -> Result<kubectl_kit::selector::Selector, kubectl_kit::selector::SelectorError> {
    if text.trim().is_empty() {
        return Err(kubectl_kit::selector::SelectorError {
            kind: "label",
            selector: text.to_string(),
            reason: "it is empty; write e.g. \"env=prod\" or \"region in (eu,us)\"".into(),
        });
    }
    parse_label_selector(text)
}
