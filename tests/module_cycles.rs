//! No import cycles between sibling modules.
//!
//! This test scans the `.rs` files of `src/`, `crates/tfplugin/src` and `crates/clouddb-server/src`,
//! builds a dependency graph between modules and fails, listing every cycle, when the graph has one.
//!
//! # The rule
//!
//! Every module has a path from its crate root (`routes::admin`, `schema::timeouts`). A file
//! `a/b.rs` or `a/b/mod.rs` is module `a::b`; `lib.rs` is the root; an inline `mod x { … }`
//! (including `#[cfg(test)] mod tests`) is a module of its own whose references count as its
//! enclosing file's at every level above it. A binary root (`main.rs` beside a `lib.rs`, and every
//! `bin/*.rs`) is a crate of its own.
//!
//! A *reference* is a path that starts with `crate::`, `super::` or `self::` anywhere in code:
//! `use` trees (braces expanded, `pub use` re-exports included) and paths in expressions, types and
//! macro bodies. Comments (doc comments and intra-doc links too), string and char literals,
//! `$crate::` in macros and `pub(in …)` visibilities are not references. Paths through external
//! crates, or through a name previously imported with `use`, are not resolved (the `use` that
//! brought the name in is the reference).
//!
//! A reference from module `S` to path `T` (resolved to an absolute path, possibly ending in an item
//! name) gives at most one edge. Let `P` be the longest common prefix of `S` and `T`, and `k` its
//! length. The edge is `P::S[k] → P::T[k]` — the two *siblings* under `P` that contain the source and
//! the target — and it exists only when
//! - `S` is not `P` itself (a module referring to its own descendants is a parent using its
//!   children, not a dependency between siblings), and
//! - `T[k]` is a module under `P` (otherwise `T` names an item of the common ancestor `P`, which a
//!   child may always use: items re-exported by a parent belong to the parent).
//!
//! So each module and all its submodules form one node at each level, edges only ever join
//! siblings under the same parent, and a cycle is a cycle among the children of one module.
//! `routes::admin::x → routes::instances::y` is the edge `routes::admin → routes::instances`;
//! `schema::timeouts` using `super::Attribute` is no edge.
//!
//! Edges in [`ALLOWED`] are left out of the graph, each with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Sibling edges that are known and being removed elsewhere: `(crate dir, from, to, reason)`.
const ALLOWED: &[(&str, &str, &str, &str)] = &[];

/// The source trees to check, relative to the workspace root.
const TREES: &[&str] = &["src", "crates/tfplugin/src", "crates/clouddb-server/src"];

/// A module path from its crate root (`[]` is the root).
type ModPath = Vec<String>;

/// One source file of a crate: its module path and text.
struct SourceFile {
    module: ModPath,
    text: String,
}

/// A sibling edge with where it comes from (for the failure message).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: ModPath,
    to: ModPath,
}

/// The dependency graph of one crate: sibling edges and, per edge, the references that caused it.
#[derive(Default)]
struct Graph {
    edges: BTreeMap<Edge, BTreeSet<String>>,
}

// ---------------------------------------------------------------------------------------------
// Lexing: blank out comments and literals, keeping byte offsets and braces of code.
// ---------------------------------------------------------------------------------------------

