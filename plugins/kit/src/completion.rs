//! Shell completion for plugins, the two ways kubectl users get it.
//!
//! 1. The `completion SHELL` subcommand every plugin offers, as `kubectl completion`
//!    does: [`CompletionArgs`] and [`print`] write a clap_complete script for the
//!    plugin's own binary name (`kubectl-view_secret <TAB>`).
//! 2. kubectl ≥ 1.26 completes `kubectl view-secret <TAB>` by running an executable
//!    named `kubectl_complete-view_secret` from `PATH` with the plugin's arguments
//!    followed by the word being completed (`''` for a new word). It expects
//!    Cobra's `__complete` answer: one candidate per line (`value` or
//!    `value<TAB>description`), then a last line `:<directive>` (a Cobra
//!    `ShellCompDirective` bit set, see [`Directive`]). kubext's helper is a
//!    two-line script that runs `kubectl-view_secret __complete "$@"`, and
//!    [`handle`] answers that hidden `__complete` call from the plugin's clap
//!    [`clap::Command`]: subcommands, flags, enumerated values, paths, the
//!    kubeconfig's contexts/clusters/users, namespaces from the API server, and
//!    whatever the plugin adds through a closure (secret names, keys, query fields).
//!
//! Why this engine is hand-written: kubectl runs plugin completion through
//! Cobra's `__complete` protocol, which neither `clap_complete`'s static
//! scripts nor its dynamic engine (its own `COMPLETE=` environment protocol,
//! still unstable) speak, and no crate does. The candidates also come from
//! the kubeconfig and the API server, which only the plugin knows how to
//! reach. The engine stays a walk over the plugin's own `clap::Command`, so a
//! flag added to a plugin completes with no change here.
//!
//! ```no_run
//! # use clap::{CommandFactory, Parser};
//! # #[derive(Parser)] struct Cli {}
//! # fn real_main() -> std::process::ExitCode { std::process::ExitCode::SUCCESS }
//! fn main() -> std::process::ExitCode {
//!     if let Some(code) = kubectl_kit::completion::handle(Cli::command, |request| {
//!         match request.target() {
//!             // e.g. secret names for the first positional argument
//!             kubectl_kit::completion::Target::Positional { id, .. } if id == "name" => {
//!                 Some(vec!["db-password".into(), "tls".into()])
//!             }
//!             _ => None, // fall back to the static completion
//!         }
//!     }) {
//!         return code;
//!     }
//!     real_main()
//! }
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::future::Future;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, ArgAction, Args, ValueHint};
use clap_complete::Shell;

use crate::KubeFlags;

/// Arguments of a plugin's `completion` subcommand.
#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell to print a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script of `cmd` for `shell` to stdout.
pub fn print(mut cmd: clap::Command, bin_name: &str, shell: Shell) -> io::Result<()> {
    let mut out = crate::output::stdout();
    clap_complete::generate(shell, &mut cmd, bin_name, &mut out);
    Ok(())
}

/// The hidden argument kubext's `kubectl_complete-*` helpers pass first.
pub const COMPLETE_ARG: &str = "__complete";

/// How long the built-in namespace completion waits for the API server.
pub const API_TIMEOUT: Duration = Duration::from_secs(3);

/// Cobra's `ShellCompDirective`: tells the shell what to do with the candidates.
/// Bits combine; kubectl passes the value through unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive(pub u32);

impl Directive {
    /// Let the shell also complete file names (Cobra's `ShellCompDirectiveDefault`).
    pub const DEFAULT: Directive = Directive(0);
    /// An error happened; the shell should offer nothing.
    pub const ERROR: Directive = Directive(1);
    /// No space after the completed word.
    pub const NO_SPACE: Directive = Directive(2);
    /// Never fall back to file names.
    pub const NO_FILE_COMP: Directive = Directive(4);
    /// Complete directory names only.
    pub const FILTER_DIRS: Directive = Directive(16);
    /// Keep the candidates in the order given.
    pub const KEEP_ORDER: Directive = Directive(32);
}

/// One completion candidate: the value and an optional one-line description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What the shell inserts.
    pub value: String,
    /// Shown beside the value by shells that display descriptions (zsh, fish).
    pub help: Option<String>,
}

