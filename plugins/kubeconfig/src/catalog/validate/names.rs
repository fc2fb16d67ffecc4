//! The names the naming templates generate: no two teams or clusters may get
//! the same context, and one user or cluster name must not stand for two
//! entries.

use std::collections::{BTreeSet, HashMap};

use super::{Checker, opt_pos};
use crate::catalog::Catalog;
use crate::catalog::raw::RawCatalog;
use crate::template::Names;

/// Two teams or clusters must not produce the same context name, and one user
/// or cluster name must not stand for two different entries.
pub(super) fn check_generated_names(catalog: &Catalog, raw: &RawCatalog, ck: &mut Checker) {
    let naming_pos = |key: &str| -> Option<(u64, u64)> {
        let n = raw.naming.as_ref()?;
        match key {
            "context" => opt_pos(&n.context),
            "user" => opt_pos(&n.user),
            _ => opt_pos(&n.cluster),
        }
    };
    let mut contexts: HashMap<String, (String, String)> = HashMap::new();
    let mut users: HashMap<String, String> = HashMap::new();
    let mut cluster_names: HashMap<String, String> = HashMap::new();
    let mut reported = BTreeSet::new();
    for team in &catalog.teams {
        for tc in &team.clusters {
            let names = Names {
                cluster: &tc.cluster,
                team: &team.name,
                idp: &team.identity_provider,
                namespace: tc.namespace.as_deref().unwrap_or(""),
            };
            let context = catalog.naming.context.render(&names);
            let user = catalog.naming.user.render(&names);
            let cluster = catalog.naming.cluster.render(&names);
            let pair = (team.name.clone(), tc.cluster.clone());
            if let Some(other) = contexts.get(&context) {
                if *other != pair && reported.insert(("context", context.clone())) {
                    ck.error(
                        "naming.context",
                        naming_pos("context"),
                        format!(
                            "template {:?} gives context {context:?} to both team {:?} on cluster {:?} and team {:?} on cluster {:?}; include {{team}} and {{cluster}}",
                            catalog.naming.context.to_string(), other.0, other.1, pair.0, pair.1
                        ),
                    );
                }
            } else {
                contexts.insert(context, pair);
            }
            match users.get(&user) {
                Some(idp) if *idp != team.identity_provider => {
                    if reported.insert(("user", user.clone())) {
                        ck.error(
                            "naming.user",
                            naming_pos("user"),
                            format!(
                                "template {:?} gives user {user:?} to identity providers {idp:?} and {:?}; include {{idp}}",
                                catalog.naming.user.to_string(), team.identity_provider
                            ),
                        );
                    }
                }
                Some(_) => {}
                None => {
                    users.insert(user, team.identity_provider.clone());
                }
            }
            match cluster_names.get(&cluster) {
                Some(c) if *c != tc.cluster => {
                    if reported.insert(("cluster", cluster.clone())) {
                        ck.error(
                            "naming.cluster",
                            naming_pos("cluster"),
                            format!(
                                "template {:?} gives kubeconfig cluster {cluster:?} to clusters {c:?} and {:?}; include {{cluster}}",
                                catalog.naming.cluster.to_string(), tc.cluster
                            ),
                        );
                    }
                }
                Some(_) => {}
                None => {
                    cluster_names.insert(cluster, tc.cluster.clone());
                }
            }
        }
    }
}
