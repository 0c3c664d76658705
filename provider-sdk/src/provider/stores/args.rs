//! Choosing the stores: flags and environment variables, and opening what they name.

use std::path::PathBuf;
use std::sync::Arc;

use super::bucket::BucketStore;
use super::dir::DirStore;
use super::env::EnvStore;
use super::secrets::SecretsDir;
use super::store::ConfigStore;
use crate::error::{Error, Result};

/// A kind of configuration store, as `--config-stores` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// The lattice's `CONFIGDATA_<lattice>` JetStream bucket.
    #[value(help = "The lattice's CONFIGDATA_<lattice> JetStream bucket")]
    Bucket,
    /// The folder `--config-dir`.
    #[value(help = "The folder --config-dir")]
    Dir,
    /// `WASMCLOUD_CONFIG_<NAME>__<KEY>` environment variables.
    #[value(help = "WASMCLOUD_CONFIG_<NAME>__<KEY> environment variables")]
    Env,
}

/// Where named configuration and secrets are looked up. Every flag has an environment variable.
#[derive(Clone, Debug, Default, clap::Args)]
#[non_exhaustive]
pub struct StoreArgs {
    /// Where named configurations are looked up, in merge order (a later store wins a key).
    /// Default: `bucket,dir,env`, `dir` only with `--config-dir`.
    #[arg(
        long = "config-stores",
        env = "WASMCLOUD_PROVIDER_CONFIG_STORES",
        value_delimiter = ',',
        help = "Where named configurations are looked up, comma-separated, in merge order (a \
                later store wins a key). Default: bucket,dir,env (dir only with --config-dir)"
    )]
    pub config_stores: Vec<StoreKind>,
    /// A folder of named configurations, watched: `<dir>/<name>/<key>` (a Kubernetes ConfigMap
    /// mounted at `<dir>/<name>`) or `<dir>/<name>.json` (a JSON object of strings).
    #[arg(
        long = "config-dir",
        env = "WASMCLOUD_PROVIDER_CONFIG_DIR",
        help = "A folder of named configurations, watched: <dir>/<name>/<key> (a Kubernetes \
                ConfigMap mounted at <dir>/<name>) or <dir>/<name>.json (a JSON object of strings)"
    )]
    pub config_dir: Option<PathBuf>,
    /// A folder of named secrets in the same layout (a Kubernetes Secret mounted at
    /// `<dir>/<name>`), watched. Secrets never appear in logs.
    #[arg(
        long = "secrets-dir",
        env = "WASMCLOUD_PROVIDER_SECRETS_DIR",
        help = "A folder of named secrets in the same layout (a Kubernetes Secret mounted at \
                <dir>/<name>), watched. Secrets never appear in logs"
    )]
    pub secrets_dir: Option<PathBuf>,
    /// Named secrets for the provider, comma-separated, merged in order (later wins), read from
    /// `--secrets-dir`.
    #[arg(
        long = "secrets",
        env = "WASMCLOUD_PROVIDER_SECRETS",
        value_delimiter = ',',
        help = "Named secrets for the provider, comma-separated, merged in order (later wins), \
                read from --secrets-dir"
    )]
    pub secrets: Vec<String>,
}

impl StoreArgs {
    /// The configuration stores in merge order, checked against the folders given.
    pub(crate) fn order(&self) -> Result<Vec<StoreKind>> {
        if self.config_stores.is_empty() {
            let mut order = vec![StoreKind::Bucket];
            if self.config_dir.is_some() {
                order.push(StoreKind::Dir);
            }
            order.push(StoreKind::Env);
            return Ok(order);
        }
        let lists_dir = self.config_stores.contains(&StoreKind::Dir);
        match (lists_dir, &self.config_dir) {
            (true, None) => Err(Error::Startup {
                reason: "--config-stores lists `dir`, but no folder was given: pass --config-dir or set WASMCLOUD_PROVIDER_CONFIG_DIR".to_owned(),
            }),
            (false, Some(dir)) => Err(Error::Startup {
                reason: format!(
                    "--config-dir {} is given, but --config-stores leaves `dir` out: add it where it belongs in the order",
                    dir.display()
                ),
            }),
            _ => Ok(self.config_stores.clone()),
        }
    }

    /// Opens the configuration stores in order; `custom` stores come last. The bucket is
    /// skipped, with a warning, when the lattice has none.
    pub(crate) async fn open(
        &self,
        nats: &async_nats::Client,
        lattice: &str,
        custom: Vec<Arc<dyn ConfigStore>>,
    ) -> Result<Vec<Arc<dyn ConfigStore>>> {
        let mut stores: Vec<Arc<dyn ConfigStore>> = Vec::new();
        for kind in self.order()? {
            match kind {
                StoreKind::Bucket => {
                    if let Some(bucket) = BucketStore::open(nats.clone(), lattice).await {
                        stores.push(Arc::new(bucket));
                    }
                }
                StoreKind::Dir => {
                    if let Some(dir) = &self.config_dir {
                        stores.push(Arc::new(DirStore::new(dir)?));
                    }
                }
                StoreKind::Env => stores.push(Arc::new(EnvStore::from_process()?)),
            }
        }
        stores.extend(custom);
        Ok(stores)
    }

    /// The secrets folder, for secrets something names: an error if none was given.
    pub(crate) fn open_secrets(&self) -> Result<SecretsDir> {
        match &self.secrets_dir {
            Some(dir) => SecretsDir::new(dir),
            None => Err(Error::Startup {
                reason: "secrets are named (--secrets, or a links file's source_secrets or target_secrets), but there is no folder to read them from: pass --secrets-dir or set WASMCLOUD_PROVIDER_SECRETS_DIR".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_order_is_bucket_then_dir_then_env() {
        let mut args = StoreArgs::default();
        assert_eq!(args.order().unwrap(), [StoreKind::Bucket, StoreKind::Env]);
        args.config_dir = Some("/etc/config".into());
        assert_eq!(
            args.order().unwrap(),
            [StoreKind::Bucket, StoreKind::Dir, StoreKind::Env]
        );
        args.config_stores = vec![StoreKind::Env, StoreKind::Dir];
        assert_eq!(args.order().unwrap(), [StoreKind::Env, StoreKind::Dir]);
    }

    #[test]
    fn a_dir_store_needs_its_folder_and_a_folder_its_store() {
        let mut args = StoreArgs {
            config_stores: vec![StoreKind::Dir],
            ..StoreArgs::default()
        };
        let error = args.order().unwrap_err().to_string();
        assert!(error.contains("--config-dir"), "{error}");
        args.config_stores = vec![StoreKind::Env];
        args.config_dir = Some("/etc/config".into());
        let error = args.order().unwrap_err().to_string();
        assert!(error.contains("leaves `dir` out"), "{error}");
        let error = StoreArgs::default().open_secrets().unwrap_err();
        assert!(error.to_string().contains("--secrets-dir"), "{error}");
    }
}