impl Candidate {
    /// A candidate with a description.
    pub fn with_help(value: impl Into<String>, help: impl Into<String>) -> Self {
        Candidate {
            value: value.into(),
            help: Some(help.into()),
        }
    }
}

impl From<String> for Candidate {
    fn from(value: String) -> Self {
        Candidate { value, help: None }
    }
}

impl From<&str> for Candidate {
    fn from(value: &str) -> Self {
        Candidate::from(value.to_string())
    }
}

/// What the word under the cursor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The value of the flag whose clap argument id is given (e.g. `"context"`).
    FlagValue {
        /// The clap `Arg` id (the field name for derived arguments).
        id: String,
    },
    /// A positional argument.
    Positional {
        /// The clap `Arg` id of the positional (the field name for derived arguments);
        /// empty when the command takes no positional argument there.
        id: String,
        /// How many positional values of this (sub)command come before it.
        index: usize,
    },
    /// A flag name (the word starts with `-`).
    FlagName,
}

/// A completion request, as the plugin's dynamic completion closure sees it.
#[derive(Debug, Clone)]
pub struct Request {
    path: Vec<String>,
    target: Target,
    prefix: String,
    values: BTreeMap<String, Vec<String>>,
    positionals: Vec<String>,
}

impl Request {
    /// The subcommands typed so far, from the root (e.g. `["search"]`); empty at the top.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// What is being completed.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The part of the word typed so far. Candidates need not be filtered by it:
    /// [`handle`] keeps those that start with it.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The values given so far to the flag with this clap id (e.g. `"namespace"`).
    pub fn values_of(&self, id: &str) -> &[String] {
        self.values.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The last value given so far to the flag with this clap id.
    pub fn value_of(&self, id: &str) -> Option<&str> {
        self.values_of(id).last().map(String::as_str)
    }

    /// Whether a flag that takes no value (e.g. `--all-namespaces`) was given.
    pub fn is_set(&self, id: &str) -> bool {
        self.values.contains_key(id)
    }

    /// The positional values of the innermost subcommand typed so far.
    pub fn positionals(&self) -> &[String] {
        &self.positionals
    }

    /// The kubectl connection flags typed so far (`--kubeconfig`, `--context`,
    /// `--cluster`, `--user`, `-n`), to reach the same cluster the command will.
    pub fn kube_flags(&self) -> KubeFlags {
        KubeFlags {
            kubeconfig: self.value_of("kubeconfig").map(PathBuf::from),
            context: self.value_of("context").map(String::from),
            cluster: self.value_of("cluster").map(String::from),
            user: self.value_of("user").map(String::from),
            namespace: self.value_of("namespace").map(String::from),
            request_timeout: Some(API_TIMEOUT),
        }
    }
}

/// The answer to a completion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The candidates, already filtered by the typed prefix.
    pub candidates: Vec<Candidate>,
    /// What the shell should do with them.
    pub directive: Directive,
}

impl Completion {
    /// Cobra's `__complete` output: `value[\thelp]` lines, then `:<directive>`.
    pub fn to_cobra(&self) -> String {
        let mut out = String::new();
        for candidate in &self.candidates {
            out.push_str(&candidate.value);
            if let Some(help) = candidate.help.as_deref().and_then(|h| h.lines().next())
                && !help.is_empty()
            {
                out.push('\t');
                out.push_str(help);
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive.0));
        out
    }
}

/// Answers kubectl's plugin completion when the process was started as
/// `PLUGIN __complete ARG… WORD` (what kubext's `kubectl_complete-*` helpers run):
/// prints the candidates in Cobra's format and returns the exit code to return
/// from `main`. Returns `None` for any other invocation.
///
/// `command` builds the plugin's clap command (e.g. `Cli::command`); `dynamic`
/// may supply candidates for a [`Target`] (return `None` to use the built-in ones).
pub fn handle<C, F>(command: C, dynamic: F) -> Option<ExitCode>
where
    C: FnOnce() -> clap::Command,
    F: Fn(&Request) -> Option<Vec<Candidate>>,
{
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(std::ffi::OsStr::new(COMPLETE_ARG)) {
        return None;
    }
    let words: Vec<String> = args.map(lossy).collect();
    let completion = complete(command(), &words, &dynamic);
    // A failed write (closed pipe) leaves nothing to report: kubectl reads what it got.
    let _ = io::stdout()
        .lock()
        .write_all(completion.to_cobra().as_bytes());
    let _ = io::stdout().flush();
    Some(ExitCode::SUCCESS)
}

