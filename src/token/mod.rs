//! The bootstrap-token model: parse, validate, generate, TTL and expiry,
//! Secret encoding, cluster-info signatures. Pure: no I/O anywhere below here.

pub mod csr;
pub mod duration;
pub mod expiry;
pub mod human;
pub mod init_config;
pub mod jws;
pub mod quote;
pub mod secret;
pub mod validate;
pub mod value;

pub use duration::{DurationError, format_go_duration, parse_go_duration};
pub use expiry::Expiry;
pub use human::short_human_duration;
pub use quote::{go_quote, go_quote_bytes};
pub use secret::{BootstrapToken, SecretDecodeError};
pub use validate::{FieldError, FieldValue, ValidationErrors};
pub use value::{BootstrapTokenString, InvalidTokenError, TokenId};
