//! The floor plan, checked from the source text: which module may import which, no cycle between
//! files or folders, the size limits a reader can hold on one screen, and the README's Layout naming
//! every part. These read `src/` as text (no stack needed), so they hold for every change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, lowest first: a module may use only modules on lower floors (and its own folder).
/// The README's Layout tells the same story in words.
const FLOORS: [&[&str]; 9] = [
    &["diagnostic", "partition"],
    &["advice"],
    &["github"],
    &["retry", "step", "proxy", "inputs"],
    &["aws"],
    &["docker", "scan"],
    &["assemble", "policy", "report"],
    &["daemonless"],
    &[""],
];

/// A module by its path below the crate root: `["aws", "registry", "login"]`; the root is `[]`.
type Module = Vec<String>;

struct Source {
    module: Module,
    path: PathBuf,
    /// The text before its `#[cfg(test)]` module, without comments.
    code: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sources() -> Vec<Source> {
    let mut found = Vec::new();
    let mut folders = vec![root().join("src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("src/ is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                found.push(Source {
                    module: module_of(&path),
                    code: code_of(&text),
                    path,
                });
            }
        }
    }
    found.sort_by(|a, b| a.module.cmp(&b.module));
    found
}

fn module_of(path: &Path) -> Module {
    let relative = path
        .strip_prefix(root().join("src"))
        .expect("under src/")
        .with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn code_of(text: &str) -> String {
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a `use` tree names, expanded: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or_default().to_owned()];
    };
    let (prefix, inner) = (&tree[..open], &tree[open + 1..tree.len() - 1]);
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|i| !i.is_empty())
        .flat_map(|i| expand(i).into_iter().map(move |p| format!("{prefix}{p}")))
        .collect()
}

/// Every module `source` uses: its `use` items (`pub use` too) and the paths it writes out from
/// `crate::` or `super::`, resolved to the longest known module.
fn imports(source: &Source, known: &BTreeSet<Module>) -> BTreeSet<Module> {
    let here: Module = source.module.clone();
    // `super` of `a/b.rs` and of `a/b/mod.rs` alike is `a`.
    let parent: Module = here[..here.len().saturating_sub(1)].to_vec();
    let resolve = |path: &str| -> Option<Module> {
        let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        let mut base: Module = match parts.first().copied() {
            Some("crate") => Vec::new(),
            Some("super") => parent.clone(),
            Some("self") => here.clone(),
            Some(first) => {
                let mut child = here.clone();
                child.push(first.to_owned());
                if !known.contains(&child) {
                    return None;
                }
                parts.insert(0, "self");
                here.clone()
            }
            None => return None,
        };
        for part in &parts[1..] {
            if *part != "self" {
                base.push((*part).to_owned());
            }
        }
        (0..=base.len())
            .rev()
            .map(|n| base[..n].to_vec())
            .find(|m| known.contains(m))
    };
    let mut found = BTreeSet::new();
    for statement in source.code.split(';') {
        let statement = statement.trim();
        let tree = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("pub(crate) use "))
            .or_else(|| statement.strip_prefix("use "));
        if let Some(tree) = tree {
            found.extend(expand(tree).iter().filter_map(|p| resolve(p)));
        }
    }
    for start in ["crate::", "super::"] {
        for (at, _) in source.code.match_indices(start) {
            let preceded = source.code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            if preceded {
                continue;
            }
            let path: String = source.code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = path.trim_end_matches(':');
            if path != start.trim_end_matches(':') {
                found.extend(resolve(path));
            }
        }
    }
    found.remove(&here);
    found
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let sources = sources();
    let known: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    sources
        .iter()
        .map(|s| (s.module.clone(), imports(s, &known)))
        .collect()
}

fn floor(module: &Module) -> usize {
    let top = module.first().map(String::as_str).unwrap_or_default();
    FLOORS
        .iter()
        .position(|floor| floor.contains(&top))
        .unwrap_or_else(|| panic!("module {top} is on no floor: add it to FLOORS"))
}

