//! Reading a directory laid out the way Kubernetes mounts a ConfigMap or a Secret.
//!
//! A mount is a folder of keys. Kubernetes writes it atomically: the keys live in a timestamped
//! folder, `..data` is a symlink to that folder, and every key at the top is a symlink through
//! `..data`:
//!
//! ```text
//! redis/
//!   ..2026_12_06_10_15_00.123456789/url     the values
//!   ..data -> ..2026_12_06_10_15_00.123456789
//!   url -> ..data/url
//! ```
//!
//! An update writes a new timestamped folder and renames a new `..data` symlink over the old one,
//! then adds and removes key symlinks and deletes the old folder. A mount is read from the
//! folder `..data` points to (resolved once, not through the key symlinks), and read again if
//! `..data` moved meanwhile: a read sees the whole old set of keys or the whole new one, never
//! a mix, and never an error from a folder deleted under it. A plain folder (no `..data`) is
//! read as it is, file by file.
//!
//! A store folder holds one such mount per name (`<root>/<name>/<key>`) or one JSON object of
//! strings per name (`<root>/<name>.json`); the root may itself be a mount.
//!
//! Everything read must be a regular file inside the mount once symlinks are resolved, at most
//! [`MAX_FILE_BYTES`] long; names are single path segments. Anything else is an error naming
//! the file, so a store can keep its previous values in force.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The largest file a mount may hold: a Kubernetes ConfigMap or Secret holds at most 1 MiB in all.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The symlink Kubernetes swaps to update a mount atomically.
const DATA: &str = "..data";

/// How many times a mount is read while `..data` keeps moving before the last error stands.
const READ_ATTEMPTS: usize = 5;

/// A value as read from a file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileValue {
    Text(String),
    /// Not UTF-8; only [`Decode::TextOrBytes`] reads such a file.
    Bytes(Vec<u8>),
}

/// What a file may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decode {
    /// UTF-8 only: a file that is not is an error (configuration).
    Text,
    /// Anything: text if it is UTF-8 (secrets, which may be keys or certificates).
    TextOrBytes,
}

/// The values of one name, by key.
pub(crate) type Contents = BTreeMap<String, FileValue>;

/// A store folder: one mount or JSON file per name.
#[derive(Clone, Debug)]
pub(crate) struct Mounted {
    root: PathBuf,
    decode: Decode,
}

impl Mounted {
    /// The store folder `root`, which must exist and be a directory.
    pub(crate) fn open(root: impl Into<PathBuf>, decode: Decode) -> Result<Self> {
        let root = root.into();
        match fs::metadata(&root) {
            Ok(meta) if meta.is_dir() => Ok(Self { root, decode }),
            Ok(_) => Err(file_error(&root, "is not a directory")),
            Err(error) => Err(file_error(&root, &format!("cannot be read ({error})"))),
        }
    }

