//! Printing like kubectl: tables, JSON, YAML, and terminal awareness.

use std::io::{self, IsTerminal, Write};

use comfy_table::{ContentArrangement, Table as ComfyTable, presets};
use serde::Serialize;

/// Standard output, locked. Write the main output here with `writeln!(…)?` so a
/// closed pipe surfaces as an error that [`crate::run`] turns into exit 0.
pub fn stdout() -> io::StdoutLock<'static> {
    io::stdout().lock()
}

/// Whether standard output is a terminal.
pub fn stdout_is_tty() -> bool {
    io::stdout().is_terminal()
}

/// Whether standard input is a terminal.
pub fn stdin_is_tty() -> bool {
    io::stdin().is_terminal()
}

/// Whether standard error is a terminal.
pub fn stderr_is_tty() -> bool {
    io::stderr().is_terminal()
}

fn color_allowed() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    !no_color && !dumb
}

/// Whether colour may be used on stdout: a terminal, `NO_COLOR` unset, `TERM` not `dumb`.
pub fn color_enabled() -> bool {
    color_allowed() && stdout_is_tty()
}

/// Whether colour may be used on stderr.
pub fn stderr_color_enabled() -> bool {
    color_allowed() && stderr_is_tty()
}

/// A table that looks like kubectl's: upper-case headers, no borders,
/// columns left-aligned and separated by three spaces.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers (upper-cased when rendered).
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells render empty.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Number of rows added.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let mut table = ComfyTable::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .force_no_tty()
            .set_header(
                self.headers
                    .iter()
                    .map(|h| h.to_uppercase())
                    .collect::<Vec<_>>(),
            );
        for row in &self.rows {
            let mut cells = row.clone();
            cells.resize(self.headers.len().max(row.len()), String::new());
            table.add_row(cells);
        }
        let columns = table.column_count();
        for index in 0..columns {
            if let Some(column) = table.column_mut(index) {
                column.set_padding((0, if index + 1 == columns { 0 } else { 3 }));
            }
        }
        let mut out = String::new();
        for line in table.to_string().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Writes the table to stdout.
    pub fn print(&self) -> io::Result<()> {
        stdout().write_all(self.render().as_bytes())
    }
}

/// Writes `value` as JSON the way kubectl does (four-space indent, trailing newline).
pub fn write_json<W: Write, T: Serialize + ?Sized>(mut out: W, value: &T) -> io::Result<()> {
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Prints `value` as JSON to stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    write_json(stdout(), value)
}

/// `value` as YAML text.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> io::Result<String> {
    // Going through serde_json::Value keeps map keys in the order JSON has them.
    let json = serde_json::to_value(value).map_err(io::Error::other)?;
    serde_saphyr::to_string(&json).map_err(io::Error::other)
}

/// Prints `value` as YAML to stdout.
pub fn print_yaml<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let text = to_yaml(value)?;
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A duration as kubectl prints ages: `45s`, `5m10s`, `3h12m`, `2d`, `1y20d`.
pub fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let minutes = secs / 60;
    let hours = secs / 3600;
    let days = hours / 24;
    if secs < 120 {
        format!("{secs}s")
    } else if minutes < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        }
    } else if hours < 24 * 365 * 2 {
        format!("{days}d")
    } else if hours < 24 * 365 * 8 {
        let years = days / 365;
        let d = days % 365;
        if d == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{d}d")
        }
    } else {
        format!("{}y", days / 365)
    }
}

/// How long ago `t` was, as kubectl's AGE column prints it (`<invalid>` for a time in the future beyond a second).
pub fn human_age(t: jiff::Timestamp) -> String {
    let now = jiff::Timestamp::now();
    let elapsed = now.as_millisecond() - t.as_millisecond();
    if elapsed < -1000 {
        return "<invalid>".into();
    }
    human_duration(std::time::Duration::from_millis(elapsed.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tables_look_like_kubectl() {
        let mut t = Table::new(["name", "type", "data"]);
        t.row(["db-credentials", "Opaque", "2"]);
        t.row(["tls", "kubernetes.io/tls", "3"]);
        assert_eq!(
            t.render(),
            "NAME             TYPE                DATA\n\
             db-credentials   Opaque              2\n\
             tls              kubernetes.io/tls   3\n"
        );
    }

    #[test]
    fn ages_match_kubectl() {
        let cases = [
            (45, "45s"),
            (119, "119s"),
            (310, "5m10s"),
            (600, "10m"),
            (3 * 3600 + 12 * 60, "3h12m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 5 * 3600, "3d5h"),
            (40 * 86400, "40d"),
            (3 * 365 * 86400 + 20 * 86400, "3y20d"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(Duration::from_secs(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn json_is_indented_like_kubectl() {
        let mut buf = Vec::new();
        write_json(&mut buf, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "{\n    \"a\": 1\n}\n");
    }
}
