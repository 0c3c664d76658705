//! The crate's shape, checked: imports run one way.
//!
//! - `wire` (the value encoding) imports nothing of the crate but its error type, so a dynamic
//!   codec or a fuzz target can use it without a transport.
//! - No two files of `provider/` import each other, nor does any longer chain come back to
//!   where it started: each room can be read, and tested, from the bottom up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A file's code: comment lines left out (doc links are not imports), and its unit tests
/// (`#[cfg(test)] mod tests`) cut off.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//"))
        .collect();
    let mut code = lines.join("\n");
    if let Some(at) = code.find("#[cfg(test)]\nmod tests") {
        code.truncate(at);
    }
    code
}

/// The paths a `use` tree stands for: `super::{a::X, b::{Y, Z}}` is `super::a::X`,
/// `super::b::Y`, `super::b::Z`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    // Split `inner` at the commas that are not inside nested braces.
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .flat_map(|part| expand_use(&format!("{prefix}{part}")))
        .collect()
}

/// `provider/control/apply.rs` → `["provider", "control", "apply"]`; `mod.rs` names its folder.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(SRC).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// The module paths named by the `crate::`, `super::` and `self::` paths in `line`, read from
/// `module` (a file's own module path).
fn referenced_paths(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = ["crate::", "super::", "self::"]
        .iter()
        .filter_map(|prefix| rest.find(prefix))
        .min()
    {
        let before = rest[..at].chars().next_back();
        let token: String = rest[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        rest = &rest[at + token.len()..];
        // Part of a longer name, or the head of a `use` group (expanded by `named_paths`).
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') || token.ends_with("::") {
            continue;
        }
        let mut path = module.to_vec();
        let mut segments = token.split("::").filter(|s| !s.is_empty()).peekable();
        match segments.peek() {
            Some(&"crate") => path.clear(),
            Some(&"self") => {}
            _ => {}
        }
        for segment in segments {
            match segment {
                "crate" | "self" => {}
                "super" => {
                    path.pop();
                }
                name => path.push(name.to_owned()),
            }
        }
        found.push(path);
    }
    found
}

/// Every path `file` (of module `module`, among `modules`) names: its `use` trees expanded,
/// and the `crate::`, `super::` and `self::` paths written in its code.
fn named_paths(
    file: &Path,
    module: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Vec<Vec<String>> {
    let code = code(file);
    let mut paths = referenced_paths(&code, module);
    let mut rest = code.as_str();
    while let Some(at) = rest.find("use ") {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let tail = &rest[at + "use ".len()..];
        let Some(end) = tail.find(';') else { break };
        if starts_word {
            for path in expand_use(&tail[..end]) {
                let first = path.split("::").next().unwrap_or_default();
                // A path starting at a child module (`use config::X` in a mod.rs) is relative.
                let mut child = module.to_vec();
                child.push(first.to_owned());
                if ["crate", "super", "self"].contains(&first) {
                    paths.extend(referenced_paths(&path, module));
                } else if modules.contains(&child) {
                    paths.extend(referenced_paths(&format!("self::{path}"), module));
                }
            }
        }
        rest = &tail[end..];
    }
    paths
}

#[test]
fn wire_imports_nothing_of_the_crate_but_its_error_type() {
    let mut offenders = Vec::new();
    for file in rust_files(&Path::new(SRC).join("wire")) {
        for line in code(&file).lines() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let tail = &rest[at + "crate::".len()..];
                if !tail.starts_with("error") {
                    offenders.push(format!("{}: {line}", file.display()));
                    break;
                }
                rest = tail;
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "wire imports more than crate::error:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_files_of_provider_import_each_other_one_way_only() {
    let root = Path::new(SRC).join("provider");
    let files = rust_files(&root);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    // Which file modules each file module refers to.
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        {
            for path in named_paths(file, &module, &modules) {
                // The longest prefix that is a file of provider/ is the file imported from (a
                // folder's mod.rs, for an item defined there).
                let target = (1..=path.len())
                    .rev()
                    .map(|n| path[..n].to_vec())
                    .find(|prefix| modules.contains(prefix));
                if let Some(target) = target
                    && target != module
                {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
        }
    }
    // Any cycle, found by depth-first search.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for module in &modules {
        if let Some(cycle) = visit(module, &edges, &mut Vec::new(), &mut done) {
            let shown: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("import cycle in provider/: {}", shown.join(" -> "));
        }
    }
    assert!(edges.len() > 10, "the check found the imports: {edges:?}");
}

#[test]
fn telemetry_imports_only_the_trace_context_errors_and_redaction() {
    // The runtime and the transport call into telemetry; it calls into neither.
    let allowed = ["telemetry", "trace", "error", "redact", "Error", "Result"];
    let mut offenders = Vec::new();
    for file in rust_files(&Path::new(SRC).join("telemetry")) {
        for line in code(&file).lines() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let tail = &rest[at + "crate::".len()..];
                if !allowed.iter().any(|name| tail.starts_with(name)) {
                    offenders.push(format!("{}: {line}", file.display()));
                    break;
                }
                rest = tail;
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "telemetry imports more than trace, error and redact:\n{}",
        offenders.join("\n")
    );
}
