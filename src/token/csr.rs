//! PKCS#10 certificate requests, as far as the bootstrap flow needs them:
//! the subject (a kubelet asks as `O=system:nodes, CN=system:node:<name>`),
//! whether it names SANs, and its self-signature. A small DER reader rather
//! than an X.509 crate: the dev cluster checks what kube-apiserver checks
//! (`ParseCSR` + `CheckSignature`), the join writes requests with rcgen, and
//! the audit only reads the subject.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature;

/// What a certificate request says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRequest {
    pub common_name: Option<String>,
    pub organizations: Vec<String>,
    /// The request asks for subject alternative names (DNS, IP, email, URI).
    pub has_sans: bool,
    /// The key the certificate is asked for.
    pub public_key: RequestKey,
}

/// A request's public key: what a certificate issued for it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub algorithm: KeyAlgorithm,
    /// The SubjectPublicKeyInfo's key bits.
    pub bits: Vec<u8>,
}

/// The key types kube-apiserver's CSR validation accepts signatures from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    Rsa,
    Ed25519,
}

impl CertRequest {
    /// `<name>` of a `system:node:<name>` subject.
    pub fn node_name(&self) -> Option<&str> {
        self.common_name.as_deref()?.strip_prefix("system:node:")
    }
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_SAN: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x11];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const OID_RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
    raw: &'a [u8],
}

/// One DER element off the front of `input`, and what follows it.
fn next(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let short = || "truncated DER element".to_string();
    let (&tag, rest) = input.split_first().ok_or_else(short)?;
    let (&first, rest) = rest.split_first().ok_or_else(short)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("invalid DER length".into());
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(short());
    }
    let header = input.len() - rest.len();
    Ok((
        Tlv {
            tag,
            body: &rest[..len],
            raw: &input[..header + len],
        },
        &rest[len..],
    ))
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(Tlv<'a>, &'a [u8]), String> {
    let (t, rest) = next(input)?;
    if t.tag != tag {
        return Err(format!("malformed certificate request: expected {what}"));
    }
    Ok((t, rest))
}

/// The contents of a BIT STRING with no unused bits.
fn bit_string(t: &Tlv<'_>) -> Result<Vec<u8>, String> {
    match t.body.split_first() {
        Some((0, bits)) => Ok(bits.to_vec()),
        _ => Err("malformed certificate request: bad bit string".into()),
    }
}

/// An AlgorithmIdentifier: its OID and its parameters' raw body (if an OID).
fn algorithm(t: &Tlv<'_>) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let (oid, rest) = expect(t.body, 0x06, "an algorithm OID")?;
    let params = match next(rest) {
        Ok((p, _)) if p.tag == 0x06 => Some(p.body.to_vec()),
        _ => None,
    };
    Ok((oid.body.to_vec(), params))
}

/// Reads a Name: (CN, [O]).
fn subject(name: &[u8]) -> Result<(Option<String>, Vec<String>), String> {
    let mut cn = None;
    let mut orgs = Vec::new();
    let mut sets = name;
    while !sets.is_empty() {
        let (set, rest) = expect(sets, 0x31, "a relative distinguished name")?;
        sets = rest;
        let mut atvs = set.body;
        while !atvs.is_empty() {
            let (atv, rest) = expect(atvs, 0x30, "an attribute")?;
            atvs = rest;
            let (oid, rest) = expect(atv.body, 0x06, "an attribute OID")?;
            let (value, _) = next(rest)?;
            let text = String::from_utf8_lossy(value.body).into_owned();
            if oid.body == OID_CN {
                cn = Some(text);
            } else if oid.body == OID_O {
                orgs.push(text);
            }
        }
    }
    Ok((cn, orgs))
}

