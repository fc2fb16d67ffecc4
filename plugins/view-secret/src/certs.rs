//! PEM certificates: who they are for, who issued them, how long they are
//! valid, which key they carry, and whether a chain is in the right order.

use std::fmt::Write as _;

use jiff::Timestamp;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry;
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use crate::style::Style;

/// Certificates expiring within this many days get a warning.
pub const RENEW_WARNING_DAYS: i64 = 30;

/// The PEM marker that makes a value a certificate bundle.
pub const CERTIFICATE_MARKER: &str = "-----BEGIN CERTIFICATE-----";

/// Why a value could not be read as certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A PEM block was malformed.
    #[error("PEM block {index} is malformed: {message}")]
    Pem {
        /// 1-based block number.
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// A CERTIFICATE block did not hold an X.509 certificate.
    #[error("certificate {index} is not a valid X.509 certificate: {message}")]
    X509 {
        /// 1-based certificate number.
        index: usize,
        /// The parser's message.
        message: String,
    },
    /// No CERTIFICATE block at all.
    #[error("no PEM certificate found")]
    NoCertificate,
}

/// What one certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject's distinguished name, e.g. `CN=app.example.com, O=Example`.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Subject alternative names as `DNS:…`, `IP:…`, `email:…`, `URI:…`.
    pub sans: Vec<String>,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// The public key, e.g. `RSA 2048`, `EC P-256`, `Ed25519`.
    pub key: String,
    /// Whether basic constraints say it is a certificate authority.
    pub is_ca: bool,
    /// The serial number in hex, colon-separated.
    pub serial: String,
    /// Whether subject and issuer are the same and the certificate verifies with its own key.
    pub self_signed: bool,
}

/// How a list of certificates chains together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOrder {
    /// One certificate: no chain to check.
    Single,
    /// Each certificate is followed by the one that issued it.
    Ordered,
    /// Certificate `index` (1-based) is not followed by its issuer.
    Problem {
        /// 1-based number of the certificate whose issuer is not next.
        index: usize,
        /// What is wrong and what to do.
        detail: String,
    },
}

/// Everything found in a PEM value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBundle {
    /// The certificates, in the order they appear.
    pub certificates: Vec<CertInfo>,
    /// Labels of the other PEM blocks (e.g. `PRIVATE KEY`); their content is never shown.
    pub other_blocks: Vec<String>,
    /// Whether the certificates are in chain order.
    pub chain: ChainOrder,
}

/// Whether `value` holds at least one PEM certificate.
pub fn looks_like_certificates(value: &[u8]) -> bool {
    std::str::from_utf8(value).is_ok_and(|text| text.contains(CERTIFICATE_MARKER))
}

/// Reads every PEM block of `value` and analyses the certificates.
pub fn analyze(value: &[u8]) -> Result<PemBundle, CertError> {
    let mut ders = Vec::new();
    let mut other_blocks = Vec::new();
    for (i, block) in Pem::iter_from_buffer(value).enumerate() {
        let block = block.map_err(|e| CertError::Pem {
            index: i + 1,
            message: e.to_string(),
        })?;
        if block.label == "CERTIFICATE" {
            ders.push(block.contents);
        } else {
            other_blocks.push(block.label);
        }
    }
    if ders.is_empty() {
        return Err(CertError::NoCertificate);
    }
    let mut parsed = Vec::with_capacity(ders.len());
    for (i, der) in ders.iter().enumerate() {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError::X509 {
            index: i + 1,
            message: e.to_string(),
        })?;
        parsed.push(cert);
    }
    let certificates = parsed.iter().map(cert_info).collect();
    let chain = chain_order(&parsed);
    Ok(PemBundle {
        certificates,
        other_blocks,
        chain,
    })
}