/// Returns `src` with comments, string/char literals (contents and quotes) replaced by spaces, so
/// that only code remains at the same byte offsets. Lifetimes are kept.
fn strip_comments_and_literals(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = src[i..].find('\n').map_or(b.len(), |e| i + e);
            blank(&mut out, i, end);
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (c == b'r' || (c == b'b' && b.get(i + 1) == Some(&b'r')))
            && !prev_is_ident(b, i)
            && raw_string_start(b, if c == b'r' { i + 1 } else { i + 2 }).is_some()
        {
            let start = if c == b'r' { i + 1 } else { i + 2 };
            let hashes = raw_string_start(b, start).unwrap_or(0);
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = start + hashes + 1;
            let end = src[body..]
                .find(&close)
                .map_or(b.len(), |e| body + e + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{..}', multi-byte 'é') or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            } else if let Some(ch) = src[i + 1..].chars().next() {
                let after = i + 1 + ch.len_utf8();
                if b.get(after) == Some(&b'\'') {
                    blank(&mut out, i, after + 1);
                    i = after + 1;
                } else {
                    i += 1;
                }
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn prev_is_ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// If a raw string's `#…#"` starts at `i`, the number of `#`s.
fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some(j - i)
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

/// Inline modules of a stripped file: `(byte range of the body, name)`.
fn inline_modules(code: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let re = regex::Regex::new(r"\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{").expect("regex");
    let b = code.as_bytes();
    re.captures_iter(code)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let open = whole.end() - 1;
            let mut depth = 0usize;
            for (j, &ch) in b.iter().enumerate().skip(open) {
                match ch {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some((open..j, c[1].to_string()));
                        }
                    }
                    _ => {}
                }
            }
            Some((open..b.len(), c[1].to_string()))
        })
        .collect()
}

/// Expands a `use` tree (the text between `use` and `;`) into full paths.
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    fn split_top(s: &str) -> Vec<&str> {
        let mut parts = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        parts
    }
    fn go(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        // `a::b::{…}` or `a::b as c` or `*`.
        let (head, group) = match tree.find('{') {
            Some(open) => {
                let close = tree.rfind('}').unwrap_or(tree.len());
                (&tree[..open], Some(&tree[open + 1..close]))
            }
            None => (tree, None),
        };
        let head = head.split(" as ").next().unwrap_or_default();
        let mut path = prefix.to_vec();
        path.extend(
            head.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        match group {
            Some(g) => {
                for part in split_top(g) {
                    go(&path, part, out);
                }
            }
            None => out.push(path),
        }
    }
    let mut out = Vec::new();
    go(
        &[],
        &tree.split_whitespace().collect::<Vec<_>>().join(" "),
        &mut out,
    );
    out
}