/// A cycle among `nodes` under `edges`, if there is one (depth-first search).
fn cycle<T: Ord + Clone>(edges: &BTreeMap<T, BTreeSet<T>>) -> Option<Vec<T>> {
    fn visit<T: Ord + Clone>(
        node: &T,
        edges: &BTreeMap<T, BTreeSet<T>>,
        path: &mut Vec<T>,
        done: &mut BTreeSet<T>,
    ) -> Option<Vec<T>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_from_a_higher_floor() {
    let mut upward = Vec::new();
    for (module, imports) in graph() {
        for imported in imports {
            let across = module.first() != imported.first() || module.is_empty();
            if across && floor(&imported) >= floor(&module) {
                upward.push(format!("{} → {}", module.join("::"), imported.join("::")));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from the same or a higher floor: {upward:#?}"
    );
}

#[test]
fn no_cycle_between_files_or_folders() {
    let files = graph();
    if let Some(found) = cycle(&files) {
        let names: Vec<String> = found.iter().map(|m| m.join("::")).collect();
        panic!("files import each other in a circle: {}", names.join(" → "));
    }
    // Folders: each module's parent folder at every depth; an import between two folders of one parent.
    let mut folders: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, imports) in &files {
        for imported in imports {
            let shared = module
                .iter()
                .zip(imported)
                .take_while(|(a, b)| a == b)
                .count();
            if shared < module.len().min(imported.len()) {
                folders
                    .entry(module[..=shared].to_vec())
                    .or_default()
                    .insert(imported[..=shared].to_vec());
            }
        }
    }
    if let Some(found) = cycle(&folders) {
        let names: Vec<String> = found.iter().map(|m| m.join("::")).collect();
        panic!(
            "folders import each other in a circle: {}",
            names.join(" → ")
        );
    }
}

/// No function over 60 lines and no file over 700 lines, not counting a file's `#[cfg(test)]` module.
#[test]
fn functions_and_files_fit_on_a_screen() {
    let mut long = Vec::new();
    for source in sources() {
        let text = std::fs::read_to_string(&source.path).expect("a source file");
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let lines: Vec<&str> = code.lines().collect();
        let name = source
            .path
            .strip_prefix(root())
            .expect("under root")
            .display();
        if lines.len() > 700 {
            long.push(format!("{name}: {} lines", lines.len()));
        }
        for (at, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) fn ",
            ]
            .iter()
            .any(|p| trimmed.starts_with(p))
                || (trimmed.starts_with("pub(super) ") && trimmed.contains("fn "))
                || (trimmed.starts_with("const fn ") || trimmed.starts_with("pub const fn "));
            if !is_fn || trimmed.ends_with(';') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let close = format!("{}}}", " ".repeat(indent));
            let end = lines[at + 1..]
                .iter()
                .position(|l| *l == close)
                .map(|n| at + 1 + n);
            if let Some(end) = end
                && end - at + 1 > 60
            {
                long.push(format!(
                    "{name}:{} a function of {} lines",
                    at + 1,
                    end - at + 1
                ));
            }
        }
    }
    assert!(long.is_empty(), "too long to read on a screen: {long:#?}");
}

/// The README's Layout section names every folder of the repository and every file and folder of
/// `src/`, so a reader finds each step where the README says.
#[test]
fn the_readme_layout_names_every_folder_and_source_file() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let layout = readme
        .split("\n## Layout")
        .nth(1)
        .and_then(|s| s.split("```").nth(1))
        .expect("README has a Layout section with a code block");
    let mut wanted = Vec::new();
    for entry in std::fs::read_dir(root()).expect("the repository") {
        let entry = entry.expect("an entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !["target", ".git"].contains(&name.as_str()) {
            wanted.push(name);
        }
    }
    let mut folders = vec![root().join("src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("src/") {
            let path = entry.expect("an entry").path();
            let relative = path.strip_prefix(root()).expect("under the root");
            wanted.push(relative.to_string_lossy().into_owned());
            if path.is_dir() {
                folders.push(path);
            }
        }
    }
    // A file is named by its path (`src/aws/calls.rs`), or by its file name within its folder's entry
    // (`login.rs`); a folder by its path (`src/aws/registry/`).
    wanted.retain(|name| {
        let file_name = name.rsplit('/').next().unwrap_or_default();
        !(layout.contains(name.as_str()) || (file_name.contains('.') && layout.contains(file_name)))
    });
    assert!(
        wanted.is_empty(),
        "the README's Layout does not name {wanted:?}"
    );
}
