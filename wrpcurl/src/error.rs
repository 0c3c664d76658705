//! The one error type of `wrpcurl`, and the exit status each kind of failure gives.

use std::path::PathBuf;

/// What went wrong, said so that the user knows what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No WIT where it was looked for.
    #[error(
        "no WIT at `{}`: run where a `wit/` folder is, or pass `--wit PATH` (a `.wit` file, or a \
         package folder with its `deps/`)",
        path.display()
    )]
    NoWit {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The WIT does not parse or resolve.
    #[error("cannot read the WIT at `{}`: {reason}", path.display())]
    Wit {
        /// The file or folder given.
        path: PathBuf,
        /// wit-parser's message, with its causes.
        reason: String,
    },
    /// The world to describe is missing or ambiguous.
    #[error("{0}")]
    World(String),
    /// A file given on the command line cannot be read or is not what it should be.
    #[error("cannot use `{}`: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and what would be right.
        reason: String,
    },
    /// A command-line value is not what it should be (clap checks the rest).
    #[error("{0}")]
    Usage(String),
    /// NATS or the provider could not be reached, or did not answer in time.
    #[error("{what}: {source}")]
    Transport {
        /// What was being done.
        what: String,
        /// The SDK's error.
        source: provider_sdk::Error,
    },
    /// The provider answered a health request: not healthy.
    #[error("the provider is unhealthy{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Unhealthy {
        /// Why, if it said.
        message: Option<String>,
    },
    /// The provider process could not be started, or ended badly.
    #[error("{0}")]
    Provider(String),
    /// The provider's link check refused a call.
    #[error(
        "the provider refused the call to `{function}`: {reason}\nwrpcurl calls as the component \
         that `--source-id` names, over the link `--link-name` names (default `default`): pass \
         those of a component linked to the provider, or put such a link first (`wrpcurl host \
         link put`)"
    )]
    Refused {
        /// The function called.
        function: String,
        /// Why, as the provider said it.
        reason: String,
    },
    /// The provider answered with results that do not decode as the WIT types them.
    #[error(
        "the results of `{function}` do not fit its WIT: {source}; does the provider serve this \
         version of the interface?"
    )]
    BadAnswer {
        /// The function called.
        function: String,
        /// The SDK's decoding error.
        source: provider_sdk::Error,
    },
    /// Something that cannot happen did: a bug in `wrpcurl`.
    #[error("internal error (a bug in wrpcurl; please report it): {0}")]
    Internal(String),
    /// What a command shows could not be written (stdout closed, disk full).
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit status for this error: 1 when the provider answered but not as hoped (or its
    /// process failed), 2 for bad input (as clap's own usage errors), 3 when NATS or the
    /// provider could not be reached or did not answer in time.
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::Unhealthy { .. }
            | Error::Provider(_)
            | Error::Output(_)
            | Error::Internal(_)
            | Error::Refused { .. }
            | Error::BadAnswer { .. } => 1,
            Error::NoWit { .. }
            | Error::Wit { .. }
            | Error::World(_)
            | Error::File { .. }
            | Error::Usage(_) => 2,
            Error::Transport { .. } => 3,
        }
    }

    /// A transport failure while doing `what`.
    pub(crate) fn transport(what: impl Into<String>, source: provider_sdk::Error) -> Self {
        Error::Transport {
            what: what.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_failure_have_their_own_exit_status() {
        let codes = [
            Error::Unhealthy { message: None }.exit_status(),
            Error::Usage("x".into()).exit_status(),
            Error::transport("health", provider_sdk::Error::Closed).exit_status(),
        ];
        assert_eq!(codes, [1, 2, 3]);
    }

    #[test]
    fn unhealthy_says_why_when_told() {
        let error = Error::Unhealthy {
            message: Some("redis down".into()),
        };
        assert_eq!(error.to_string(), "the provider is unhealthy: redis down");
        assert_eq!(
            Error::Unhealthy { message: None }.to_string(),
            "the provider is unhealthy"
        );
    }
}
