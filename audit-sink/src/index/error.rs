//! The error every index operation returns.

/// Index errors.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("index")]
    Tantivy(#[from] tantivy::TantivyError),
    /// File system failure.
    #[error("index directory")]
    Io(#[from] std::io::Error),
    /// Bad request parameter (e.g. a field that cannot be grouped).
    #[error("{0}")]
    BadRequest(String),
}