/// Every `crate::`/`super::`/`self::` path in stripped code, with its byte offset.
fn raw_references(code: &str) -> Vec<(usize, Vec<String>)> {
    let mut refs = Vec::new();
    let use_re = regex::Regex::new(r"\buse\s+([^;]*);").expect("regex");
    let mut use_spans = Vec::new();
    for c in use_re.captures_iter(code) {
        let whole = c.get(0).expect("match");
        use_spans.push(whole.range());
        for p in expand_use_tree(&c[1]) {
            refs.push((whole.start(), p));
        }
    }
    let path_re = regex::Regex::new(
        r"(\$|\bin\s+)?\b(crate|super|self)((?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)",
    )
    .expect("regex");
    for c in path_re.captures_iter(code) {
        let whole = c.get(0).expect("match");
        if c.get(1).is_some() || use_spans.iter().any(|s| s.contains(&whole.start())) {
            continue;
        }
        // `self.x::` cannot happen; `self::` paths are kept. A preceding `::` means this `crate`,
        // `super` or `self` is not the start of the path (e.g. `x::self`), which is invalid anyway.
        let mut p = vec![c[2].to_string()];
        p.extend(
            c[3].split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        refs.push((whole.start(), p));
    }
    refs.retain(|(_, p)| {
        matches!(
            p.first().map(String::as_str),
            Some("crate" | "super" | "self")
        )
    });
    refs
}

/// Resolves a `crate`/`super`/`self` path used in module `at` to an absolute path.
fn resolve(at: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &path[1..];
        }
        Some("self") | Some("super") => {
            base = at.to_vec();
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "self" => {}
                    "super" => {
                        base.pop()?;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().filter(|s| s.as_str() != "self").cloned());
    Some(base)
}

/// The sibling edge a reference from `from` to `target` gives, if any (see the module docs).
fn sibling_edge(modules: &BTreeSet<ModPath>, from: &[String], target: &[String]) -> Option<Edge> {
    let k = from.iter().zip(target).take_while(|(a, b)| a == b).count();
    if k == from.len() || k == target.len() {
        return None;
    }
    let to: ModPath = target[..=k].to_vec();
    if !modules.contains(&to) {
        return None;
    }
    Some(Edge {
        from: from[..=k].to_vec(),
        to,
    })
}

/// Builds the graph of one crate from its files.
fn build_graph(files: &[SourceFile]) -> Graph {
    let mut stripped = Vec::new();
    let mut modules: BTreeSet<ModPath> = BTreeSet::new();
    for f in files {
        let code = strip_comments_and_literals(&f.text);
        let inline = inline_modules(&code);
        for p in ancestors(&f.module) {
            modules.insert(p);
        }
        for (range, _) in &inline {
            modules.insert(module_at(&f.module, &inline, range.start + 1));
        }
        stripped.push((f, code, inline));
    }
    let mut g = Graph::default();
    for (f, code, inline) in &stripped {
        for (pos, raw) in raw_references(code) {
            let at = module_at(&f.module, inline, pos);
            let Some(target) = resolve(&at, &raw) else {
                continue;
            };
            if let Some(e) = sibling_edge(&modules, &at, &target) {
                g.edges.entry(e).or_default().insert(format!(
                    "{} uses {}",
                    show(&at),
                    raw.join("::")
                ));
            }
        }
    }
    g
}

/// `[]`, `[a]`, `[a, b]` for `[a, b]`.
fn ancestors(m: &[String]) -> Vec<ModPath> {
    (0..=m.len()).map(|i| m[..i].to_vec()).collect()
}

/// The module at byte `pos` of a file that is module `file`.
fn module_at(file: &[String], inline: &[(std::ops::Range<usize>, String)], pos: usize) -> ModPath {
    let mut m = file.to_vec();
    let mut enclosing: Vec<_> = inline.iter().filter(|(r, _)| r.contains(&pos)).collect();
    enclosing.sort_by_key(|(r, _)| r.start);
    m.extend(enclosing.into_iter().map(|(_, n)| n.clone()));
    m
}

fn show(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// Every elementary cycle of the graph, each starting at its smallest module, sorted.
fn cycles(edges: &BTreeSet<Edge>) -> Vec<Vec<ModPath>> {
    let mut adj: BTreeMap<&ModPath, Vec<&ModPath>> = BTreeMap::new();
    for e in edges {
        adj.entry(&e.from).or_default().push(&e.to);
    }
    fn dfs<'a>(
        start: &'a ModPath,
        node: &'a ModPath,
        adj: &BTreeMap<&'a ModPath, Vec<&'a ModPath>>,
        stack: &mut Vec<&'a ModPath>,
        out: &mut Vec<Vec<ModPath>>,
    ) {
        for &next in adj.get(node).map(Vec::as_slice).unwrap_or_default() {
            if next == start {
                out.push(stack.iter().map(|m| (*m).clone()).collect());
            } else if next > start && !stack.contains(&next) {
                stack.push(next);
                dfs(start, next, adj, stack, out);
                stack.pop();
            }
        }
    }
    let mut out = Vec::new();
    for &start in adj.keys() {
        let mut stack = vec![start];
        dfs(start, start, &adj, &mut stack, &mut out);
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// The workspace
// ---------------------------------------------------------------------------------------------

/// The crates of one source tree: the library (every file but binary roots) and each binary root.
fn crates_of(tree: &Path) -> Vec<(String, Vec<SourceFile>)> {
    let mut all = Vec::new();
    collect_rs(tree, &mut all);
    all.sort();
    let has_lib = tree.join("lib.rs").exists();
    let mut lib = Vec::new();
    let mut bins = Vec::new();
    for p in all {
        let rel = p.strip_prefix(tree).expect("under tree");
        let text = std::fs::read_to_string(&p).expect("readable source");
        let is_bin_root = rel.starts_with("bin") || (has_lib && rel == Path::new("main.rs"));
        if is_bin_root {
            bins.push((
                rel.display().to_string(),
                vec![SourceFile {
                    module: Vec::new(),
                    text,
                }],
            ));
        } else {
            lib.push(SourceFile {
                module: module_path(rel),
                text,
            });
        }
    }
    let mut out = vec![("lib".to_string(), lib)];
    out.extend(bins);
    out
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `lib.rs`/`main.rs` → `[]`, `a/mod.rs` → `[a]`, `a/b.rs` → `[a, b]`.
fn module_path(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut()
        && let Some(stem) = last.strip_suffix(".rs")
    {
        *last = stem.to_string();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        return Vec::new();
    }
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

#[test]
fn no_cycles_between_sibling_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut report = Vec::new();
    for tree in TREES {
        for (krate, files) in crates_of(&root.join(tree)) {
            let g = build_graph(&files);
            let edges: BTreeSet<Edge> = g
                .edges
                .keys()
                .filter(|e| {
                    !ALLOWED.iter().any(|(t, from, to, _)| {
                        t == tree && show(&e.from) == *from && show(&e.to) == *to
                    })
                })
                .cloned()
                .collect();
            for c in cycles(&edges) {
                let mut lines = vec![format!(
                    "{tree} ({krate}): {} -> {}",
                    c.iter().map(|m| show(m)).collect::<Vec<_>>().join(" -> "),
                    show(&c[0])
                )];
                for (i, from) in c.iter().enumerate() {
                    let to = &c[(i + 1) % c.len()];
                    let why = &g.edges[&Edge {
                        from: from.clone(),
                        to: to.clone(),
                    }];
                    for w in why {
                        lines.push(format!("    {} -> {}: {w}", show(from), show(to)));
                    }
                }
                report.push(lines.join("\n"));
            }
        }
    }
    assert!(
        report.is_empty(),
        "import cycles between sibling modules:\n{}",
        report.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Tests of the checker itself, on in-memory crates.
// ---------------------------------------------------------------------------------------------

fn file(module: &str, text: &str) -> SourceFile {
    SourceFile {
        module: if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").map(str::to_string).collect()
        },
        text: text.to_string(),
    }
}

fn cycle_names(files: &[SourceFile]) -> Vec<String> {
    let g = build_graph(files);
    let edges = g.edges.keys().cloned().collect();
    cycles(&edges)
        .iter()
        .map(|c| c.iter().map(|m| show(m)).collect::<Vec<_>>().join(" -> "))
        .collect()
}

fn edge_names(files: &[SourceFile]) -> Vec<String> {
    build_graph(files)
        .edges
        .keys()
        .map(|e| format!("{} -> {}", show(&e.from), show(&e.to)))
        .collect()
}

#[test]
fn two_siblings_using_each_other_is_a_cycle() {
    let files = [
        file("", "mod a; mod b;"),
        file("a", "use crate::b::B; pub struct A;"),
        file("b", "pub fn f() -> super::a::A { todo!() } pub struct B;"),
    ];
    assert_eq!(cycle_names(&files), vec!["a -> b"]);
}

#[test]
fn one_direction_is_no_cycle() {
    let files = [
        file("", "mod a; mod b;"),
        file("a", "use crate::b::B;"),
        file("b", "pub struct B;"),
    ];
    assert_eq!(edge_names(&files), vec!["a -> b"]);
    assert!(cycle_names(&files).is_empty());
}

#[test]
fn submodules_count_as_their_ancestor_at_each_level() {
    let files = [
        file("", "mod a; mod b;"),
        file("a", "mod x;"),
        file("a::x", "use crate::b::y::Y;"),
        file("b", "mod y;"),
        file("b::y", "pub struct Y; fn g() { crate::a::x::f(); }"),
    ];
    assert_eq!(edge_names(&files), vec!["a -> b", "b -> a"]);
    assert_eq!(cycle_names(&files), vec!["a -> b"]);
}

#[test]
fn a_child_using_its_parent_or_a_parent_its_child_is_no_edge() {
    let files = [
        file("", "mod routes; pub struct AppState;"),
        file(
            "routes",
            "mod admin; pub struct Page; fn r() { admin::router(); self::admin::router(); }",
        ),
        file(
            "routes::admin",
            "use super::Page; use crate::AppState; use super::*; pub fn router() {}",
        ),
    ];
    assert!(edge_names(&files).is_empty(), "{:?}", edge_names(&files));
}

#[test]
fn siblings_inside_a_child_form_their_own_level() {
    let files = [
        file("", "mod schema;"),
        file("schema", "mod timeouts; mod validators;"),
        file("schema::timeouts", "use super::validators::duration;"),
        file(
            "schema::validators",
            "pub fn duration() { super::timeouts::parse(); }",
        ),
    ];
    assert_eq!(
        cycle_names(&files),
        vec!["schema::timeouts -> schema::validators"]
    );
}

#[test]
fn use_groups_are_expanded() {
    let files = [
        file("", "mod a; mod b; mod c;"),
        file("a", "use crate::{b::{self, B}, c::C as D};"),
        file("b", ""),
        file("c", ""),
    ];
    assert_eq!(edge_names(&files), vec!["a -> b", "a -> c"]);
}

#[test]
fn comments_strings_and_macro_crate_are_ignored() {
    let files = [
        file("", "mod a; mod b;"),
        file(
            "a",
            r###"
            //! See [`crate::b::B`].
            /* crate::b::x /* nested crate::b */ */
            const S: &str = "crate::b::B";
            const R: &str = r#"super::b::B "quoted""#;
            const C: char = '"';
            fn f<'a>(x: &'a str) -> &'a str { x }
            macro_rules! m { () => { $crate::b::B } }
            pub(in crate::b) struct V;
            pub(crate) struct W;
            "###,
        ),
        file("b", "use crate::a::W;"),
    ];
    assert_eq!(edge_names(&files), vec!["b -> a"]);
}

#[test]
fn inline_test_modules_count_for_their_file() {
    let files = [
        file("", "mod a; mod b;"),
        file(
            "a",
            "pub fn f() {}\n#[cfg(test)]\nmod tests {\n use super::*;\n use crate::b::helper;\n}",
        ),
        file("b", "pub fn helper() { crate::a::f() }"),
    ];
    assert_eq!(cycle_names(&files), vec!["a -> b"]);
}

#[test]
fn super_inside_an_inline_module_is_resolved_from_it() {
    let files = [
        file("", "mod a; mod b;"),
        // `super` in `a::inner` is `a`, so `super::super::b` is `b`.
        file("a", "mod inner { use super::super::b::B; }"),
        file("b", "pub struct B;"),
    ];
    assert_eq!(edge_names(&files), vec!["a -> b"]);
}

#[test]
fn every_cycle_of_three_is_listed_once() {
    let files = [
        file("", "mod a; mod b; mod c;"),
        file("a", "use crate::b::X; use crate::c::Y;"),
        file("b", "use crate::c::Z; use crate::a::W;"),
        file("c", "use crate::a::V;"),
    ];
    assert_eq!(cycle_names(&files), vec!["a -> b", "a -> b -> c", "a -> c"]);
}

#[test]
fn module_paths_of_files() {
    assert_eq!(module_path(Path::new("lib.rs")), Vec::<String>::new());
    assert_eq!(module_path(Path::new("routes/mod.rs")), vec!["routes"]);
    assert_eq!(
        module_path(Path::new("resources/instance/plan.rs")),
        vec!["resources", "instance", "plan"]
    );
}
