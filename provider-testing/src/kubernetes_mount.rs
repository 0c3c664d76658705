//! A folder written exactly as the kubelet writes a ConfigMap or Secret volume, for tests of
//! providers that read their configuration from mounted files.
//!
//! The kubelet's atomic writer (`pkg/volume/util/atomic_writer.go`) keeps the values in a
//! timestamped hidden folder, points the `..data` symlink at it, and makes each key a symlink
//! through `..data`. An update:
//!
//! 1. writes every value into a new timestamped folder, `..<timestamp>`;
//! 2. makes a symlink `..data_tmp` to it and renames it over `..data` (the atomic step);
//! 3. adds key symlinks for new keys and removes those of keys that are gone;
//! 4. removes the old timestamped folder.
//!
//! [`KubernetesMount::swap`] does those steps in that order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A ConfigMap or Secret volume in a folder, updated as the kubelet updates it.
#[derive(Debug)]
pub struct KubernetesMount {
    path: PathBuf,
    keys: Vec<String>,
    data: Option<String>,
}

impl KubernetesMount {
    /// Creates the volume at `path` (which must not exist yet) holding `values`.
    pub fn create(path: impl Into<PathBuf>, values: &[(&str, &str)]) -> Self {
        let path = path.into();
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        let mut mount = Self {
            path,
            keys: Vec::new(),
            data: None,
        };
        mount.swap(values);
        mount
    }

    /// The volume's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the values with `values`, as the kubelet does after the object changed.
    pub fn swap(&mut self, values: &[(&str, &str)]) {
        let old = self.swap_data_only(values);
        for (key, _) in values {
            let link = self.path.join(key);
            if std::fs::symlink_metadata(&link).is_err() {
                symlink(&format!("..data/{key}"), &link);
            }
        }
        let new_keys: Vec<String> = values.iter().map(|(key, _)| (*key).to_owned()).collect();
        for key in &self.keys {
            if !new_keys.contains(key) {
                remove(&self.path.join(key));
            }
        }
        self.keys = new_keys;
        if let Some(old) = old {
            std::fs::remove_dir_all(self.path.join(&old))
                .unwrap_or_else(|error| panic!("cannot remove the old data folder {old}: {error}"));
        }
    }

    /// Steps 1 and 2 of an update only: the new values are in place behind `..data`, the key
    /// symlinks not yet changed and the old folder not yet removed (a reader caught between
    /// the kubelet's steps). Returns the old timestamped folder's name.
    pub fn swap_data_only(&mut self, values: &[(&str, &str)]) -> Option<String> {
        let folder = timestamped_name();
        let data = self.path.join(&folder);
        std::fs::create_dir(&data)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", data.display()));
        for (key, value) in values {
            std::fs::write(data.join(key), value)
                .unwrap_or_else(|error| panic!("cannot write {key}: {error}"));
        }
        let tmp = self.path.join("..data_tmp");
        symlink(&folder, &tmp);
        std::fs::rename(&tmp, self.path.join("..data"))
            .unwrap_or_else(|error| panic!("cannot swap ..data: {error}"));
        self.data.replace(folder)
    }
}

/// `..<unix seconds>.<n>` (the kubelet writes `..2026_12_06_10_15_00.123456789`): hidden, and
/// unique within the process.
fn timestamped_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    format!("..{seconds}.{n:09}")
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|error| panic!("cannot link {} to {target}: {error}", link.display()));
}

fn remove(path: &Path) {
    std::fs::remove_file(path)
        .unwrap_or_else(|error| panic!("cannot remove {}: {error}", path.display()));
}
