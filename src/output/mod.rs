//! (placeholder until the output branch lands: same signatures)

use crate::token::BootstrapToken;

pub struct PrintFlags {
    pub output: String,
    pub template: Option<String>,
    pub allow_missing_template_keys: bool,
    pub show_managed_fields: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("could not construct output printer: not built yet")]
pub struct PrinterError;

#[derive(Debug, thiserror::Error)]
#[error("print failed")]
pub struct PrintError;

pub struct TokenPrinter;

pub fn printer(_flags: &PrintFlags) -> Result<TokenPrinter, PrinterError> {
    Err(PrinterError)
}

impl TokenPrinter {
    pub fn print(
        &mut self,
        _token: &BootstrapToken,
        _now: jiff::Timestamp,
        _out: &mut dyn std::io::Write,
    ) -> Result<(), PrintError> {
        Err(PrintError)
    }
}
