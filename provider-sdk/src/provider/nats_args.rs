//! The NATS connection flags: one set for a standalone provider's command line
//! ([`StandaloneArgs`](super::StandaloneArgs)) and for tools that talk to a lattice (`wrpcurl`),
//! with the `nats` CLI's environment variables, turned into [`NatsOptions`].

use std::fmt;
use std::path::PathBuf;

use super::connect::{NatsAuth, NatsOptions};
use crate::redact::redact_credentials;

/// How to reach NATS: server URLs and credentials. Flatten it into a `clap` parser
/// (`#[command(flatten)]`); its `Debug` shows no credential. The field docs are the `--help`
/// text, so they are written for a terminal.
#[derive(Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct NatsArgs {
    /// NATS server URLs, comma-separated (nats://host:4222, tls://host:4222;
    /// nats://user:password@host carries credentials).
    #[arg(
        long = "nats-url",
        visible_alias = "nats",
        env = "NATS_URL",
        default_value = NatsOptions::DEFAULT_URL,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub url: String,
    /// NATS credentials file (JWT and seed).
    #[arg(long = "nats-creds", env = "NATS_CREDS", value_name = "FILE")]
    pub creds: Option<PathBuf>,
    /// NATS user JWT (with --nats-seed).
    #[arg(
        long = "nats-jwt",
        env = "NATS_JWT",
        requires = "seed",
        hide_env_values = true,
        value_name = "JWT"
    )]
    pub jwt: Option<String>,
    /// NATS nkey seed: signs with --nats-jwt, or authenticates alone.
    #[arg(
        long = "nats-seed",
        env = "NATS_NKEY",
        hide_env_values = true,
        value_name = "SEED"
    )]
    pub seed: Option<String>,
    /// NATS user (with --nats-password).
    #[arg(
        long = "nats-user",
        env = "NATS_USER",
        requires = "password",
        value_name = "USER"
    )]
    pub user: Option<String>,
    /// NATS password.
    #[arg(
        long = "nats-password",
        env = "NATS_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// A PEM file of CA certificates to trust for NATS TLS, instead of the system's.
    #[arg(long = "nats-ca", env = "NATS_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

impl fmt::Debug for NatsArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |set: bool| if set { "<redacted>" } else { "<none>" };
        f.debug_struct("NatsArgs")
            .field("url", &redact_credentials(&self.url))
            .field("creds", &self.creds)
            .field("jwt", &shown(self.jwt.is_some()))
            .field("seed", &shown(self.seed.is_some()))
            .field("user", &self.user)
            .field("password", &shown(self.password.is_some()))
            .field("ca", &self.ca)
            .finish()
    }
}

impl NatsArgs {
    /// The flags for `url`, no credentials.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The credentials the flags give: a creds file first, then JWT and seed, a seed alone,
    /// user and password; none means those in the URL, if any.
    pub fn auth(&self) -> NatsAuth {
        match (&self.creds, &self.jwt, &self.seed, &self.user) {
            (Some(path), ..) => NatsAuth::CredsFile(path.clone()),
            (None, Some(jwt), Some(seed), _) => NatsAuth::Jwt {
                jwt: jwt.clone(),
                seed: seed.clone(),
            },
            (None, None, Some(seed), _) => NatsAuth::Nkey(seed.clone()),
            (None, _, _, Some(user)) => NatsAuth::UserPassword {
                user: user.clone(),
                password: self.password.clone().unwrap_or_default(),
            },
            _ => NatsAuth::None,
        }
    }

    /// The connection options these flags give (otherwise [`NatsOptions`]' defaults).
    pub fn options(&self) -> NatsOptions {
        let mut options = NatsOptions::new(self.url.clone()).auth(self.auth());
        options.tls_ca_file = self.ca.clone();
        options
    }

    /// The URLs with any password hidden, to show.
    pub fn shown_url(&self) -> String {
        redact_credentials(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(set: impl FnOnce(&mut NatsArgs)) -> NatsArgs {
        let mut args = NatsArgs::new(NatsOptions::DEFAULT_URL);
        set(&mut args);
        args
    }

    #[test]
    fn credentials_are_chosen_creds_file_first_then_jwt_seed_user() {
        let auth = |set: fn(&mut NatsArgs)| format!("{:?}", args(set).auth());
        assert_eq!(auth(|_| {}), "None");
        assert_eq!(auth(|a| a.seed = Some("SU".into())), "Nkey(<redacted>)");
        assert_eq!(
            auth(|a| {
                a.jwt = Some("J".into());
                a.seed = Some("SU".into());
            }),
            "Jwt(<redacted>)"
        );
        assert_eq!(
            auth(|a| {
                a.creds = Some("x.creds".into());
                a.user = Some("u".into());
            }),
            "CredsFile(\"x.creds\")"
        );
        assert!(auth(|a| a.user = Some("u".into())).starts_with("UserPassword"));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let args = args(|a| {
            a.url = "nats://me:hunter2@127.0.0.1:4222".into();
            a.password = Some("pw-secret".into());
            a.seed = Some("SUSECRET".into());
            a.jwt = Some("jwt-secret".into());
        });
        let shown = format!("{args:?}");
        for secret in ["hunter2", "pw-secret", "SUSECRET", "jwt-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(!args.shown_url().contains("hunter2"));
        assert!(!format!("{:?}", args.options()).contains("hunter2"));
    }
}
