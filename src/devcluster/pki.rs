//! The dev cluster's CA and serving certificate. Generated once and kept
//! beside the state file, so a restart serves the same CA and an existing
//! kubeconfig stays valid.

use std::fs;
use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

/// PEM-encoded CA certificate, serving certificate and serving key.
#[derive(Clone)]
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
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

impl Pki {
    pub fn generate() -> anyhow::Result<Pki> {
        let mut ca_params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "tokensmith-dev-ca");
        ca_params.distinguished_name = dn;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().context("generating the dev cluster CA key")?;
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)
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
            }),
            _ => {
                let pki = Pki::generate()?;
                fs::create_dir_all(dir)
                    .with_context(|| format!("creating state directory {}", dir.display()))?;
                write_private(&dir.join(CA_FILE), &pki.ca_pem)?;
                write_private(&dir.join(CERT_FILE), &pki.cert_pem)?;
                write_private(&dir.join(KEY_FILE), &pki.key_pem)?;
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
