//! The interactive choice of a key or a secret, on a terminal.

use dialoguer::Select;
use dialoguer::console::Term;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};

/// Whether to ask interactively: stdin and stdout are both terminals.
pub fn interactive() -> bool {
    kubectl_kit::output::stdin_is_tty() && kubectl_kit::output::stdout_is_tty()
}

/// The interactive choice could not be shown or answered.
#[derive(Debug, thiserror::Error)]
#[error(
    "the interactive choice on the terminal failed (name the secret and key on the command line to skip it)"
)]
pub struct PickError(#[source] dialoguer::Error);

/// Asks the user to choose one of `items`; `None` when they cancel (Esc or q).
/// The menu is drawn on stderr when it is a terminal (stdout otherwise) and
/// erased once answered.
pub fn pick(prompt: &str, items: &[String]) -> Result<Option<usize>, PickError> {
    let term = if kubectl_kit::output::stderr_is_tty() {
        Term::stderr()
    } else {
        Term::stdout()
    };
    let colorful = ColorfulTheme::default();
    let theme: &dyn Theme = if kubectl_kit::output::stderr_color_enabled() {
        &colorful
    } else {
        &SimpleTheme
    };
    let choice = Select::with_theme(theme)
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .max_length(20)
        .report(false)
        .interact_on_opt(&term)
        .map_err(PickError)?;
    Ok(choice)
}
