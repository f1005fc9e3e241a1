//! (placeholder until the output branch lands: same signatures)

use std::path::Path;

use super::{BootstrapToken, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum InitConfigError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("{0}")]
    Load(String),
}

pub fn bootstrap_tokens_from_config(
    _yaml: &str,
    source: &Path,
) -> Result<Vec<BootstrapToken>, InitConfigError> {
    Err(InitConfigError::Load(format!(
        "{}: config files are not supported yet",
        source.display()
    )))
}