/// A static-only handler, for plugins with nothing dynamic to add beyond the
/// kubeconfig names and namespaces: `completion::handle(Cli::command, completion::no_dynamic)`.
pub fn no_dynamic(_: &Request) -> Option<Vec<Candidate>> {
    None
}

fn lossy(arg: OsString) -> String {
    arg.to_string_lossy().into_owned()
}

/// Completes `words` (the plugin's arguments; the last one is the word being
/// completed, possibly empty) against `cmd`. The closure is asked first; then the
/// kubeconfig names (`--context`, `--cluster`, `--user`), namespaces (`-n`),
/// enumerated values, paths, subcommands and flags.
pub fn complete<F>(mut cmd: clap::Command, words: &[String], dynamic: &F) -> Completion
where
    F: Fn(&Request) -> Option<Vec<Candidate>>,
{
    cmd.build();
    let (before, current) = match words.split_last() {
        Some((last, before)) => (before, last.clone()),
        None => (&[][..], String::new()),
    };
    let parsed = walk(&cmd, before);
    let current_cmd = find_subcommand(&cmd, &parsed.path);

    // `--flag=partial`: complete the value, keeping `--flag=` in each candidate.
    if let Some(rest) = current.strip_prefix("--")
        && let Some((name, value)) = rest.split_once('=')
    {
        let Some(arg) = long_arg(current_cmd, name) else {
            return Completion {
                candidates: Vec::new(),
                directive: Directive::NO_FILE_COMP,
            };
        };
        let request = parsed.request(
            Target::FlagValue {
                id: arg.get_id().to_string(),
            },
            value,
        );
        let mut answer = values_for(arg, &request, dynamic);
        for candidate in &mut answer.candidates {
            candidate.value = format!("--{name}={}", candidate.value);
        }
        return answer;
    }

    if let Some(typed) = &parsed.pending_flag
        && let Some(arg) = long_or_short(current_cmd, typed)
    {
        let request = parsed.request(
            Target::FlagValue {
                id: arg.get_id().to_string(),
            },
            &current,
        );
        return values_for(arg, &request, dynamic);
    }

    if current.starts_with('-') && !parsed.after_double_dash {
        let request = parsed.request(Target::FlagName, &current);
        if let Some(candidates) = dynamic(&request) {
            return filtered(candidates, &current, Directive::NO_FILE_COMP);
        }
        return filtered(
            flag_names(current_cmd, &parsed, &current),
            &current,
            Directive::NO_FILE_COMP,
        );
    }

    // A positional argument, or a subcommand name.
    let index = parsed.positionals.len();
    let positional = positional_arg(current_cmd, index);
    let request = parsed.request(
        Target::Positional {
            id: positional
                .map(|a| a.get_id().to_string())
                .unwrap_or_default(),
            index,
        },
        &current,
    );
    if let Some(candidates) = dynamic(&request) {
        return filtered(candidates, &current, Directive::NO_FILE_COMP);
    }
    let mut candidates = Vec::new();
    if index == 0 && !parsed.after_double_dash {
        candidates.extend(
            current_cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| Candidate {
                    value: s.get_name().to_string(),
                    help: s.get_about().map(|a| a.to_string()),
                }),
        );
    }
    let mut directive = Directive::NO_FILE_COMP;
    if let Some(arg) = positional {
        let values = values_for(arg, &request, dynamic);
        candidates.extend(values.candidates);
        directive = values.directive;
    }
    filtered(candidates, &current, directive)
}