/// Parses a DER request and checks its self-signature, as kube-apiserver's
/// CSR validation does.
pub fn parse_der(der: &[u8]) -> Result<CertRequest, String> {
    let (outer, _) = expect(der, 0x30, "a SEQUENCE")?;
    let (info, rest) = expect(outer.body, 0x30, "CertificationRequestInfo")?;
    let (sig_alg, rest) = expect(rest, 0x30, "a signature algorithm")?;
    let (sig, _) = expect(rest, 0x03, "a signature")?;

    let (_version, rest) = expect(info.body, 0x02, "a version")?;
    let (name, rest) = expect(rest, 0x30, "a subject")?;
    let (spki, rest) = expect(rest, 0x30, "a public key")?;
    let attributes = rest;

    let (key_alg, key_bits) = expect(spki.body, 0x30, "a key algorithm")?;
    let (key_oid, curve) = algorithm(&key_alg)?;
    let (key_bits, _) = expect(key_bits, 0x03, "the public key bits")?;
    let key = bit_string(&key_bits)?;
    let (sig_oid, _) = algorithm(&sig_alg)?;
    let sig = bit_string(&sig)?;

    let verifier: &dyn signature::VerificationAlgorithm = match sig_oid.as_slice() {
        OID_ECDSA_SHA256 if key_oid == OID_EC_PUBLIC_KEY && curve.as_deref() == Some(OID_P256) => {
            &signature::ECDSA_P256_SHA256_ASN1
        }
        OID_ECDSA_SHA384 if key_oid == OID_EC_PUBLIC_KEY && curve.as_deref() == Some(OID_P384) => {
            &signature::ECDSA_P384_SHA384_ASN1
        }
        OID_RSA_SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        OID_ED25519 => &signature::ED25519,
        _ => return Err("x509: cannot verify signature: algorithm unimplemented".into()),
    };
    signature::UnparsedPublicKey::new(verifier, &key)
        .verify(info.raw, &sig)
        .map_err(|_| "x509: signature verification failure".to_string())?;

    let algorithm = match (key_oid.as_slice(), curve.as_deref()) {
        (OID_EC_PUBLIC_KEY, Some(OID_P256)) => KeyAlgorithm::EcdsaP256,
        (OID_EC_PUBLIC_KEY, Some(OID_P384)) => KeyAlgorithm::EcdsaP384,
        (OID_RSA_ENCRYPTION, _) => KeyAlgorithm::Rsa,
        (OID_ED25519, _) => KeyAlgorithm::Ed25519,
        _ => return Err("x509: unsupported public key algorithm".into()),
    };
    let (common_name, organizations) = subject(name.body)?;
    Ok(CertRequest {
        common_name,
        organizations,
        has_sans: attributes.windows(OID_SAN.len()).any(|w| w == OID_SAN),
        public_key: RequestKey {
            algorithm,
            bits: key,
        },
    })
}

/// A DER certificate's subject: (CN, [O]), as kube-apiserver's x509
/// authenticator makes them the user name and groups.
pub fn certificate_subject(der: &[u8]) -> Result<(Option<String>, Vec<String>), String> {
    let (cert, _) = expect(der, 0x30, "a certificate")?;
    let (tbs, _) = expect(cert.body, 0x30, "a TBSCertificate")?;
    let mut rest = tbs.body;
    // [0] EXPLICIT version, when not v1.
    if rest.first() == Some(&0xa0) {
        rest = next(rest)?.1;
    }
    let (_serial, rest) = expect(rest, 0x02, "a serial number")?;
    let (_sig, rest) = expect(rest, 0x30, "a signature algorithm")?;
    let (_issuer, rest) = expect(rest, 0x30, "an issuer")?;
    let (_validity, rest) = expect(rest, 0x30, "a validity")?;
    let (name, _) = expect(rest, 0x30, "a subject")?;
    subject(name.body)
}

/// Parses `spec.request` as the API carries it: PEM, base64-encoded.
pub fn parse_request_field(b64: &str) -> Result<CertRequest, String> {
    let pem = STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("illegal base64 data: {e}"))?;
    parse_pem(&pem)
}

/// Parses one `CERTIFICATE REQUEST` PEM block.
pub fn parse_pem(pem: &[u8]) -> Result<CertRequest, String> {
    let text =
        std::str::from_utf8(pem).map_err(|_| "PEM block type must be CERTIFICATE REQUEST")?;
    let begin = "-----BEGIN CERTIFICATE REQUEST-----";
    let end = "-----END CERTIFICATE REQUEST-----";
    let body = text
        .split_once(begin)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(body, _)| body)
        .ok_or("PEM block type must be CERTIFICATE REQUEST")?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(compact)
        .map_err(|_| "failed to decode PEM block containing certificate request")?;
    parse_der(&der)
}

/// A fresh ECDSA P-256 request for `system:node:<node>` in `system:nodes`,
/// as a kubelet's bootstrap writes it. Returns the PEM.
pub fn kubelet_client_request(node: &str) -> Result<String, String> {
    kubelet_client_key_and_request(node).map(|(_, csr)| csr)
}

/// [`kubelet_client_request`] with its private key: `(key PEM, request PEM)`.
pub fn kubelet_client_key_and_request(node: &str) -> Result<(String, String), String> {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
    let key = KeyPair::generate().map_err(|e| format!("generating a private key: {e}"))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "system:nodes");
    dn.push(DnType::CommonName, format!("system:node:{node}"));
    params.distinguished_name = dn;
    let csr = params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .map_err(|e| format!("creating the certificate request: {e}"))?;
    Ok((key.serialize_pem(), csr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubelet_request_round_trips() {
        let pem = kubelet_client_request("worker-1").expect("csr");
        let req = parse_pem(pem.as_bytes()).expect("parses and verifies");
        assert_eq!(req.node_name(), Some("worker-1"));
        assert_eq!(req.organizations, ["system:nodes"]);
        assert!(!req.has_sans);
    }

    #[test]
    fn a_tampered_request_fails_its_signature() {
        let pem = kubelet_client_request("worker-1").expect("csr");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut der = STANDARD.decode(body).expect("b64");
        // Flip a byte inside the CN.
        let at = der
            .windows(6)
            .position(|w| w == b"worker")
            .expect("cn in der");
        der[at] = b'v';
        assert!(parse_der(&der).is_err());
        assert!(parse_pem(b"not pem").is_err());
        assert!(parse_der(&[0x30, 0x05, 0x01]).is_err());
    }
}
