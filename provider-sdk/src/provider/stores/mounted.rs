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
const READ_ATTEMPTS: usize = 10;

/// A value as read from a file. `Debug` shows its length only: it may be a secret.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileValue {
    Text(String),
    /// Not UTF-8; only [`Decode::TextOrBytes`] reads such a file.
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for FileValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileValue::Text(text) => write!(f, "Text({} bytes)", text.len()),
            FileValue::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
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
        read_settled(&self.root, |folder| {
            let entries = fs::read_dir(folder)
                .map_err(|error| file_error(folder, &format!("cannot be listed ({error})")))?;
            let mut names = BTreeSet::new();
            for entry in entries {
                let entry = entry
                    .map_err(|error| file_error(folder, &format!("cannot be listed ({error})")))?;
                let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if file_name.starts_with('.') {
                    continue;
                }
                if entry.path().is_dir() {
                    names.insert(file_name);
                } else if let Some(stem) = file_name.strip_suffix(".json") {
                    names.insert(stem.to_owned());
                }
            }
            Ok(names)
        })
    }

    /// The values of `name`: `None` if the folder holds no such name.
    pub(crate) fn read(&self, name: &str) -> Result<Option<Contents>> {
        check_name(name)?;
        let root = canonical(&self.root)?;
        read_settled(&self.root, |base| {
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
                (true, false) => self.read_folder(&root, &folder).map(Some),
                (false, true) => self.read_json(&root, &json).map(Some),
                (false, false) => Ok(None),
            }
        })
    }

    /// Every key of the mount `folder`, which must lie inside `root`.
    fn read_folder(&self, root: &Path, folder: &Path) -> Result<Contents> {
        let boundary = canonical(folder)?;
        if !boundary.starts_with(root) {
            return Err(file_error(
                folder,
                &format!(
                    "points outside {} (to {})",
                    root.display(),
                    boundary.display()
                ),
            ));
        }
        read_settled(folder, |data| self.read_keys(&boundary, data))
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

    /// A JSON object of strings, in a file inside `boundary`.
    fn read_json(&self, boundary: &Path, path: &Path) -> Result<Contents> {
        let target = canonical(path)?;
        if !target.starts_with(boundary) {
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

/// `read` of the folder `dir/..data` points to when `dir` is an atomically written mount (else
/// of `dir`), read again while `..data` moves under it, so the result is one whole update's.
/// Errors name files as the mount shows them (`dir/..data/key`), not by the timestamped folder.
fn read_settled<T>(dir: &Path, read: impl Fn(&Path) -> Result<T>) -> Result<T> {
    let link = dir.join(DATA);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Ok(data) = fs::canonicalize(&link) else {
            return read(dir);
        };
        let result = read(&data);
        let moved = fs::canonicalize(&link).ok().as_ref() != Some(&data);
        if !moved || attempt == READ_ATTEMPTS {
            return result.map_err(|error| match error {
                Error::ConfigFile { path, reason } => Error::ConfigFile {
                    path: match path.strip_prefix(&data) {
                        Ok(rest) => link.join(rest),
                        Err(_) => path,
                    },
                    reason,
                },
                other => other,
            });
        }
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
/// [`MAX_FILE_BYTES`]. Checked before opening: opening a FIFO would wait for a writer.
fn read_bytes(path: &Path, target: &Path) -> Result<Vec<u8>> {
    let regular = fs::metadata(target)
        .map_err(|error| file_error(path, &format!("cannot be read ({error})")))?
        .is_file();
    if !regular {
        return Err(file_error(path, "is not a regular file"));
    }
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
                    // A kubelet swaps every few seconds at most; back to back, on a loaded
                    // machine, swaps could outpace every retry of a read.
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                round
            })
        };
        for _ in 0..2000 {
            let read = store
                .read("cfg")
                .unwrap_or_else(|error| panic!("a read failed: {error}"))
                .unwrap();
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
        assert!(!error.contains("6379"), "quotes the value: {error}");

        for name in ["", "../etc", "a/b", "..data", ".hidden"] {
            let error = store.read(name).unwrap_err().to_string();
            assert!(error.contains("name"), "{name:?}: {error}");
        }
        std::fs::remove_file(root.path().join("bad.json")).unwrap();

        // A name's folder that is a symlink out of the store folder.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("url"), "from-outside").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("away")).unwrap();
        let error = store.read("away").unwrap_err().to_string();
        assert!(
            error.contains("away") && error.contains("outside"),
            "{error}"
        );

        let missing = Mounted::open(root.path().join("nope"), Decode::Text).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }

    #[test]
    fn a_fifo_is_refused_not_waited_on() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("cfg")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(root.path().join("cfg/pipe"))
            .status()
            .unwrap();
        assert!(made.success());
        let store = Mounted::open(root.path(), Decode::Text).unwrap();
        let (sender, read) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(store.read("cfg").map_err(|e| e.to_string())));
        let result = read
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading a folder with a FIFO hung");
        let error = result.unwrap_err();
        assert!(
            error.contains("cfg/pipe") && error.contains("not a regular file"),
            "{error}"
        );
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