/// The candidates for a value of `arg`: the closure's, then the built-in ones.
fn values_for<F>(arg: &Arg, request: &Request, dynamic: &F) -> Completion
where
    F: Fn(&Request) -> Option<Vec<Candidate>>,
{
    let prefix = request.prefix();
    if let Some(candidates) = dynamic(request) {
        return filtered(candidates, prefix, Directive::NO_FILE_COMP);
    }
    if let Some(candidates) = builtin_values(arg.get_id().as_str(), request) {
        return filtered(candidates, prefix, Directive::NO_FILE_COMP);
    }
    let possible: Vec<Candidate> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| Candidate {
            value: v.get_name().to_string(),
            help: v.get_help().map(|h| h.to_string()),
        })
        .collect();
    if !possible.is_empty() {
        return filtered(possible, prefix, Directive::NO_FILE_COMP);
    }
    let directive = match arg.get_value_hint() {
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::ExecutablePath => Directive::DEFAULT,
        ValueHint::DirPath => Directive::FILTER_DIRS,
        _ => Directive::NO_FILE_COMP,
    };
    Completion {
        candidates: Vec::new(),
        directive,
    }
}

/// Names from the kubeconfig and namespaces from the API server, for the kit's
/// own flags ([`KubeFlags`]).
fn builtin_values(id: &str, request: &Request) -> Option<Vec<Candidate>> {
    match id {
        "context" | "cluster" | "user" => {
            let kubeconfig = request.kube_flags().load_kubeconfig().ok()?;
            let names: Vec<Candidate> = match id {
                "context" => kubeconfig
                    .contexts
                    .iter()
                    .map(|c| Candidate::from(c.name.clone()))
                    .collect(),
                "cluster" => kubeconfig
                    .clusters
                    .iter()
                    .map(|c| Candidate::from(c.name.clone()))
                    .collect(),
                _ => kubeconfig
                    .auth_infos
                    .iter()
                    .map(|u| Candidate::from(u.name.clone()))
                    .collect(),
            };
            Some(names)
        }
        "namespace" => Some(namespaces(request).unwrap_or_default()),
        _ => None,
    }
}

fn namespaces(request: &Request) -> Option<Vec<Candidate>> {
    use k8s_openapi::api::core::v1::Namespace;
    let flags = request.kube_flags();
    block_on(async move {
        let client = flags.client().await.ok()?;
        let api: kube::Api<Namespace> = kube::Api::all(client);
        let list = api.list(&Default::default()).await.ok()?;
        Some(
            list.items
                .into_iter()
                .filter_map(|ns| ns.metadata.name)
                .map(Candidate::from)
                .collect(),
        )
    })
    .flatten()
}

/// Runs a future to completion on a small runtime, giving up after [`API_TIMEOUT`]
/// (`None`): for dynamic completion closures that ask the API server.
pub fn block_on<T, Fut>(future: Fut) -> Option<T>
where
    Fut: Future<Output = T>,
{
    crate::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let result = runtime.block_on(async { tokio::time::timeout(API_TIMEOUT, future).await.ok() });
    runtime.shutdown_background();
    result
}

fn filtered(candidates: Vec<Candidate>, prefix: &str, directive: Directive) -> Completion {
    let mut seen = std::collections::BTreeSet::new();
    let candidates = candidates
        .into_iter()
        .filter(|c| c.value.starts_with(prefix))
        .filter(|c| seen.insert(c.value.clone()))
        .collect();
    Completion {
        candidates,
        directive,
    }
}

/// What the words before the cursor say.
#[derive(Debug, Default)]
struct Walked {
    path: Vec<String>,
    values: BTreeMap<String, Vec<String>>,
    positionals: Vec<String>,
    /// A flag (as typed: `--name` or `-n`) still waiting for its value.
    pending_flag: Option<String>,
    after_double_dash: bool,
}

