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

/// Code lines only: comments (and doc comments, whose links are not imports) left out.
fn code_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//"))
        .map(str::to_owned)
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
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
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

#[test]
fn wire_imports_nothing_of_the_crate_but_its_error_type() {
    let mut offenders = Vec::new();
    for file in rust_files(&Path::new(SRC).join("wire")) {
        for line in code_lines(&file) {
            let mut rest = line.as_str();
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
        let in_tests = |line: &String| line.starts_with("#[cfg(test)]");
        let lines = code_lines(file);
        let code = lines.iter().take_while(|line| !in_tests(line));
        for line in code {
            for path in referenced_paths(line, &module) {
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
