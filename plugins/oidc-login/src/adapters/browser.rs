//! Opening the login page in a browser: `--browser-command` (with arguments),
//! else `$BROWSER`, else the desktop's default browser as the `webbrowser`
//! crate finds it (xdg-open and the desktops' own openers, `x-www-browser`,
//! WSL's Windows browser, `open` on macOS, the shell on Windows).

use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How long we wait for the default browser opener to say whether it
/// started a browser. Graphical browsers are started in the background and
/// answer at once; a text browser runs in the foreground until it quits, so
/// after this we go on waiting for the redirect while it runs.
const OPENER_ANSWER: Duration = Duration::from_secs(5);

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
        // WSL_DISTRO_NAME: under WSL the Windows browser opens.
        ["DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
    }

    /// Opens `url`. The browser runs on its own; we do not wait for it.
    pub fn open(&self, url: &str) -> Result<(), String> {
        if self.skip {
            return Ok(());
        }
        if let Some(command) = self.command.as_deref().filter(|c| !c.trim().is_empty()) {
            let words = split_command(command).map_err(|e| format!("--browser-command: {e}"))?;
            return spawn(&words, url);
        }
        // `$BROWSER` is read like --browser-command (shell quoting, the URL
        // appended), not as webbrowser's `:`-separated list.
        if let Some(browser) = std::env::var("BROWSER")
            .ok()
            .filter(|b| !b.trim().is_empty())
        {
            let words = split_command(&browser).map_err(|e| format!("$BROWSER: {e}"))?;
            return spawn(&words, url);
        }
        default_browser(url)
    }
}

/// Starts `words` with `url` as the last argument, detached from our stdio
/// (stdout carries the credential to kubectl).
fn spawn(words: &[String], url: &str) -> Result<(), String> {
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

/// Opens `url` in the default browser. Only http(s) URLs are opened (the
/// crate's `hardened` feature): a provider cannot make us run a local file
/// or a custom URL scheme handler.
fn default_browser(url: &str) -> Result<(), String> {
    let (answer, answered) = mpsc::channel();
    let target = url.to_string();
    std::thread::spawn(move || {
        let _ = answer.send(webbrowser::open(&target));
    });
    match answered.recv_timeout(OPENER_ANSWER) {
        Ok(Ok(())) | Err(RecvTimeoutError::Timeout) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "cannot open the default browser ({e}); pass --browser-command or set $BROWSER"
        )),
        Err(RecvTimeoutError::Disconnected) => {
            Err("the default browser opener stopped without an answer".to_string())
        }
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
