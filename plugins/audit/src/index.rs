//! `--index DIR`: answering searches from a copied index directory, read-only,
//! with no server, through the sink's own library.

use std::path::Path;

use audit_api::api::{SearchParams, SearchResponse, StatsParams, StatsResponse};

/// An index directory opened read-only.
pub struct IndexSink {
    _private: (),
}

impl IndexSink {
    /// Opens `dir` read-only.
    pub fn open(dir: &Path) -> anyhow::Result<IndexSink> {
        anyhow::bail!(
            "--index {}: reading an index directly is not available in this build yet",
            dir.display()
        )
    }

    /// Searches the index.
    pub fn search(&self, _params: &SearchParams) -> anyhow::Result<SearchResponse> {
        anyhow::bail!("not available")
    }

    /// Counts in the index.
    pub fn stats(&self, _params: &StatsParams) -> anyhow::Result<StatsResponse> {
        anyhow::bail!("not available")
    }
}
