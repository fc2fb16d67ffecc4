//! kubectl's flags, with kubectl's names and meanings.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::{KitError, parse_flag_duration};

/// The connection flags every kubectl command takes.
///
/// Flatten it into a plugin's command with `#[command(flatten)]`. The flags are
/// global, so they may be given before or after a subcommand, as with kubectl.
#[derive(Args, Debug, Clone, Default)]
pub struct KubeFlags {
    /// Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The name of the kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,

    /// The namespace scope for this request (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// How long to wait for a single server request; 0 waits forever. Seconds, or a number with a unit (500ms, 1s, 2m, 3h, 1d).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_flag_duration)]
    pub request_timeout: Option<Duration>,
}

/// kubectl's `-o/--output` formats. Each plugin accepts the ones that fit it.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// A table, like kubectl's default output.
    #[default]
    Table,
    /// A table with extra columns.
    Wide,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// Names only, one per line.
    Name,
    /// One JSON document per line.
    Jsonl,
}

/// The `-o/--output` flag.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputFlags {
    /// Output format: table (default), wide, json, yaml, name, jsonl, where the command supports it.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        value_name = "FORMAT"
    )]
    pub output: Option<OutputFormat>,
}

impl OutputFlags {
    /// The chosen format, `Table` when none was given.
    pub fn format(&self) -> OutputFormat {
        self.output.unwrap_or_default()
    }

    /// The chosen format, or a usage error naming the formats this command supports.
    pub fn require(&self, supported: &[OutputFormat]) -> Result<OutputFormat, KitError> {
        let format = self.format();
        if supported.contains(&format) {
            Ok(format)
        } else {
            let names: Vec<String> = supported
                .iter()
                .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
                .collect();
            let given = format
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default();
            Err(KitError::usage(format!(
                "output format {given:?} is not supported by this command; use one of: {}",
                names.join(", ")
            )))
        }
    }
}

/// kubectl's `-v/--v` log level.
#[derive(Args, Debug, Clone, Default)]
pub struct Verbosity {
    /// Log level for diagnostics on stderr (0–9, as kubectl's -v). Secrets are never logged.
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        value_name = "LEVEL",
        default_value_t = 0
    )]
    pub level: u8,
}

impl Verbosity {
    /// Sends `tracing` output to stderr at the level asked for. `RUST_LOG`, when set, wins.
    pub fn init_logging(&self) {
        let default = match self.level {
            0 => "warn",
            1..=3 => "info",
            4..=5 => "debug",
            _ => "trace",
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(crate::output::stderr_color_enabled())
            .with_target(false)
            .try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeouts_parse_like_kubectl() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cmd {
            #[command(flatten)]
            kube: KubeFlags,
        }
        let timeout = |v: &str| {
            Cmd::try_parse_from(["cmd", "--request-timeout", v])
                .map(|c| c.kube.request_timeout)
                .map_err(|e| e.to_string())
        };
        assert_eq!(timeout("0").unwrap(), Some(Duration::ZERO));
        assert_eq!(timeout("15").unwrap(), Some(Duration::from_secs(15)));
        assert_eq!(timeout("1m30s").unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(timeout("500ms").unwrap(), Some(Duration::from_millis(500)));
        assert_eq!(timeout("1d").unwrap(), Some(Duration::from_secs(86_400)));
        let err = timeout("5x").unwrap_err();
        assert!(err.contains("invalid duration \"5x\""), "{err}");
        assert!(timeout("").is_err());
        assert!(timeout("99999999999999999999999h").is_err());
    }

    #[test]
    fn unsupported_output_is_a_usage_error() {
        let flags = OutputFlags {
            output: Some(OutputFormat::Name),
        };
        let err = flags
            .require(&[OutputFormat::Table, OutputFormat::Json])
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::EXIT_USAGE);
        assert!(err.to_string().contains("table, json"), "{err}");
    }
}