    /// The folder given.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The names present: folders, and `.json` files by their stem. Hidden entries (Kubernetes'
    /// own `..data` and timestamped folders among them) are not names.
    pub(crate) fn names(&self) -> Result<BTreeSet<String>> {
        let folder = through_data(&self.root);
        let entries = fs::read_dir(&folder)
            .map_err(|error| file_error(&folder, &format!("cannot be listed ({error})")))?;
        let mut names = BTreeSet::new();
        for entry in entries {
            let entry = entry
                .map_err(|error| file_error(&folder, &format!("cannot be listed ({error})")))?;
            let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if file_name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                names.insert(file_name);
            } else if let Some(stem) = file_name.strip_suffix(".json") {
                names.insert(stem.to_owned());
            }
        }
        Ok(names)
    }

    /// The values of `name`: `None` if the folder holds no such name.
    pub(crate) fn read(&self, name: &str) -> Result<Option<Contents>> {
        check_name(name)?;
        let base = through_data(&self.root);
        let folder = base.join(name);
        let json = base.join(format!("{name}.json"));
        match (folder.is_dir(), exists(&json)) {
            (true, true) => Err(Error::NamedConfig {
                name: name.to_owned(),
                reason: format!(
                    "both {} and {} exist; keep one",
                    folder.display(),
                    json.display()
                ),
            }),
            (true, false) => self.read_folder(&folder).map(Some),
            (false, true) => self.read_json(&json).map(Some),
            (false, false) => Ok(None),
        }
    }

    /// Every key of the mount `folder`: of the folder `..data` points to when it has one, read
    /// again if `..data` moved while it was read.
    fn read_folder(&self, folder: &Path) -> Result<Contents> {
        let boundary = canonical(folder)?;
        let link = folder.join(DATA);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Ok(data) = fs::canonicalize(&link) else {
                return self.read_keys(&boundary, folder);
            };
            let read = self.read_keys(&boundary, &data);
            let moved = fs::canonicalize(&link).ok().as_ref() != Some(&data);
            if !moved || attempt == READ_ATTEMPTS {
                // Errors name the key as the mount shows it, not the timestamped folder.
                return read.map_err(|error| match error {
                    Error::ConfigFile { path, reason } => Error::ConfigFile {
                        path: match path.strip_prefix(&data) {
                            Ok(key) => link.join(key),
                            Err(_) => path,
                        },
                        reason,
                    },
                    other => other,
                });
            }
        }
    }

    /// The keys in `data`, a folder inside the mount `boundary`.
    fn read_keys(&self, boundary: &Path, data: &Path) -> Result<Contents> {
        let entries = fs::read_dir(data)
            .map_err(|error| file_error(data, &format!("cannot be listed ({error})")))?;
        let mut contents = Contents::new();
        for entry in entries {
            let entry =
                entry.map_err(|error| file_error(data, &format!("cannot be listed ({error})")))?;
            let path = entry.path();
            let Some(key) = entry.file_name().to_str().map(str::to_owned) else {
                return Err(file_error(&path, "has a name that is not UTF-8"));
            };
            if key.starts_with('.') {
                continue;
            }
            let target = canonical(&path)?;
            if !target.starts_with(boundary) {
                return Err(file_error(
                    &path,
                    &format!(
                        "points outside the mount {} (to {})",
                        boundary.display(),
                        target.display()
                    ),
                ));
            }
            if target.is_dir() {
                // Kubernetes mounts only files; a folder here is somebody else's.
                continue;
            }
            let value = match self.decode {
                Decode::Text => FileValue::Text(read_text(&path, &target)?),
                Decode::TextOrBytes => match String::from_utf8(read_bytes(&path, &target)?) {
                    Ok(text) => FileValue::Text(text),
                    Err(bytes) => FileValue::Bytes(bytes.into_bytes()),
                },
            };
            contents.insert(key, value);
        }
        Ok(contents)
    }

    /// A JSON object of strings.
    fn read_json(&self, path: &Path) -> Result<Contents> {
        let boundary = canonical(&self.root)?;
        let target = canonical(path)?;
        if !target.starts_with(&boundary) {
            return Err(file_error(
                path,
                &format!(
                    "points outside {} (to {})",
                    boundary.display(),
                    target.display()
                ),
            ));
        }
        let text = read_text(path, &target)?;
        // The position only: serde's message can quote the value, and this may be a secret.
        let values: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|error| {
            file_error(
                path,
                &format!(
                    "is not a JSON object of strings (line {}, column {})",
                    error.line(),
                    error.column()
                ),
            )
        })?;
        Ok(values
            .into_iter()
            .map(|(key, value)| (key, FileValue::Text(value)))
            .collect())
    }
}

