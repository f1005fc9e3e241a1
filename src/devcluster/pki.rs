//! The dev cluster's CA and serving certificate. Generated once and kept
//! beside the state file, so a restart serves the same CA and an existing
//! kubeconfig stays valid. The CA also signs approved kubelet client CSRs
//! ([`Pki::sign_client_certificate`], as kube-controller-manager's
//! csrsigning does with the cluster CA).

use std::fs;
use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
    SignatureAlgorithm,
};

use crate::token::csr::{CertRequest, KeyAlgorithm, RequestKey};

/// PEM-encoded CA certificate, serving certificate and serving key.
#[derive(Clone)]
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    /// The CA's key; `None` in a state directory from before CSR signing
    /// (such a cluster approves CSRs but issues no certificates).
    pub ca_key_pem: Option<String>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

const CA_FILE: &str = "ca.crt";
const CERT_FILE: &str = "apiserver.crt";
const KEY_FILE: &str = "apiserver.key";
const CA_KEY_FILE: &str = "ca.key";
const CA_NAME: &str = "tokensmith-dev-ca";

/// The CA's parameters: what its certificate says, and what an issuer built
/// from it again (same name, same key) puts in the certificates it signs.
fn ca_params() -> CertificateParams {
    let mut ca_params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
}

/// A CSR's public key, for rcgen to put in the certificate.
struct RequestedKey<'a>(&'a RequestKey);

impl PublicKeyData for RequestedKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.0.bits
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self.0.algorithm {
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlgorithm::Rsa => &rcgen::PKCS_RSA_SHA256,
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }
}

/// Certificates start this long before they are signed, for clock skew
/// (csrsigning's backdate).
const BACKDATE: std::time::Duration = std::time::Duration::from_secs(5 * 60);

impl Pki {
    pub fn generate() -> anyhow::Result<Pki> {
        let ca_key = KeyPair::generate().context("generating the dev cluster CA key")?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params(), ca_key)
            .context("self-signing the dev cluster CA")?;

        let mut params = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
        ])
        .context("building the serving certificate's names")?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kube-apiserver");
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate().context("generating the serving key")?;
        let cert = params
            .signed_by(&key, &ca)
            .context("signing the serving certificate")?;
        Ok(Pki {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_key_pem: Some(ca_key_pem),
        })
    }

    /// Loads the PKI kept in `dir`, or generates and saves one (key mode 0600).
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Pki> {
        let read = |f: &str| fs::read_to_string(dir.join(f));
        match (read(CA_FILE), read(CERT_FILE), read(KEY_FILE)) {
            (Ok(ca_pem), Ok(cert_pem), Ok(key_pem)) => Ok(Pki {
                ca_pem,
                cert_pem,
                key_pem,
                ca_key_pem: read(CA_KEY_FILE).ok(),
            }),
            _ => {
                let pki = Pki::generate()?;
                fs::create_dir_all(dir)
                    .with_context(|| format!("creating state directory {}", dir.display()))?;
                write_private(&dir.join(CA_FILE), &pki.ca_pem)?;
                write_private(&dir.join(CERT_FILE), &pki.cert_pem)?;
                write_private(&dir.join(KEY_FILE), &pki.key_pem)?;
                if let Some(k) = &pki.ca_key_pem {
                    write_private(&dir.join(CA_KEY_FILE), k)?;
                }
                Ok(pki)
            }
        }
    }

    /// The CA certificate in DER, for a kube client's root store.
    pub fn ca_der(&self) -> anyhow::Result<Vec<u8>> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(self.ca_pem.as_bytes())
            .map_err(|e| anyhow::anyhow!("the dev cluster CA is not valid PEM: {e:?}"))?;
        Ok(der.to_vec())
    }
}

impl Pki {
    /// A client certificate for `req`'s key and subject (CN, O), valid for
    /// `lifetime` from `now` (backdated a little), signed by the CA: what the
    /// `kubernetes.io/kube-apiserver-client-kubelet` signer issues.
    pub fn sign_client_certificate(
        &self,
        req: &CertRequest,
        now: jiff::Timestamp,
        lifetime: std::time::Duration,
    ) -> anyhow::Result<String> {
        let ca_key = self
            .ca_key_pem
            .as_deref()
            .context("the dev cluster has no CA key (a state directory from before CSR signing)")?;
        let ca_key = KeyPair::from_pem(ca_key).context("reading the dev cluster CA key")?;
        let issuer = Issuer::new(ca_params(), ca_key);
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for o in &req.organizations {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        if let Some(cn) = &req.common_name {
            dn.push(DnType::CommonName, cn.as_str());
        }
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        let since_epoch = u64::try_from(now.as_second()).unwrap_or(0);
        params.not_before = epoch + std::time::Duration::from_secs(since_epoch) - BACKDATE;
        params.not_after = epoch + std::time::Duration::from_secs(since_epoch) + lifetime;
        let mut serial = [0u8; 16];
        rand::fill(&mut serial);
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params
            .signed_by(&RequestedKey(&req.public_key), &issuer)
            .context("signing the client certificate")?;
        Ok(cert.pem())
    }
}

/// Writes a file readable by its owner only, atomically.
pub fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = super::persist::parent_dir(path);
    fs::create_dir_all(&dir).with_context(|| format!("creating directory {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(content.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, UnixTime};

    use super::*;
    use crate::token::csr;

    #[test]
    fn a_signed_client_certificate_chains_to_the_ca_and_names_the_requester() {
        let pki = Pki::generate().expect("pki");
        let (_, request) = csr::kubelet_client_key_and_request("n1").expect("csr");
        let req = csr::parse_pem(request.as_bytes()).expect("request");
        let pem = pki
            .sign_client_certificate(&req, jiff::Timestamp::now(), Duration::from_secs(3600))
            .expect("signed");
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate");
        assert_eq!(
            csr::certificate_subject(&der),
            Ok((
                Some("system:node:n1".to_string()),
                vec!["system:nodes".to_string()]
            ))
        );
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(pki.ca_der().expect("ca der")))
            .expect("root");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .expect("verifier");
        verifier
            .verify_client_cert(&der, &[], UnixTime::now())
            .expect("a client certificate of the cluster CA");

        // Another CA's certificate does not verify.
        let other = Pki::generate().expect("pki");
        let foreign = other
            .sign_client_certificate(&req, jiff::Timestamp::now(), Duration::from_secs(3600))
            .expect("signed");
        let foreign = CertificateDer::from_pem_slice(foreign.as_bytes()).expect("pem");
        assert!(
            verifier
                .verify_client_cert(&foreign, &[], UnixTime::now())
                .is_err()
        );
    }

    #[test]
    fn a_state_directory_without_a_ca_key_cannot_sign() {
        let mut pki = Pki::generate().expect("pki");
        pki.ca_key_pem = None;
        let (_, request) = csr::kubelet_client_key_and_request("n1").expect("csr");
        let req = csr::parse_pem(request.as_bytes()).expect("request");
        let e = pki
            .sign_client_certificate(&req, jiff::Timestamp::now(), Duration::from_secs(3600))
            .expect_err("no key");
        assert!(e.to_string().contains("no CA key"), "{e}");
    }
}
