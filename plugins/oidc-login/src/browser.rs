//! Opening the login page in a browser: `--browser-command` (with arguments),
//! else `$BROWSER`, else the platform opener.

use std::process::{Command, Stdio};

/// How the browser gets opened.
#[derive(Debug, Clone, Default)]
pub struct BrowserSettings {
    /// `--skip-open-browser`.
    pub skip: bool,
    /// `--browser-command`.
    pub command: Option<String>,
}

/// Splits a command line into words the way a POSIX shell does (no
/// expansions): whitespace separates, single quotes keep everything, and in
/// double quotes a backslash escapes only `"`, `\`, `$` and a backtick.
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    shell_words::split(line).map_err(|e| format!("{e} in {line:?}: close the quote"))
}

impl BrowserSettings {
    /// Whether a browser can be expected to appear without a terminal:
    /// a browser command was given, or there is a desktop session.
    pub fn can_open_without_terminal(&self) -> bool {
        if self.skip {
            return false;
        }
        if self
            .command
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
        {
            return true;
        }
        if std::env::var_os("BROWSER").is_some_and(|b| !b.is_empty()) {
            return true;
        }
        if cfg!(any(target_os = "macos", target_os = "windows")) {
            return true;
        }
        ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
    }

    /// Opens `url`. The browser runs on its own; we do not wait for it.
    pub fn open(&self, url: &str) -> Result<(), String> {
        if self.skip {
            return Ok(());
        }
        let words = match self.command.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(command) => {
                split_command(command).map_err(|e| format!("--browser-command: {e}"))?
            }
            None => match std::env::var("BROWSER")
                .ok()
                .filter(|b| !b.trim().is_empty())
            {
                Some(browser) => split_command(&browser).map_err(|e| format!("$BROWSER: {e}"))?,
                None => platform_opener(),
            },
        };
        let (program, args) = words
            .split_first()
            .ok_or_else(|| "--browser-command is empty".to_string())?;
        let mut child = Command::new(program)
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the browser command {program:?}: {e}"))?;
        // Reap it in the background so it never lingers as a zombie.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(())
    }
}

fn platform_opener() -> Vec<String> {
    if cfg!(target_os = "macos") {
        vec!["open".into()]
    } else if cfg!(target_os = "windows") {
        vec!["rundll32".into(), "url.dll,FileProtocolHandler".into()]
    } else {
        vec!["xdg-open".into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_commands_with_arguments_split_like_a_shell() {
        assert_eq!(split_command("firefox").unwrap(), ["firefox"]);
        assert_eq!(
            split_command(r#"open -a "Google Chrome" --args 'x y' a\ b"#).unwrap(),
            ["open", "-a", "Google Chrome", "--args", "x y", "a b"]
        );
        assert_eq!(
            split_command(r#""C:\Program Files\b" "a\"b" 'c\d'"#).unwrap(),
            [r"C:\Program Files\b", r#"a"b"#, r"c\d"]
        );
        assert_eq!(split_command("  ").unwrap(), Vec::<String>::new());
        assert!(split_command("'open").is_err());
    }
}
