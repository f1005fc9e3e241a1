//! CA public-key pins (kubeadm `util/pubkeypin`): `sha256:` + hex of SHA-256
//! over each CA certificate's DER SubjectPublicKeyInfo.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// One pin per certificate in the PEM bundle, in PEM order.
pub fn pins_from_pem(pem: &[u8]) -> Result<Vec<String>, String> {
    let mut pins = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert =
            cert.map_err(|e| format!("failed to parse CA certificate from kubeconfig: {e}"))?;
        pins.push(pin_for_der(&cert)?);
    }
    if pins.is_empty() {
        return Err("no CA certificates found in kubeconfig".to_owned());
    }
    Ok(pins)
}

/// The pin of one DER certificate.
pub fn pin_for_der(cert: &CertificateDer<'_>) -> Result<String, String> {
    let anchor = webpki::anchor_from_trusted_cert(cert)
        .map_err(|e| format!("failed to parse CA certificate from kubeconfig: {e:?}"))?;
    // spki_for_anchor re-wraps the SPKI in its outer SEQUENCE: exactly Go's
    // `RawSubjectPublicKeyInfo`.
    let spki = webpki::spki_for_anchor(&anchor);
    let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
    Ok(format!("sha256:{}", hex(digest.as_ref())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A pin as `kubeadm join --discovery-token-ca-cert-hash` accepts it: the
/// format name is case-insensitive, the hex must be 32 bytes; stored lower-case.
pub fn parse_pin(s: &str) -> Result<String, String> {
    let Some((format, value)) = s.split_once(':') else {
        return Err("invalid public key hash, expected \"format:value\"".to_owned());
    };
    if !format.eq_ignore_ascii_case("sha256") {
        return Err(format!(
            "unknown hash format {}",
            crate::token::go_quote(format)
        ));
    }
    if value.len() % 2 != 0 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "invalid hex in public key hash: {}",
            crate::token::go_quote(value)
        ));
    }
    if value.len() != 64 {
        return Err(format!(
            "expected a 32 byte SHA-256 hash, found {} bytes",
            value.len() / 2
        ));
    }
    Ok(format!("sha256:{}", value.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key pair's SubjectPublicKeyInfo, decoded from rcgen's PEM: an
    /// encoding path independent of the certificate parser under test.
    fn spki_der(key: &rcgen::KeyPair) -> Vec<u8> {
        rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_slice(key.public_key_pem().as_bytes())
            .unwrap()
            .as_ref()
            .to_vec()
    }

    #[test]
    fn pins_match_the_ca_public_key() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let pins = pins_from_pem(cert.pem().as_bytes()).unwrap();
        // The SPKI rcgen embeds is the key pair's public key DER.
        let expect = ring::digest::digest(&ring::digest::SHA256, &spki_der(&key));
        assert_eq!(pins, [format!("sha256:{}", hex(expect.as_ref()))]);
    }

    #[test]
    fn bundles_give_one_pin_per_cert_in_order() {
        let mk = || {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            (p.self_signed(&key).unwrap().pem(), key)
        };
        let (a, ka) = mk();
        let (b, kb) = mk();
        let pins = pins_from_pem(format!("{a}{b}").as_bytes()).unwrap();
        let d = |k: &rcgen::KeyPair| {
            format!(
                "sha256:{}",
                hex(ring::digest::digest(&ring::digest::SHA256, &spki_der(k)).as_ref())
            )
        };
        assert_eq!(pins, [d(&ka), d(&kb)]);
    }

    #[test]
    fn empty_or_garbage_pem_is_an_error() {
        assert_eq!(
            pins_from_pem(b"").unwrap_err(),
            "no CA certificates found in kubeconfig"
        );
        assert!(
            pins_from_pem(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }

    #[test]
    fn parses_pins_like_kubeadm() {
        let hexs = "A".repeat(64);
        assert_eq!(
            parse_pin(&format!("SHA256:{hexs}")).unwrap(),
            format!("sha256:{}", "a".repeat(64))
        );
        assert_eq!(
            parse_pin("abc").unwrap_err(),
            "invalid public key hash, expected \"format:value\""
        );
        assert_eq!(
            parse_pin("md5:00").unwrap_err(),
            "unknown hash format \"md5\""
        );
        assert_eq!(
            parse_pin("sha256:0000").unwrap_err(),
            "expected a 32 byte SHA-256 hash, found 2 bytes"
        );
    }
}
