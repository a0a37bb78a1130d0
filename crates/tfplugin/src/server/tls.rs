//! AutoMTLS (go-plugin): an ephemeral P-256 server certificate, TLS with ALPN
//! `h2`, and a client verifier that accepts only the exact certificate
//! Terraform passed in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is ECDSA P-521 and marked CA, so stock
//! webpki verification refuses it (`CaUsedAsEndEntity`) and the ring provider
//! cannot check its signatures. We pin the DER bytes and verify the handshake
//! signatures with the aws-lc-rs provider, which supports
//! `ecdsa_secp521r1_sha512` and offers it in the CertificateRequest (without
//! that scheme Go sends no certificate at all).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName as TlsDn, SignatureScheme,
};

/// AutoMTLS set-up errors; each makes [`super::serve`] fail before the handshake line.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` did not contain a PEM `CERTIFICATE` block.
    #[error("PLUGIN_CLIENT_CERT is not a PEM certificate: {0}")]
    ClientCertPem(String),
    /// Generating the ephemeral server key or certificate failed.
    #[error("generating the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration (e.g. the key does not match the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A new aws-lc-rs crypto provider, the one that can verify Terraform's ECDSA P-521
/// signatures (ring cannot). Independent of any process-wide default provider.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A certificate and its private key; the key never leaves the process.
#[derive(Debug)]
pub struct Identity {
    /// Self-signed leaf certificate, DER; its base64 goes into the handshake line.
    pub cert_der: CertificateDer<'static>,
    /// PKCS#8 private key of `cert_der`, DER.
    pub key_der: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A copy of the key as rustls wants it (`PrivateKeyDer::Pkcs8`).
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone_key())
    }
}

/// Self-signed certificate with go-plugin's profile: `O=HashiCorp, CN=localhost`,
/// SAN `DNS:localhost`, CA:TRUE, KU digitalSignature/keyEncipherment/keyAgreement/
/// keyCertSign, EKU serverAuth+clientAuth, NotBefore now-30 s, NotAfter ~30 years,
/// positive serial (rcgen derives it from the key hash with the top bit cleared). A new key
/// pair on every call.
///
/// # Errors
/// [`TlsError::Generate`] if rcgen cannot generate a key for `alg` or sign the certificate.
pub fn self_signed(alg: &'static rcgen::SignatureAlgorithm) -> Result<Identity, TlsError> {
    let key = KeyPair::generate_for(alg)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params.subject_alt_names = vec![SanType::DnsName("localhost".try_into()?)];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "HashiCorp");
    dn.push(DnType::CommonName, "localhost");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::hours(262_980);
    let cert = params.self_signed(&key)?;
    Ok(Identity {
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

/// The server's ephemeral identity: ECDSA P-256 (every TLS stack verifies it), new per process.
///
/// # Errors
/// As [`self_signed`].
pub fn server_identity() -> Result<Identity, TlsError> {
    self_signed(&rcgen::PKCS_ECDSA_P256_SHA256)
}

/// Parses the first `CERTIFICATE` block in a PEM string (`PLUGIN_CLIENT_CERT`), ignoring
/// other text; the DER is not parsed or validated further (it is only compared byte-wise).
///
/// # Errors
/// [`TlsError::ClientCertPem`] when there is no certificate block or its base64 is bad.
pub fn parse_cert_pem(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TlsError::ClientCertPem(e.to_string()))
}

/// PEM text of a DER certificate (what Terraform puts in `PLUGIN_CLIENT_CERT`): 64-column
/// base64 lines, trailing newline. [`parse_cert_pem`] reads it back to the same bytes.
pub fn cert_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Accepts exactly one pinned certificate; verifies handshake signatures with
/// the aws-lc-rs algorithms (including ECDSA P-521).
///
/// Client authentication is mandatory. The client must present exactly the pinned DER and no
/// intermediates; no chain, name, key-usage or validity-period checks are made, which is what
/// go-plugin's AutoMTLS amounts to (the certificate is trusted because Terraform passed it).
#[derive(Debug)]
pub struct PinnedClientCertVerifier {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCertVerifier {
    /// A verifier that accepts only `cert` (byte-for-byte).
    pub fn new(cert: CertificateDer<'static>) -> Self {
        Self {
            pinned: cert,
            algorithms: rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[TlsDn] {
        // Empty: Go does not filter its certificate on an empty list.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if intermediates.is_empty() && end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused TLS client: certificate is not the pinned PLUGIN_CLIENT_CERT");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Server TLS config: TLS 1.2 and 1.3 (rustls' safe defaults), our identity, the pinned client
/// verifier, ALPN `h2` only (gRPC), aws-lc-rs crypto.
///
/// # Errors
/// [`TlsError::Rustls`] if rustls rejects the identity.
pub fn server_config(
    identity: &Identity,
    pinned_client: CertificateDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(PinnedClientCertVerifier::new(pinned_client)))
        .with_single_cert(vec![identity.cert_der.clone()], identity.private_key())?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_offers_p521() {
        let id = server_identity().expect("cert");
        let v = PinnedClientCertVerifier::new(id.cert_der.clone());
        assert!(
            v.supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn pem_round_trip() {
        let id = server_identity().expect("cert");
        let pem = cert_to_pem(id.cert_der.as_ref());
        assert_eq!(parse_cert_pem(&pem).expect("pem"), id.cert_der);
        assert!(parse_cert_pem("garbage").is_err());
    }

    #[test]
    fn pinning() {
        let a = server_identity().expect("a");
        let b = server_identity().expect("b");
        let v = PinnedClientCertVerifier::new(a.cert_der.clone());
        let now = UnixTime::now();
        assert!(v.verify_client_cert(&a.cert_der, &[], now).is_ok());
        assert!(v.verify_client_cert(&b.cert_der, &[], now).is_err());
        assert!(
            v.verify_client_cert(&a.cert_der, std::slice::from_ref(&b.cert_der), now)
                .is_err()
        );
    }
}
