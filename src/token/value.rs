//! The bootstrap token string `<id>.<secret>` and its ID.
//!
//! Mirrors `cluster-bootstrap/token/util/helpers.go` and kubeadm's
//! `BootstrapTokenString` (`apis/bootstraptoken/v1/utils.go`).

use std::fmt;

use rand::RngExt;

use super::quote::go_quote;

/// `BootstrapTokenPattern`, printed in messages exactly as upstream prints it.
pub const TOKEN_PATTERN: &str = r"\A([a-z0-9]{6})\.([a-z0-9]{16})\z";
/// `BootstrapTokenIDPattern`.
pub const ID_PATTERN: &str = r"\A([a-z0-9]{6})\z";

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
pub const ID_LEN: usize = 6;
pub const SECRET_LEN: usize = 16;

fn is_token_char(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase()
}

/// True when `s` is a 6-character token ID (`[a-z0-9]{6}`).
pub fn is_valid_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(is_token_char)
}

/// The public half of a token: six characters of `[a-z0-9]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenId(String);

impl TokenId {
    /// Parses an ID, rejecting anything but `[a-z0-9]{6}`.
    pub fn parse(s: &str) -> Option<Self> {
        is_valid_id(s).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `bootstrap-token-<id>`, the name of the Secret that holds the token.
    pub fn secret_name(&self) -> String {
        format!("{SECRET_NAME_PREFIX}{}", self.0)
    }
}

/// `BootstrapTokenSecretPrefix`.
pub const SECRET_NAME_PREFIX: &str = "bootstrap-token-";

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({:?})", self.0)
    }
}

/// A whole bootstrap token. `Display` and `Debug` redact the secret; the only
/// way to the secret is [`BootstrapTokenString::expose`] or
/// [`BootstrapTokenString::secret`], so every place that reveals it is greppable.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BootstrapTokenString {
    id: TokenId,
    secret: String,
}

/// A string that is not `<id>.<secret>`; the message is kubeadm's
/// (`NewBootstrapTokenString`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bootstrap token {} was not of the form {}", go_quote(.input), go_quote(TOKEN_PATTERN))]
pub struct InvalidTokenError {
    /// The rejected input. It is not a valid token, so it holds no usable secret.
    pub input: String,
}

impl BootstrapTokenString {
    /// Parses `<id>.<secret>` exactly as `\A([a-z0-9]{6})\.([a-z0-9]{16})\z`
    /// (no surrounding white space, no trailing newline).
    ///
    /// ```
    /// use tokensmith::token::BootstrapTokenString;
    ///
    /// let t = BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap();
    /// assert_eq!(t.id().as_str(), "abcdef");
    /// assert_eq!(t.to_string(), "abcdef.****************"); // Display redacts
    /// assert!(BootstrapTokenString::parse("abcdef.0123456789abcdef\n").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, InvalidTokenError> {
        let invalid = || InvalidTokenError {
            input: s.to_owned(),
        };
        let (id, secret) = s.split_once('.').ok_or_else(invalid)?;
        let id = TokenId::parse(id).ok_or_else(invalid)?;
        if secret.len() != SECRET_LEN || !secret.bytes().all(is_token_char) {
            return Err(invalid());
        }
        // Every token the process holds is hidden from its logs from now on.
        crate::script::redact::remember(secret);
        Ok(Self {
            id,
            secret: secret.to_owned(),
        })
    }

    /// Builds a token from parts that were already validated separately.
    pub fn from_parts(id: &str, secret: &str) -> Result<Self, InvalidTokenError> {
        Self::parse(&format!("{id}.{secret}"))
    }

    /// A fresh token from the OS CSPRNG, each character uniform over the
    /// 36-symbol alphabet (`GenerateBootstrapToken`).
    pub fn generate() -> Self {
        let secret = random_chars(SECRET_LEN);
        crate::script::redact::remember(&secret);
        Self {
            id: TokenId(random_chars(ID_LEN)),
            secret,
        }
    }

    pub fn id(&self) -> &TokenId {
        &self.id
    }

    /// The 16-character secret. Callers must not log it.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The full `<id>.<secret>` string. Callers must not log it.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.id.0, self.secret)
    }

    /// `<id>.****************`, safe for logs and messages.
    pub fn redacted(&self) -> String {
        format!("{}.{}", self.id.0, "*".repeat(SECRET_LEN))
    }
}

/// Uniform sampling over 36 symbols: `random_range` rejects out-of-range
/// draws internally, so there is no modulo bias (unlike `byte % 36`).
fn random_chars(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl fmt::Display for BootstrapTokenString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for BootstrapTokenString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BootstrapTokenString({})", self.redacted())
    }
}

/// What `token delete` accepts: an ID, or a whole token whose secret is ignored.
/// Returns `None` for anything else.
pub fn id_from_id_or_token(s: &str) -> Option<TokenId> {
    TokenId::parse(s).or_else(|| BootstrapTokenString::parse(s).ok().map(|t| t.id().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_tokens_and_rejects_near_misses() {
        let t = BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap();
        assert_eq!(t.id().as_str(), "abcdef");
        assert_eq!(t.secret(), "0123456789abcdef");
        for bad in [
            "",
            ".",
            "abcdef.",
            ".0123456789abcdef",
            "abcdef.0123456789abcdef\n",
            " abcdef.0123456789abcdef",
            "ABCDEF.0123456789abcdef",
            "abcdef:0123456789abcdef",
            "abcde.0123456789abcdef",
            "abcdefg.0123456789abcdef",
            "abcdef.0123456789abcdeF",
            "abcdef.0123456789abcde",
            "abcdef.0123456789abcdef0",
            "abcdef.0123456789abcdef.x",
            "abc-ef.0123456789abcdef",
            "abcdéf.0123456789abcdef",
        ] {
            assert!(
                BootstrapTokenString::parse(bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn invalid_token_message_is_kubeadms() {
        let e = BootstrapTokenString::parse("foo").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"the bootstrap token "foo" was not of the form "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z""#
        );
    }

    #[test]
    fn display_and_debug_redact_the_secret() {
        let t = BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap();
        assert_eq!(t.to_string(), "abcdef.****************");
        assert!(!format!("{t:?}").contains("0123456789abcdef"));
        assert_eq!(t.expose(), "abcdef.0123456789abcdef");
    }

    #[test]
    fn generated_tokens_validate_and_vary() {
        let a = BootstrapTokenString::generate();
        let b = BootstrapTokenString::generate();
        assert!(BootstrapTokenString::parse(&a.expose()).is_ok());
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn generation_is_roughly_uniform_over_the_alphabet() {
        let mut counts = [0u32; 36];
        for _ in 0..3000 {
            for b in BootstrapTokenString::generate().expose().bytes() {
                if b != b'.' {
                    let i = ALPHABET.iter().position(|&c| c == b).unwrap();
                    counts[i] += 1;
                }
            }
        }
        // 66,000 draws: each symbol expects ~1833; a biased `% 36` over bytes
        // would still pass this, but a broken alphabet mapping would not.
        assert!(
            counts.iter().all(|&c| (1500..2200).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn delete_accepts_ids_and_tokens() {
        assert_eq!(id_from_id_or_token("abcdef").unwrap().as_str(), "abcdef");
        assert_eq!(
            id_from_id_or_token("abcdef.0123456789abcdef")
                .unwrap()
                .as_str(),
            "abcdef"
        );
        assert!(id_from_id_or_token("abcdef.").is_none());
    }
}
