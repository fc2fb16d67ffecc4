//! Certificates for the server: a serving CA, the serving certificate for
//! `127.0.0.1`/`localhost`, and a client CA that signs client certificates
//! (CN = user name, O = groups), as kube-apiserver's `--client-ca-file` expects,
//! and the front-proxy CA with the `front-proxy-client` certificate the
//! aggregator presents to extension API servers
//! (`--requestheader-client-ca-file`, `--proxy-client-cert-file`).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A client certificate and its private key, both PEM encoded, as they go into a
/// kubeconfig's `client-certificate-data` / `client-key-data`.
#[derive(Clone, Debug)]
pub struct ClientCert {
    /// The certificate (PEM), signed by the server's client CA.
    pub cert_pem: String,
    /// The PKCS#8 private key (PEM).
    pub key_pem: String,
}

pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) server_chain: Vec<CertificateDer<'static>>,
    pub(crate) server_key_der: Vec<u8>,
    pub(crate) client_ca_der: CertificateDer<'static>,
    pub(crate) client_ca_pem: String,
    client_ca: CertifiedIssuer<'static, KeyPair>,
    /// The front-proxy CA (PEM): extension API servers trust identity headers
    /// only from a client certificate it signed.
    pub(crate) front_proxy_ca_pem: String,
    /// The aggregator's client certificate (CN `front-proxy-client`) and key.
    pub(crate) front_proxy_client: ClientCert,
}

/// The CN of the aggregator's client certificate, as kubeadm names it.
pub(crate) const FRONT_PROXY_CLIENT_CN: &str = "front-proxy-client";

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl Pki {
    pub(crate) fn generate() -> Result<Self, rcgen::Error> {
        let ca = CertifiedIssuer::self_signed(ca_params("kubernetes"), KeyPair::generate()?)?;

        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        params.distinguished_name = {
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, "kube-apiserver");
            dn
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let server_key = KeyPair::generate()?;
        let server_cert = params.signed_by(&server_key, &ca)?;

        let client_ca =
            CertifiedIssuer::self_signed(ca_params("kubernetes-client-ca"), KeyPair::generate()?)?;

        let front_proxy_ca =
            CertifiedIssuer::self_signed(ca_params("front-proxy-ca"), KeyPair::generate()?)?;
        let front_proxy_client = client_cert(FRONT_PROXY_CLIENT_CN, &[], &front_proxy_ca)?;

        Ok(Pki {
            ca_pem: ca.pem(),
            server_chain: vec![server_cert.der().clone()],
            server_key_der: server_key.serialize_der(),
            client_ca_der: client_ca.der().clone(),
            client_ca_pem: client_ca.pem(),
            client_ca,
            front_proxy_ca_pem: front_proxy_ca.pem(),
            front_proxy_client,
        })
    }

    pub(crate) fn server_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()))
    }

    /// Issues a client certificate the way `kubeadm` / the CSR API would: CN is the
    /// user name, each group is an O attribute.
    pub(crate) fn issue_client_cert(
        &self,
        user: &str,
        groups: &[&str],
    ) -> Result<ClientCert, rcgen::Error> {
        client_cert(user, groups, &self.client_ca)
    }
}

/// A client certificate signed by `issuer`: CN is the user name, each group an O.
fn client_cert(
    user: &str,
    groups: &[&str],
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> Result<ClientCert, rcgen::Error> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for group in groups {
        dn.push(DnType::OrganizationName, *group);
    }
    dn.push(DnType::CommonName, user);
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok(ClientCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Reads the user name (CN) and groups (O) from a verified client certificate.
pub(crate) fn identity_from_cert(der: &[u8]) -> Option<(String, Vec<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())?
        .to_string();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_string))
        .collect();
    Some((name, groups))
}
