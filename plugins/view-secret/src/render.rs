//! One value as the user sees it: as stored, decoded, or interpreted.

use jiff::Timestamp;

use crate::detect::{Content, detect};
use crate::style::Style;
use crate::{binary, certs, docker, helm};

/// How much of the value's meaning to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The bytes exactly as stored in the Secret (`--raw`).
    Raw,
    /// The value with every encoding layer removed (a Helm release becomes its
    /// JSON), nothing summarised: what a pipe or a file gets by default.
    Decoded,
    /// Summaries people can read: certificates, registries, Helm releases, hex
    /// dumps of binary values. The default on a terminal.
    Interpreted,
}

/// Everything that decides how a value is shown.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// See [`Mode`].
    pub mode: Mode,
    /// Show registry passwords.
    pub show_passwords: bool,
    /// Show a Helm release's values.
    pub show_values: bool,
    /// Terminal emphasis.
    pub style: Style,
    /// The time certificates are checked against.
    pub now: Timestamp,
}

/// A value ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// What goes to stdout.
    pub bytes: Vec<u8>,
    /// Informational lines for stderr (dropped with `--quiet`).
    pub notes: Vec<String>,
    /// What the value was recognised as.
    pub content: Content,
}

impl Rendered {
    fn text(text: String, content: Content) -> Self {
        Rendered {
            bytes: text.into_bytes(),
            notes: Vec::new(),
            content,
        }
    }

    fn stored(value: &[u8], content: Content) -> Self {
        Rendered {
            bytes: value.to_vec(),
            notes: Vec::new(),
            content,
        }
    }

    fn fallback(value: &[u8], content: Content, what: &str, err: impl std::fmt::Display) -> Self {
        let mut r = Rendered::stored(value, content);
        r.notes.push(format!(
            "could not read the value as {what} ({err}); showing it as stored"
        ));
        r
    }
}

/// Renders the value stored under `key` in a Secret of `secret_type`.
pub fn render_value(secret_type: &str, key: &str, value: &[u8], opts: &RenderOptions) -> Rendered {
    if opts.mode == Mode::Raw {
        return Rendered::stored(value, Content::Text);
    }
    let content = detect(secret_type, key, value);
    let interpret = opts.mode == Mode::Interpreted;
    match content {
        Content::HelmRelease => match helm::decode_payload(value) {
            Ok(json) if !interpret => Rendered::stored(&json, content),
            Ok(json) => match helm::parse_release(&json) {
                Ok(release) => Rendered::text(helm::render(&release, opts.show_values), content),
                Err(e) => Rendered::fallback(&json, content, "a Helm release", e),
            },
            Err(e) => Rendered::fallback(value, content, "a Helm release", e),
        },
        Content::Certificates if interpret => match certs::analyze(value) {
            Ok(bundle) => Rendered::text(certs::render(&bundle, opts.now, &opts.style), content),
            Err(e) => Rendered::fallback(value, content, "PEM certificates", e),
        },
        Content::DockerConfigJson | Content::DockerCfg if interpret => {
            let parsed = if content == Content::DockerCfg {
                docker::parse_dockercfg(value)
            } else {
                docker::parse_config_json(value)
            };
            match parsed {
                Ok(config) => {
                    let rendered = docker::render(&config, opts.show_passwords);
                    Rendered {
                        bytes: rendered.text.into_bytes(),
                        notes: rendered.notes,
                        content,
                    }
                }
                Err(e) => Rendered::fallback(value, content, "a docker config", e),
            }
        }
        Content::Binary if interpret => Rendered::text(binary::hex_summary(value), content),
        _ => Rendered::stored(value, content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(mode: Mode) -> RenderOptions {
        RenderOptions {
            mode,
            show_passwords: false,
            show_values: false,
            style: Style::plain(),
            now: Timestamp::now(),
        }
    }

    #[test]
    fn binary_is_dumped_only_when_interpreting() {
        let value = [0u8, 1, 2, 255];
        let shown = render_value("Opaque", "blob", &value, &opts(Mode::Interpreted));
        assert!(
            String::from_utf8(shown.bytes)
                .unwrap()
                .starts_with("binary value, 4 bytes")
        );
        assert_eq!(
            render_value("Opaque", "blob", &value, &opts(Mode::Decoded)).bytes,
            value
        );
        assert_eq!(
            render_value("Opaque", "blob", &value, &opts(Mode::Raw)).bytes,
            value
        );
    }

    #[test]
    fn raw_keeps_helm_payload_and_decoded_unwraps_it() {
        use base64::Engine as _;
        let json = br#"{"name":"r","version":2,"info":{"status":"deployed"},"chart":{"metadata":{"name":"c","version":"1.0.0"}}}"#;
        let stored = base64::engine::general_purpose::STANDARD.encode(json);
        let raw = render_value(
            helm::HELM_SECRET_TYPE,
            "release",
            stored.as_bytes(),
            &opts(Mode::Raw),
        );
        assert_eq!(raw.bytes, stored.as_bytes());
        let decoded = render_value(
            helm::HELM_SECRET_TYPE,
            "release",
            stored.as_bytes(),
            &opts(Mode::Decoded),
        );
        assert_eq!(decoded.bytes, json);
        let shown = render_value(
            helm::HELM_SECRET_TYPE,
            "release",
            stored.as_bytes(),
            &opts(Mode::Interpreted),
        );
        assert!(
            String::from_utf8(shown.bytes)
                .unwrap()
                .contains("Chart:        c-1.0.0")
        );
    }

    #[test]
    fn unreadable_content_falls_back_with_a_note() {
        let value = b"{not json";
        let shown = render_value(
            crate::detect::DOCKER_CONFIG_JSON_TYPE,
            ".dockerconfigjson",
            value,
            &opts(Mode::Interpreted),
        );
        assert_eq!(shown.bytes, value);
        assert!(
            shown.notes[0].contains("could not read the value as a docker config"),
            "{:?}",
            shown.notes
        );
    }
}
