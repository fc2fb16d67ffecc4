//! Emphasis on a terminal (bold, warnings in colour), nothing elsewhere.

/// Whether to colour the output; built once from [`kubectl_kit::output::color_enabled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// No colour at all (pipes, files, `NO_COLOR`, tests).
    pub fn plain() -> Self {
        Style { color: false }
    }

    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    pub fn for_stdout() -> Self {
        Style {
            color: kubectl_kit::output::color_enabled(),
        }
    }

    /// `text` in bold.
    pub fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// `text` as a warning (bold yellow).
    pub fn warning(&self, text: &str) -> String {
        self.wrap("1;33", text)
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}