impl Walked {
    fn request(&self, target: Target, prefix: &str) -> Request {
        Request {
            path: self.path.clone(),
            target,
            prefix: prefix.to_string(),
            values: self.values.clone(),
            positionals: self.positionals.clone(),
        }
    }
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

fn walk(root: &clap::Command, words: &[String]) -> Walked {
    let mut walked = Walked::default();
    let mut cmd = root;
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if walked.after_double_dash {
            walked.positionals.push(word.clone());
            continue;
        }
        if word == "--" {
            walked.after_double_dash = true;
            continue;
        }
        if let Some(rest) = word.strip_prefix("--") {
            let (name, inline) = match rest.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (rest, None),
            };
            let Some(arg) = long_arg(cmd, name) else {
                continue;
            };
            let id = arg.get_id().to_string();
            if takes_value(arg) {
                let value = match inline {
                    Some(v) => Some(v),
                    None if i < words.len() => {
                        i += 1;
                        Some(words[i - 1].clone())
                    }
                    None => {
                        walked.pending_flag = Some(word.clone());
                        None
                    }
                };
                if let Some(value) = value {
                    walked.values.entry(id).or_default().push(value);
                }
            } else {
                walked.values.entry(id).or_default();
            }
            continue;
        }
        if word.len() > 1 && word.starts_with('-') {
            let chars: Vec<char> = word[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let Some(arg) = cmd
                    .get_arguments()
                    .find(|a| a.get_short() == Some(chars[j]))
                else {
                    break;
                };
                let id = arg.get_id().to_string();
                j += 1;
                if takes_value(arg) {
                    let attached: String = chars[j..].iter().collect();
                    let attached = attached.strip_prefix('=').unwrap_or(&attached).to_string();
                    if !attached.is_empty() {
                        walked.values.entry(id).or_default().push(attached);
                    } else if i < words.len() {
                        walked.values.entry(id).or_default().push(words[i].clone());
                        i += 1;
                    } else {
                        walked.pending_flag = Some(format!("-{}", arg.get_short().unwrap_or('?')));
                    }
                    break;
                }
                walked.values.entry(id).or_default();
            }
            continue;
        }
        if walked.positionals.is_empty()
            && let Some(sub) = cmd.find_subcommand(word)
        {
            cmd = sub;
            walked.path.push(sub.get_name().to_string());
            continue;
        }
        walked.positionals.push(word.clone());
    }
    walked
}

fn find_subcommand<'a>(root: &'a clap::Command, path: &[String]) -> &'a clap::Command {
    let mut cmd = root;
    for name in path {
        match cmd.find_subcommand(name) {
            Some(sub) => cmd = sub,
            None => break,
        }
    }
    cmd
}

fn long_arg<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name)
            || a.get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&name))
    })
}

fn long_or_short<'a>(cmd: &'a clap::Command, typed: &str) -> Option<&'a Arg> {
    if let Some(name) = typed.strip_prefix("--") {
        long_arg(cmd, name)
    } else {
        let short = typed.strip_prefix('-')?.chars().next()?;
        cmd.get_arguments().find(|a| a.get_short() == Some(short))
    }
}

fn positional_arg(cmd: &clap::Command, index: usize) -> Option<&Arg> {
    let mut positionals: Vec<&Arg> = cmd.get_positionals().collect();
    positionals.sort_by_key(|a| a.get_index().unwrap_or(usize::MAX));
    for (taken, arg) in positionals.iter().enumerate() {
        let many = matches!(arg.get_action(), ArgAction::Append)
            || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        if many || index == taken {
            return Some(arg);
        }
    }
    None
}

