//! What can go wrong talking to the sink, whatever the transport: each error
//! names the address and the credential used (never its value) and says what
//! to do next.

/// What can go wrong talking to the sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Nothing answered, or the connection failed.
    #[error("cannot reach the audit sink at {address}: {message}\n  hint: {hint}")]
    Unreachable {
        /// Where we tried.
        address: String,
        /// The transport error.
        message: String,
        /// What to do.
        hint: String,
    },
    /// 401 or 403.
    #[error(
        "{who} at {address} refused the request ({code}) made with {credential}: {message}\n  hint: {hint}"
    )]
    Refused {
        /// `the audit sink` or `the Kubernetes API server`.
        who: &'static str,
        /// Where.
        address: String,
        /// 401 or 403.
        code: u16,
        /// Which credential was used (a description, never its value).
        credential: String,
        /// The server's message.
        message: String,
        /// What to do.
        hint: String,
    },
    /// The sink rejected the query.
    #[error("the audit sink rejected the query: {message}")]
    BadQuery {
        /// The sink's message with position and expectation.
        message: String,
    },
    /// Any other error answer.
    #[error("the audit sink at {address} answered {code}: {message}")]
    Status {
        /// Where.
        address: String,
        /// HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// An answer that is not what the API defines.
    #[error("the audit sink at {address} sent an answer that cannot be read: {message}")]
    Protocol {
        /// Where.
        address: String,
        /// What was wrong.
        message: String,
    },
}

/// An error and its causes on one line, each cause once.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}