fn timestamp(t: &x509_parser::time::ASN1Time) -> Timestamp {
    Timestamp::from_second(t.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn cert_info(cert: &X509Certificate<'_>) -> CertInfo {
    let sans = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| ext.value.general_names.iter().map(general_name).collect())
        .unwrap_or_default();
    let serial = cert
        .raw_serial()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    CertInfo {
        subject: name_or_empty(&cert.subject().to_string()),
        issuer: name_or_empty(&cert.issuer().to_string()),
        sans,
        not_before: timestamp(&cert.validity().not_before),
        not_after: timestamp(&cert.validity().not_after),
        key: key_description(cert),
        is_ca: cert.is_ca(),
        serial,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw()
            && cert.verify_signature(None).is_ok(),
    }
}

fn name_or_empty(name: &str) -> String {
    if name.is_empty() {
        "(empty)".to_string()
    } else {
        name.to_string()
    }
}

fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::RFC822Name(e) => format!("email:{e}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => format!(
                "IP:{}",
                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).unwrap_or_default())
            ),
            16 => format!(
                "IP:{}",
                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).unwrap_or_default())
            ),
            _ => format!("IP:{}", hex_bytes(bytes)),
        },
        GeneralName::DirectoryName(n) => format!("DirName:{n}"),
        other => format!("{other:?}"),
    }
}

fn hex_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_description(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    let alg = &spki.algorithm.algorithm;
    if *alg == oid_registry::OID_SIG_ED25519 {
        return "Ed25519".into();
    }
    if *alg == oid_registry::OID_SIG_ED448 {
        return "Ed448".into();
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            let name = match curve {
                Some(oid) if oid == oid_registry::OID_EC_P256 => "P-256".to_string(),
                Some(oid) if oid == oid_registry::OID_NIST_EC_P384 => "P-384".to_string(),
                Some(oid) if oid == oid_registry::OID_NIST_EC_P521 => "P-521".to_string(),
                Some(oid) => oid.to_id_string(),
                None => "unknown curve".to_string(),
            };
            format!("EC {name}")
        }
        Ok(PublicKey::DSA(_)) => {
            format!("DSA {}", spki.parsed().map(|k| k.key_size()).unwrap_or(0))
        }
        _ => format!("algorithm {}", alg.to_id_string()),
    }
}

/// Whether `issuer` issued `cert`: names match and the signature verifies.
fn issued_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == issuer.subject().as_raw()
        && cert.verify_signature(Some(issuer.public_key())).is_ok()
}