fn flag_names(cmd: &clap::Command, walked: &Walked, typed: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if !repeatable && walked.values.contains_key(arg.get_id().as_str()) {
            continue;
        }
        let help = arg.get_help().map(|h| h.to_string());
        if let Some(long) = arg.get_long() {
            out.push(Candidate {
                value: format!("--{long}"),
                help: help.clone(),
            });
        }
        // Like Cobra: short forms only when nothing but `-` was typed.
        if typed == "-"
            && let Some(short) = arg.get_short()
        {
            out.push(Candidate {
                value: format!("-{short}"),
                help,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

    #[derive(Parser)]
    #[command(name = "kubectl-demo")]
    struct Cli {
        #[command(flatten)]
        kube: KubeFlags,
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Show a thing.
        Show {
            /// The thing's name.
            name: String,
            /// A key of the thing.
            key: Option<String>,
            /// Every key.
            #[arg(short = 'a', long)]
            all: bool,
            /// Output format.
            #[arg(short = 'o', long, value_enum)]
            output: Option<Format>,
            /// A file to read.
            #[arg(long)]
            file: Option<PathBuf>,
        },
        /// Search things.
        Search {
            /// Filter words.
            words: Vec<String>,
        },
        #[command(hide = true)]
        Secret,
    }

    #[derive(ValueEnum, Clone)]
    enum Format {
        Json,
        Yaml,
    }

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|s| s.to_string()).collect()
    }

    fn values(c: &Completion) -> Vec<&str> {
        c.candidates.iter().map(|c| c.value.as_str()).collect()
    }

    #[test]
    fn subcommands_at_the_top_without_hidden_ones() {
        let c = complete(Cli::command(), &words(&[""]), &no_dynamic);
        assert_eq!(values(&c), ["show", "search", "help"]);
        assert_eq!(c.directive, Directive::NO_FILE_COMP);
        let c = complete(Cli::command(), &words(&["s"]), &no_dynamic);
        assert_eq!(values(&c), ["show", "search"]);
    }

    #[test]
    fn flags_of_the_subcommand_with_globals_and_help() {
        let c = complete(Cli::command(), &words(&["show", "--"]), &no_dynamic);
        let v = values(&c);
        assert!(v.contains(&"--all") && v.contains(&"--context") && v.contains(&"--namespace"));
        assert!(
            !v.contains(&"-a"),
            "short forms only for a lone dash: {v:?}"
        );
        let c = complete(Cli::command(), &words(&["show", "-"]), &no_dynamic);
        assert!(values(&c).contains(&"-a"));
        // A flag already given is not offered again.
        let c = complete(Cli::command(), &words(&["show", "-a", "--a"]), &no_dynamic);
        assert_eq!(values(&c), Vec::<&str>::new());
    }

    #[test]
    fn enumerated_values_after_a_flag_and_inline() {
        let c = complete(
            Cli::command(),
            &words(&["show", "x", "-o", ""]),
            &no_dynamic,
        );
        assert_eq!(values(&c), ["json", "yaml"]);
        let c = complete(Cli::command(), &words(&["show", "--output=y"]), &no_dynamic);
        assert_eq!(values(&c), ["--output=yaml"]);
    }

    #[test]
    fn path_values_let_the_shell_complete_files() {
        let c = complete(Cli::command(), &words(&["show", "--file", ""]), &no_dynamic);
        assert!(c.candidates.is_empty());
        assert_eq!(c.directive, Directive::DEFAULT);
    }

    #[test]
    fn dynamic_positionals_see_the_flags_typed_before() {
        let dynamic = |r: &Request| -> Option<Vec<Candidate>> {
            match r.target() {
                Target::Positional { id, index } if id == "name" => {
                    assert_eq!(*index, 0);
                    assert_eq!(r.path(), ["show"]);
                    let ns = r.value_of("namespace").unwrap_or("default").to_string();
                    Some(vec![format!("{ns}-a").into(), format!("{ns}-b").into()])
                }
                Target::Positional { id, index } if id == "key" => {
                    assert_eq!(*index, 1);
                    assert_eq!(r.positionals(), ["prod-a"]);
                    Some(vec![Candidate::with_help("password", "12 bytes")])
                }
                _ => None,
            }
        };
        let c = complete(
            Cli::command(),
            &words(&["-n", "prod", "show", "prod-"]),
            &dynamic,
        );
        assert_eq!(values(&c), ["prod-a", "prod-b"]);
        let c = complete(
            Cli::command(),
            &words(&["show", "--namespace=prod", "prod-a", ""]),
            &dynamic,
        );
        assert_eq!(c.to_cobra(), "password\t12 bytes\n:4\n");
    }

    #[test]
    fn contexts_come_from_the_kubeconfig_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:1'}\n\
             users:\n- name: u1\n  user: {}\ncontexts:\n- name: prod\n  context: {cluster: c1, user: u1}\n\
             - name: staging\n  context: {cluster: c1, user: u1}\ncurrent-context: prod\n",
        )
        .unwrap();
        let kubeconfig = path.to_str().unwrap();
        let c = complete(
            Cli::command(),
            &words(&["--kubeconfig", kubeconfig, "show", "--context", ""]),
            &no_dynamic,
        );
        assert_eq!(values(&c), ["prod", "staging"]);
        let c = complete(
            Cli::command(),
            &words(&["--kubeconfig", kubeconfig, "--user", ""]),
            &no_dynamic,
        );
        assert_eq!(values(&c), ["u1"]);
    }

    #[test]
    fn everything_after_a_lone_double_dash_is_positional() {
        let c = complete(Cli::command(), &words(&["search", "--", "-x"]), &no_dynamic);
        assert!(c.candidates.is_empty());
    }
}
