//! Certificate authorities: exactly one of `file`, `pem` or `data`, holding
//! X.509 certificates only; expired ones are a warning.

use base64::Engine as _;

use super::{BaseDir, Checker, pos};
use crate::catalog::raw::{RawCertificateAuthority, Sp};

pub(super) fn check_ca(
    raw: &Option<Sp<RawCertificateAuthority>>,
    path: &str,
    base: &BaseDir,
    ck: &mut Checker,
) -> Option<Vec<u8>> {
    let ca = raw.as_ref()?;
    let forms: Vec<&str> = [
        ca.value.file.as_ref().map(|_| "file"),
        ca.value.pem.as_ref().map(|_| "pem"),
        ca.value.data.as_ref().map(|_| "data"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if forms.len() != 1 {
        ck.error(
            path,
            pos(ca),
            format!(
                "give exactly one of file, pem or data (found {})",
                if forms.is_empty() {
                    "none".to_string()
                } else {
                    forms.join(", ")
                }
            ),
        );
        return None;
    }
    let (pem, field, at): (Vec<u8>, &str, _) = if let Some(file) = &ca.value.file {
        let field = format!("{path}.file");
        let resolved = match base.resolve(&file.value) {
            Ok(p) => p,
            Err(e) => {
                ck.error(&field, pos(file), e);
                return None;
            }
        };
        match std::fs::read(&resolved) {
            Ok(bytes) => (bytes, "file", pos(file)),
            Err(e) => {
                ck.error(
                    &field,
                    pos(file),
                    format!("cannot read CA file {}: {e}", resolved.display()),
                );
                return None;
            }
        }
    } else if let Some(pem) = &ca.value.pem {
        (pem.value.clone().into_bytes(), "pem", pos(pem))
    } else {
        let data = ca.value.data.as_ref().expect("one form is set");
        let compact: String = data.value.split_whitespace().collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) => (bytes, "data", pos(data)),
            Err(e) => {
                ck.error(
                    &format!("{path}.data"),
                    pos(data),
                    format!("data is not valid base64: {e}"),
                );
                return None;
            }
        }
    };
    let field_path = format!("{path}.{field}");
    match check_pem_certificates(&pem) {
        Ok(expired) => {
            for subject in expired {
                ck.warn(
                    &field_path,
                    at,
                    format!("certificate {subject} has expired"),
                );
            }
            Some(pem)
        }
        Err(e) => {
            ck.error(&field_path, at, e.with_cause());
            None
        }
    }
}

/// Why a CA bundle was refused. Blocks are numbered from 1.
#[derive(Debug, thiserror::Error)]
pub enum PemCertificatesError {
    /// A PEM block could not be read.
    #[error("PEM block {block} is malformed")]
    MalformedBlock {
        /// Which block (from 1).
        block: usize,
        /// The PEM parser's error.
        #[source]
        source: x509_parser::error::PEMError,
    },
    /// A PEM block holds something other than a certificate (a key, a CSR, …).
    #[error(
        "PEM block {block} is a {label:?}, expected a CERTIFICATE (a CA bundle holds certificates only)"
    )]
    NotACertificate {
        /// Which block (from 1).
        block: usize,
        /// Its label, e.g. `PRIVATE KEY`.
        label: String,
    },
    /// A CERTIFICATE block does not hold a valid X.509 certificate.
    #[error("PEM block {block} is not a valid X.509 certificate")]
    InvalidCertificate {
        /// Which block (from 1).
        block: usize,
        /// The X.509 parser's error.
        #[source]
        source: x509_parser::nom::Err<x509_parser::error::X509Error>,
    },
    /// There is no PEM block at all.
    #[error("no PEM certificate found (expected -----BEGIN CERTIFICATE----- blocks)")]
    NoCertificate,
}

impl PemCertificatesError {
    /// The message with its cause, as a catalog problem shows it.
    fn with_cause(&self) -> String {
        match std::error::Error::source(self) {
            Some(cause) => format!("{self}: {cause}"),
            None => self.to_string(),
        }
    }
}

/// Checks that `pem` holds at least one X.509 certificate and nothing else that
/// is broken. Returns the subjects of expired certificates.
pub fn check_pem_certificates(pem: &[u8]) -> Result<Vec<String>, PemCertificatesError> {
    use x509_parser::pem::Pem;
    let mut count = 0;
    let mut expired = Vec::new();
    let now = jiff::Timestamp::now().as_second();
    for (i, block) in Pem::iter_from_buffer(pem).enumerate() {
        let block = block.map_err(|source| PemCertificatesError::MalformedBlock {
            block: i + 1,
            source,
        })?;
        if block.label != "CERTIFICATE" {
            return Err(PemCertificatesError::NotACertificate {
                block: i + 1,
                label: block.label,
            });
        }
        let cert =
            block
                .parse_x509()
                .map_err(|source| PemCertificatesError::InvalidCertificate {
                    block: i + 1,
                    source,
                })?;
        if cert.validity().not_after.timestamp() < now {
            expired.push(format!("{:?}", cert.subject().to_string()));
        }
        count += 1;
    }
    if count == 0 {
        return Err(PemCertificatesError::NoCertificate);
    }
    Ok(expired)
}