fn chain_order(certs: &[X509Certificate<'_>]) -> ChainOrder {
    if certs.len() < 2 {
        return ChainOrder::Single;
    }
    for i in 0..certs.len() - 1 {
        if issued_by(&certs[i], &certs[i + 1]) {
            continue;
        }
        let elsewhere = (0..certs.len()).find(|&j| j != i && issued_by(&certs[i], &certs[j]));
        let detail = match elsewhere {
            Some(j) => format!(
                "certificate {} is issued by certificate {}, which should come right after it: order the bundle leaf first, each certificate followed by its issuer",
                i + 1,
                j + 1
            ),
            None if certs[i].subject().as_raw() == certs[i].issuer().as_raw() => format!(
                "certificate {} is self-signed (a root) but more certificates follow it: a root belongs at the end of the bundle, or nowhere",
                i + 1
            ),
            None => format!(
                "certificate {} was not issued by certificate {} (its issuer is {:?}): the issuing certificate is missing or misplaced",
                i + 1,
                i + 2,
                certs[i].issuer().to_string()
            ),
        };
        return ChainOrder::Problem {
            index: i + 1,
            detail,
        };
    }
    ChainOrder::Ordered
}

/// Validity of a certificate at `now`, as a warning or `None` when fine.
pub fn validity_warning(cert: &CertInfo, now: Timestamp) -> Option<String> {
    if now < cert.not_before {
        return Some(format!(
            "not valid yet: starts in {}",
            human_span(cert.not_before.as_second() - now.as_second())
        ));
    }
    let left = cert.not_after.as_second() - now.as_second();
    if left <= 0 {
        Some(format!("EXPIRED {} ago", human_span(-left)))
    } else if left < RENEW_WARNING_DAYS * 86_400 {
        Some(format!(
            "expires in {}, under {RENEW_WARNING_DAYS} days: renew it",
            human_span(left)
        ))
    } else {
        None
    }
}

fn human_span(seconds: i64) -> String {
    kubectl_kit::output::human_duration(std::time::Duration::from_secs(seconds.max(0) as u64))
}

fn time_left(cert: &CertInfo, now: Timestamp) -> String {
    let left = cert.not_after.as_second() - now.as_second();
    if left <= 0 {
        format!("expired {} ago", human_span(-left))
    } else {
        format!("{} left", human_span(left))
    }
}

fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The bundle as text: one block per certificate, then the chain check.
pub fn render(bundle: &PemBundle, now: Timestamp, style: &Style) -> String {
    let mut out = String::new();
    let total = bundle.certificates.len();
    for (i, cert) in bundle.certificates.iter().enumerate() {
        let role = if cert.self_signed {
            if cert.is_ca { "root CA" } else { "self-signed" }
        } else if cert.is_ca {
            "intermediate CA"
        } else {
            "leaf"
        };
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{}",
            style.bold(&format!("Certificate {} of {total} ({role})", i + 1))
        );
        let _ = writeln!(out, "  Subject:     {}", cert.subject);
        let _ = writeln!(out, "  Issuer:      {}", cert.issuer);
        if !cert.sans.is_empty() {
            let _ = writeln!(out, "  SANs:        {}", cert.sans.join(", "));
        }
        let _ = writeln!(out, "  Not before:  {}", format_time(cert.not_before));
        let _ = writeln!(
            out,
            "  Not after:   {} ({})",
            format_time(cert.not_after),
            time_left(cert, now)
        );
        let _ = writeln!(out, "  Key:         {}", cert.key);
        let _ = writeln!(out, "  Serial:      {}", cert.serial);
        if let Some(warning) = validity_warning(cert, now) {
            let _ = writeln!(out, "  {}", style.warning(&format!("WARNING: {warning}")));
        }
    }
    if !bundle.other_blocks.is_empty() {
        let _ = writeln!(
            out,
            "\nAlso holds: {} (not shown)",
            bundle.other_blocks.join(", ")
        );
    }
    match &bundle.chain {
        ChainOrder::Single => {}
        ChainOrder::Ordered => {
            let _ = writeln!(
                out,
                "\nChain order: ok (each certificate is followed by its issuer)"
            );
        }
        ChainOrder::Problem { detail, .. } => {
            let _ = writeln!(
                out,
                "\n{}",
                style.warning(&format!("Chain order: WRONG: {detail}"))
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

    struct Made {
        pem: String,
        key: KeyPair,
        params: CertificateParams,
    }

    fn ca(name: &str, parent: Option<&Made>) -> Made {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = match parent {
            None => params.self_signed(&key).unwrap(),
            Some(p) => {
                let issuer = Issuer::from_params(&p.params, &p.key);
                params.signed_by(&key, &issuer).unwrap()
            }
        };
        Made {
            pem: cert.pem(),
            key,
            params,
        }
    }

    fn leaf(parent: &Made, days_valid: i64) -> String {
        let mut params = CertificateParams::new(vec!["app.example.com".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "app.example.com");
        params
            .subject_alt_names
            .push(SanType::IpAddress("10.0.0.1".parse().unwrap()));
        let now = std::time::SystemTime::now();
        let start = now - std::time::Duration::from_secs(86_400 * 400);
        params.not_before = start.into();
        let end = if days_valid >= 0 {
            now + std::time::Duration::from_secs(86_400 * days_valid as u64)
        } else {
            now - std::time::Duration::from_secs(86_400 * (-days_valid) as u64)
        };
        params.not_after = end.into();
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&parent.params, &parent.key);
        params.signed_by(&key, &issuer).unwrap().pem()
    }

    #[test]
    fn a_leaf_shows_names_sans_key_and_validity() {
        let root = ca("Example Root", None);
        let pem = leaf(&root, 90);
        let bundle = analyze(pem.as_bytes()).unwrap();
        assert_eq!(bundle.chain, ChainOrder::Single);
        let cert = &bundle.certificates[0];
        assert_eq!(cert.subject, "CN=app.example.com");
        assert_eq!(cert.issuer, "CN=Example Root");
        assert_eq!(cert.sans, ["DNS:app.example.com", "IP:10.0.0.1"]);
        assert_eq!(cert.key, "EC P-256");
        assert!(!cert.is_ca && !cert.self_signed);
        assert_eq!(validity_warning(cert, Timestamp::now()), None);
        let text = render(&bundle, Timestamp::now(), &Style::plain());
        assert!(text.contains("Certificate 1 of 1 (leaf)"), "{text}");
        assert!(text.contains("(89d") || text.contains("(90d"), "{text}");
    }

    #[test]
    fn expired_and_expiring_certificates_warn() {
        let root = ca("Example Root", None);
        let expired = analyze(leaf(&root, -3).as_bytes()).unwrap();
        let warning = validity_warning(&expired.certificates[0], Timestamp::now()).unwrap();
        assert!(
            warning.starts_with("EXPIRED 2d") || warning.starts_with("EXPIRED 3d"),
            "{warning}"
        );
        let soon = analyze(leaf(&root, 10).as_bytes()).unwrap();
        let warning = validity_warning(&soon.certificates[0], Timestamp::now()).unwrap();
        assert!(warning.contains("under 30 days"), "{warning}");
        let text = render(&expired, Timestamp::now(), &Style::plain());
        assert!(text.contains("WARNING: EXPIRED"), "{text}");
    }

    #[test]
    fn chain_order_is_checked_with_signatures() {
        let root = ca("Example Root", None);
        let intermediate = ca("Example Intermediate", Some(&root));
        let leaf = leaf(&intermediate, 90);
        let good = format!("{leaf}{}{}", intermediate.pem, root.pem);
        let bundle = analyze(good.as_bytes()).unwrap();
        assert_eq!(bundle.chain, ChainOrder::Ordered);
        assert!(bundle.certificates[2].self_signed && bundle.certificates[2].is_ca);
        assert!(!bundle.certificates[1].self_signed && bundle.certificates[1].is_ca);

        let swapped = format!("{}{leaf}", intermediate.pem);
        match analyze(swapped.as_bytes()).unwrap().chain {
            ChainOrder::Problem { index, detail } => {
                assert_eq!(index, 1);
                assert!(detail.contains("not issued by certificate 2"), "{detail}");
            }
            other => panic!("{other:?}"),
        }

        let misplaced = format!("{leaf}{}{}", root.pem, intermediate.pem);
        match analyze(misplaced.as_bytes()).unwrap().chain {
            ChainOrder::Problem { index, detail } => {
                assert_eq!(index, 1);
                assert!(detail.contains("issued by certificate 3"), "{detail}");
            }
            other => panic!("{other:?}"),
        }

        // Same names, different key: the signature check catches an impostor issuer.
        let impostor = ca("Example Intermediate", Some(&root));
        let forged = format!("{leaf}{}", impostor.pem);
        assert!(matches!(
            analyze(forged.as_bytes()).unwrap().chain,
            ChainOrder::Problem { index: 1, .. }
        ));
    }

    #[test]
    fn private_keys_are_named_not_shown() {
        let root = ca("Example Root", None);
        let bundle_text = format!("{}{}", root.pem, root.key.serialize_pem());
        let bundle = analyze(bundle_text.as_bytes()).unwrap();
        assert_eq!(bundle.other_blocks, ["PRIVATE KEY"]);
        let text = render(&bundle, Timestamp::now(), &Style::plain());
        assert!(text.contains("Also holds: PRIVATE KEY (not shown)"));
        assert!(!text.contains("BEGIN"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(analyze(b"hello"), Err(CertError::NoCertificate)));
        let bad = format!("{CERTIFICATE_MARKER}\nAAAA\n-----END CERTIFICATE-----\n");
        assert!(matches!(
            analyze(bad.as_bytes()),
            Err(CertError::X509 { index: 1, .. })
        ));
        assert!(looks_like_certificates(bad.as_bytes()));
        assert!(!looks_like_certificates(b"plain"));
    }
}
