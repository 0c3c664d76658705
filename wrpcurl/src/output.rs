//! Writing what a command shows to stdout.

use std::io::Write as _;

use crate::error::{Error, Result};

/// Writes `text` to stdout and flushes it, so that a reader of a pipe sees it at once; a
/// closed stdout (or a full disk) is [`Error::Output`], not a panic as `print!` would make it.
pub fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Error::Output)
}