/// A name must be one path segment that Kubernetes could have written: not empty, no `/`, not
/// hidden (Kubernetes' own entries start with `..`).
pub(crate) fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "a name cannot be empty"
    } else if name.contains(['/', '\\', '\0']) {
        "a name must be a single path segment, without `/`"
    } else if name.starts_with('.') {
        "a name cannot start with `.`"
    } else if name.len() > 253 {
        "a name is at most 253 bytes"
    } else {
        return Ok(());
    };
    Err(Error::NamedConfig {
        name: name.to_owned(),
        reason: reason.to_owned(),
    })
}

/// `folder/..data` if the folder is an atomically written mount, else `folder`.
fn through_data(folder: &Path) -> PathBuf {
    let data = folder.join(DATA);
    if data.is_dir() {
        data
    } else {
        folder.to_owned()
    }
}

/// Whether `path` exists, as a file or a symlink (dangling or not).
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn canonical(path: &Path) -> Result<PathBuf> {
    fs::canonicalize(path)
        .map_err(|error| file_error(path, &format!("cannot be resolved ({error})")))
}

fn read_text(path: &Path, target: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path, target)?).map_err(|error| {
        file_error(
            path,
            &format!(
                "is not UTF-8 text (valid up to byte {}); configuration values are text",
                error.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads `target` (what `path` resolves to), refusing anything but a regular file of at most
/// [`MAX_FILE_BYTES`].
fn read_bytes(path: &Path, target: &Path) -> Result<Vec<u8>> {
    let file = fs::File::open(target)
        .map_err(|error| file_error(path, &format!("cannot be read ({error})")))?;
    let meta = file
        .metadata()
        .map_err(|error| file_error(path, &format!("cannot be read ({error})")))?;
    if !meta.is_file() {
        return Err(file_error(path, "is not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| file_error(path, &format!("cannot be read ({error})")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(file_error(
            path,
            &format!("is over {MAX_FILE_BYTES} bytes, more than a ConfigMap or Secret can hold"),
        ));
    }
    Ok(bytes)
}

fn file_error(path: &Path, reason: &str) -> Error {
    Error::ConfigFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_testing::KubernetesMount;

    fn text(value: &str) -> FileValue {
        FileValue::Text(value.to_owned())
    }

    #[test]
    fn a_mount_is_read_through_data_and_a_plain_folder_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let mut mount = KubernetesMount::create(root.path().join("redis"), &[("url", "redis://a")]);
        std::fs::create_dir(root.path().join("plain")).unwrap();
        std::fs::write(root.path().join("plain/port"), "6379").unwrap();
        std::fs::write(root.path().join("pool.json"), r#"{"size":"4"}"#).unwrap();
        let store = Mounted::open(root.path(), Decode::Text).unwrap();
        assert_eq!(
            store.names().unwrap(),
            ["plain", "pool", "redis"].map(str::to_owned).into()
        );
        assert_eq!(
            store.read("redis").unwrap().unwrap()["url"],
            text("redis://a")
        );
        assert_eq!(store.read("plain").unwrap().unwrap()["port"], text("6379"));
        assert_eq!(store.read("pool").unwrap().unwrap()["size"], text("4"));
        assert_eq!(store.read("absent").unwrap(), None);

        // Between the swap and the key symlinks Kubernetes adds next, `..data` already has the
        // new key: the read sees the new set whole.
        mount.swap_data_only(&[("url", "redis://b"), ("db", "2")]);
        let read = store.read("redis").unwrap().unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read["db"], text("2"));
    }

    #[test]
    fn reads_racing_the_kubelet_see_one_whole_set_and_no_error() {
        let root = tempfile::tempdir().unwrap();
        let mut mount = KubernetesMount::create(root.path().join("cfg"), &[("a", "0"), ("b", "0")]);
        let store = Mounted::open(root.path(), Decode::Text).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let swapper = {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut round = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    round += 1;
                    let value = round.to_string();
                    // Keys come and go, so a read through the key links would fail.
                    if round.is_multiple_of(2) {
                        mount.swap(&[("a", &value), ("b", &value)]);
                    } else {
                        mount.swap(&[("a", &value), ("c", &value)]);
                    }
                }
                round
            })
        };
        for _ in 0..2000 {
            let read = store.read("cfg").unwrap().unwrap();
            let values: BTreeSet<&FileValue> = read.values().collect();
            assert_eq!(read.len(), 2, "{read:?}");
            assert_eq!(values.len(), 1, "a mix of two updates: {read:?}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(swapper.join().unwrap() > 10, "the kubelet barely ran");
    }

    #[test]
    fn a_root_that_is_itself_a_mount_holds_json_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("configs");
        KubernetesMount::create(&dir, &[("redis.json", r#"{"url":"redis://x"}"#)]);
        let store = Mounted::open(&dir, Decode::Text).unwrap();
        assert_eq!(store.names().unwrap(), ["redis".to_owned()].into());
        assert_eq!(
            store.read("redis").unwrap().unwrap()["url"],
            text("redis://x")
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_the_file() {
        let root = tempfile::tempdir().unwrap();
        let store = Mounted::open(root.path(), Decode::Text).unwrap();
        let folder = root.path().join("bad");
        std::fs::create_dir(&folder).unwrap();

        std::fs::write(folder.join("binary"), [0xff, 0xfe]).unwrap();
        let error = store.read("bad").unwrap_err().to_string();
        assert!(
            error.contains("bad/binary") && error.contains("UTF-8"),
            "{error}"
        );
        std::fs::remove_file(folder.join("binary")).unwrap();

        std::os::unix::fs::symlink("/etc/hostname", folder.join("escape")).unwrap();
        let error = store.read("bad").unwrap_err().to_string();
        assert!(
            error.contains("bad/escape") && error.contains("outside"),
            "{error}"
        );
        std::fs::remove_file(folder.join("escape")).unwrap();

        std::os::unix::fs::symlink(folder.join("missing"), folder.join("dangling")).unwrap();
        let error = store.read("bad").unwrap_err().to_string();
        assert!(error.contains("bad/dangling"), "{error}");
        std::fs::remove_file(folder.join("dangling")).unwrap();

        let big = vec![b'x'; MAX_FILE_BYTES as usize + 1];
        std::fs::write(folder.join("big"), big).unwrap();
        let error = store.read("bad").unwrap_err().to_string();
        assert!(
            error.contains("bad/big") && error.contains("over"),
            "{error}"
        );
        std::fs::remove_file(folder.join("big")).unwrap();

        std::fs::write(root.path().join("bad.json"), "{}").unwrap();
        let error = store.read("bad").unwrap_err().to_string();
        assert!(error.contains("keep one"), "{error}");
        std::fs::remove_dir(&folder).unwrap();
        std::fs::write(root.path().join("bad.json"), r#"{"port":6379}"#).unwrap();
        let error = store.read("bad").unwrap_err().to_string();
        assert!(
            error.contains("bad.json") && error.contains("JSON object of strings"),
            "{error}"
        );

        for name in ["", "../etc", "a/b", "..data", ".hidden"] {
            let error = store.read(name).unwrap_err().to_string();
            assert!(error.contains("name"), "{name:?}: {error}");
        }
        let missing = Mounted::open(root.path().join("nope"), Decode::Text).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }

    #[test]
    fn secrets_may_be_binary() {
        let root = tempfile::tempdir().unwrap();
        KubernetesMount::create(root.path().join("tls"), &[("password", "pw")]);
        std::fs::write(root.path().join("tls/..data/key.der"), [0x30, 0x82, 0xff]).unwrap();
        let store = Mounted::open(root.path(), Decode::TextOrBytes).unwrap();
        let read = store.read("tls").unwrap().unwrap();
        assert_eq!(read["password"], text("pw"));
        assert_eq!(read["key.der"], FileValue::Bytes(vec![0x30, 0x82, 0xff]));
    }
}
