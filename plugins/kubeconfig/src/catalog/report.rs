//! What validation found: each [`Problem`] with its path in the document and
//! its position, and the [`Report`] of one catalog.

use std::fmt;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The catalog cannot be used until it is fixed.
    Error,
    /// Worth fixing, but kubeconfigs can still be generated.
    Warning,
}

/// One problem found in a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Where in the document, e.g. `teams[1].clusters[0]`.
    pub path: String,
    /// Line and column (1-based) when known.
    pub position: Option<(u64, u64)>,
    /// What is wrong and, where it helps, what to write instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.position {
            write!(f, "{line}:{column}: ")?;
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The problems of one catalog, with the name of its source for the report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file, URL or ConfigMap the catalog came from.
    pub source: String,
    /// All problems, in document order within each kind of check.
    pub problems: Vec<Problem>,
}

impl Report {
    /// The problems that make the catalog unusable.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// One line per problem, each prefixed with the source: `file:line:col: path: message`.
    pub fn lines(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| {
                if p.position.is_some() {
                    format!("{}:{p}", self.source)
                } else {
                    format!("{}: {p}", self.source)
                }
            })
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        write!(
            f,
            "catalog {} has {} and {}",
            self.source,
            plural(errors, "error"),
            plural(warnings, "warning")
        )?;
        for line in self.lines() {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
