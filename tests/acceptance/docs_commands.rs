//! A new user's path: every shell command shown in README.md and docs/ is run, here or elsewhere.
//!
//! `docs_every_shell_command_is_covered` extracts each command from the fenced `sh`, `shell`,
//! `bash` and `console` blocks of README.md and docs/**/*.md and requires it to match one entry of
//! [`COVERED`], which names what runs it: a test in this file, or a script or test file that must
//! contain the command. A command added to the docs fails that test until it is covered; an entry
//! no command matches any more fails it too. The other tests run the README's commands: the
//! quickstart from nothing to running instances and back to nothing, the offline install, the
//! server and debug commands, and the release procedure (bump, then pack).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use regex::Regex;

use super::harness::*;

/// Who runs a documented command.
enum By {
    /// A test in this file (its name, checked to exist).
    ThisFile(&'static str),
    /// A file of the repository that runs it (the needle must occur in that file).
    File(&'static str, &'static str),
}

/// Every documented command (a regex over the whole normalised command) and what runs it.
const COVERED: &[(&str, By)] = &[
    (
        r"^DESTROY=1 scripts/quickstart\.sh$|^scripts/quickstart\.sh$",
        By::ThisFile("docs_new_user_path_quickstart"),
    ),
    (
        r"^scripts/test\.sh$",
        By::File(".ci/run", "exec scripts/test.sh"),
    ),
    (
        r"^scripts/install-provider\.sh( /path/to/mirror)?$",
        By::ThisFile("docs_readme_commands_run"),
    ),
    (
        r"^cargo run -p clouddb-server -- --listen 127\.0\.0\.1:8080 --token mytoken=demo --admin-token admin$",
        By::ThisFile("docs_readme_commands_run"),
    ),
    // The real-engine tests start the server the same way and connect with psql over TCP.
    (
        r"^cargo run -p clouddb-server -- --engines real --data /tmp/clouddb-real/clouddb\.db --token mytoken=demo$",
        By::File(
            "crates/clouddb-server/tests/engines_common/scenarios.rs",
            "pub async fn kill_9_of_the_server_loses_nothing",
        ),
    ),
    (
        r"^PGPASSWORD=\S+ psql -h 127\.0\.0\.1 -p \d+ -U \w+ -d \w+$",
        By::File(
            "tests/acceptance/engines.rs",
            ".env(\"PGPASSWORD\", APP_PASSWORD)",
        ),
    ),
    (
        r"^target/debug/terraform-provider-clouddb --debug$",
        By::ThisFile("docs_readme_commands_run"),
    ),
    (
        r"^scripts/bump-version\.sh 0\.2\.0$",
        By::ThisFile("docs_release_procedure"),
    ),
    // release.rs runs it with `--binary` (the debug build packed the same way); CI spends no
    // minutes on the release build itself.
    (
        r"^scripts/release\.sh$",
        By::File("tests/acceptance/release.rs", "scripts/release.sh"),
    ),
    (
        r"^bench/chaos\.sh --short$",
        By::File("scripts/test.sh", "bench/chaos.sh --short"),
    ),
    // The full and custom chaos runs take 20+ minutes; CI runs the same script with --short.
    (
        r"^bench/chaos\.sh --full$|^ROUNDS=\d+ N=\d+ FAULT_RATE=[0-9.]+ SEED=\d+ PARALLELISM=\d+ bench/chaos\.sh$",
        By::File("scripts/test.sh", "bench/chaos.sh --short"),
    ),
    (
        r"^cargo install cargo-fuzz$",
        By::File("scripts/test.sh", "install_tool \"cargo-fuzz@"),
    ),
    (
        r"^cargo \+nightly fuzz run --fuzz-dir fuzz -s none \S+ \S+ \S+ -- .*-max_len=\d+$",
        By::File(
            "scripts/test.sh",
            "cargo +nightly fuzz run --fuzz-dir fuzz -s none \"$t\"",
        ),
    ),
    (
        r"^cargo test --manifest-path fuzz/Cargo\.toml --no-default-features$",
        By::File(
            "scripts/test.sh",
            "cargo test --manifest-path fuzz/Cargo.toml --locked --no-default-features",
        ),
    ),
    // docs/chaos.md's reproduction of a fixed orphan (as seen before the fix); the test replays
    // the same dropped-response fault against the fixed provider.
    (
        r"^clouddb-server --listen 127\.0\.0\.1:18931 .*&$|^curl .*127\.0\.0\.1:18931/.*$|^terraform (apply|state list)$",
        By::File(
            "tests/acceptance/reliability.rs",
            "fn reliability_ambiguous_create_is_recorded_not_orphaned",
        ),
    ),
    // The generated resource pages show examples/resources/<type>/import.sh; the lifecycle tests
    // import each type by the same ID form (examples_resource_applies runs the instance's as written).
    (
        r"^terraform import clouddb_instance\.\S+ [a-z0-9-]+$",
        By::File(
            "tests/acceptance/examples.rs",
            "resources/clouddb_instance/import.sh",
        ),
    ),
    (
        r"^terraform import clouddb_database\.\S+ [a-z0-9-]+/[a-z0-9_-]+$",
        By::File("tests/acceptance/database.rs", "\"import\""),
    ),
    (
        r"^terraform import clouddb_user\.\S+ [a-z0-9-]+/[a-z0-9_-]+$",
        By::File("tests/acceptance/user.rs", "\"import\""),
    ),
    (
        r"^terraform import clouddb_firewall_rule\.\S+ [a-z0-9-]+/[a-z0-9_-]+$",
        By::File("tests/acceptance/firewall_rule.rs", "\"import\""),
    ),
    (
        r"^terraform import clouddb_backup\.\S+ [a-z0-9-]+$",
        By::File("tests/acceptance/backup.rs", "\"import\""),
    ),
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file under docs/, sorted.
fn doc_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read docs dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut v = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut v);
    v.sort();
    v
}

/// The commands of the shell blocks in `markdown`: comments and shebangs dropped, `$ ` prompts
/// (console blocks) taken off, backslash continuations joined, whitespace collapsed.
fn shell_commands(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_shell = None::<bool>;
    let mut pending = String::new();
    for line in markdown.lines() {
        let t = line.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            in_shell = match in_shell {
                Some(_) => None,
                None => Some(matches!(
                    info.split_whitespace().next().unwrap_or(""),
                    "sh" | "shell" | "bash" | "console"
                )),
            };
            continue;
        }
        if in_shell != Some(true) {
            continue;
        }
        let mut l = t.strip_prefix("$ ").unwrap_or(t).to_string();
        if l.starts_with('#') {
            continue;
        }
        if let Some(i) = l.find(" #") {
            l.truncate(i);
        }
        let cont = l.trim_end().ends_with('\\');
        pending.push_str(l.trim_end().trim_end_matches('\\'));
        pending.push(' ');
        if !cont {
            let cmd = pending.split_whitespace().collect::<Vec<_>>().join(" ");
            if !cmd.is_empty() {
                out.push(cmd);
            }
            pending.clear();
        }
    }
    out
}

/// (file relative to the repo, command) for every documented command.
fn documented() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for f in doc_files() {
        let text = std::fs::read_to_string(&f).expect("read doc");
        let rel = f.strip_prefix(repo()).unwrap_or(&f).display().to_string();
        for c in shell_commands(&text) {
            v.push((rel.clone(), c));
        }
    }
    v
}

#[test]
fn docs_shell_command_extraction() {
    let md = "text\n```sh\n# comment\nfoo --a   b  # why\nbar \\\n    --c\n```\n```hcl\nnot = 1\n```\n```console\n$ baz\n```\n";
    assert_eq!(shell_commands(md), ["foo --a b", "bar --c", "baz"]);
}

#[test]
fn docs_every_shell_command_is_covered() {
    let this_file = include_str!("docs_commands.rs");
    let rules: Vec<(Regex, &By)> = COVERED
        .iter()
        .map(|(re, by)| (Regex::new(re).expect("COVERED regex"), by))
        .collect();
    let docs = documented();
    assert!(
        docs.iter().any(|(f, _)| f == "README.md"),
        "no command found in README.md: {docs:?}"
    );
    let mut uncovered = Vec::new();
    for (file, cmd) in &docs {
        if !rules.iter().any(|(re, _)| re.is_match(cmd)) {
            uncovered.push(format!("{file}: {cmd}"));
        }
    }
    assert!(
        uncovered.is_empty(),
        "documented commands that no test or CI step runs (run them in a test and add them to \
         COVERED in tests/acceptance/docs_commands.rs):\n  {}",
        uncovered.join("\n  ")
    );
    for (re, by) in &rules {
        assert!(
            docs.iter().any(|(_, c)| re.is_match(c)),
            "COVERED entry {re} matches no documented command any more: remove it"
        );
        match by {
            By::ThisFile(test) => assert!(
                this_file.contains(&format!("fn {test}()")),
                "COVERED entry {re} names test {test}, which is not in this file"
            ),
            By::File(path, needle) => {
                let text = std::fs::read_to_string(repo().join(path))
                    .unwrap_or_else(|e| panic!("COVERED entry {re}: cannot read {path}: {e}"));
                assert!(
                    text.contains(needle),
                    "COVERED entry {re}: {path} no longer contains {needle:?}"
                );
            }
        }
    }
}

/// The one documented command starting with `prefix`.
fn readme_command(prefix: &str) -> String {
    let found: Vec<String> = documented()
        .into_iter()
        .filter(|(f, c)| f == "README.md" && c.starts_with(prefix))
        .map(|(_, c)| c)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "README commands starting with {prefix:?}: {found:?}"
    );
    found.into_iter().next().unwrap_or_default()
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clouddb-docs-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir")
}

/// README's "Two commands": `scripts/quickstart.sh` from nothing (an empty directory, no server)
/// to running instances, then `DESTROY=1` back to nothing: no resource in state and the server
/// stopped. On the first full-suite CLI only (it is one user's path, not a matrix).
#[test]
fn docs_new_user_path_quickstart() {
    readme_command("scripts/quickstart.sh");
    let Some(tf) = terraform_binaries().into_iter().next() else {
        for_each_terraform("docs_new_user_path_quickstart", |_| {});
        return;
    };
    let tmp = tempdir();
    let work = tmp.path().join("quickstart");
    let out = run(
        Command::new(repo().join("scripts/quickstart.sh"))
            .env("DESTROY", "1")
            .env("QUICKSTART_DIR", &work)
            .env("QUICKSTART_PROFILE", "dev")
            .env("TERRAFORM", &tf)
            .env_remove("TF_CLI_CONFIG_FILE")
            .env_remove("TF_LOG")
            .env_remove("CLOUDDB_ENDPOINT")
            .env_remove("CLOUDDB_TOKEN")
            .env_remove("CLOUDDB_PROJECT"),
        "DESTROY=1 scripts/quickstart.sh",
    );
    let added = Regex::new(r"Apply complete! Resources: (\d+) added")
        .expect("regex")
        .captures(&out)
        .and_then(|c| c[1].parse::<usize>().ok())
        .unwrap_or_else(|| panic!("quickstart applied nothing:\n{out}"));
    assert!(added >= 1, "{out}");
    assert!(
        out.contains("\"state\": \"READY\""),
        "the API listing shows READY instances:\n{out}"
    );
    assert!(
        out.contains(&format!("Destroy complete! Resources: {added} destroyed.")),
        "destroy removes what apply added:\n{out}"
    );
    // Back to nothing: no resource left in the state, and the server the script started is gone.
    let state = run(
        Command::new(&tf)
            .args(["state", "list"])
            .current_dir(work.join("config"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", work.join("terraformrc")),
        "terraform state list",
    );
    assert!(state.trim().is_empty(), "state after destroy: {state}");
    let endpoint = Regex::new(r"listening on http://(\S+)")
        .expect("regex")
        .captures(&out)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no endpoint in:\n{out}"));
    assert!(
        std::net::TcpStream::connect(&endpoint).is_err(),
        "clouddb-server still listening on {endpoint}"
    );
}

/// Spawns `cmd` and returns the first stdout line matching `want` (then the process is killed).
fn first_line_matching(cmd: &mut Command, want: &Regex, what: &str) -> String {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let _guard = GroupGuard(child);
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| want.is_match(l))
        .unwrap_or_else(|| panic!("{what} never printed a line matching {want}"))
}

/// README's offline install, "Running clouddb-server by hand" and "Debugging the provider".
#[test]
fn docs_readme_commands_run() {
    let bin = env!("CARGO_BIN_EXE_terraform-provider-clouddb");
    let tmp = tempdir();
    let pkg = format!(
        "registry.terraform.io/clouddb/clouddb/{PROVIDER_VERSION}/linux_amd64/terraform-provider-clouddb_v{PROVIDER_VERSION}"
    );
    // `scripts/install-provider.sh` (into ~/.terraform.d/plugins) and `… /path/to/mirror`, with the
    // debug build instead of a release build and a throw-away HOME and mirror.
    readme_command("scripts/install-provider.sh /path/to/mirror");
    let home = tmp.path().join("home");
    let mirror = tmp.path().join("mirror");
    for (args, root) in [
        (vec![], home.join(".terraform.d/plugins")),
        (vec![mirror.display().to_string()], mirror.clone()),
    ] {
        let out = run(
            Command::new(repo().join("scripts/install-provider.sh"))
                .args(&args)
                .env("HOME", &home)
                .env("PROVIDER_BIN", bin),
            "scripts/install-provider.sh",
        );
        let installed = root.join(&pkg);
        assert!(
            installed.is_file(),
            "{} not installed:\n{out}",
            installed.display()
        );
        assert_eq!(
            out.lines().next(),
            Some(installed.display().to_string().as_str())
        );
    }
    // The server command as written, run as the binary `cargo run` builds, on a free port.
    let cmd = readme_command("cargo run -p clouddb-server -- --listen");
    let args: Vec<String> = cmd
        .trim_start_matches("cargo run -p clouddb-server --")
        .split_whitespace()
        .map(|a| a.replace("127.0.0.1:8080", "127.0.0.1:0"))
        .collect();
    let line = first_line_matching(
        Command::new(server_binary()).args(&args),
        &Regex::new(r"^listening on http://127\.0\.0\.1:\d+").expect("regex"),
        "clouddb-server",
    );
    assert!(line.starts_with("listening on http://"), "{line}");
    // The provider in debug mode prints the TF_REATTACH_PROVIDERS line to paste.
    let cmd = readme_command("target/debug/terraform-provider-clouddb");
    let debug_args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let line = first_line_matching(
        Command::new(bin).args(&debug_args),
        &Regex::new(r"TF_REATTACH_PROVIDERS='?\{").expect("regex"),
        "terraform-provider-clouddb --debug",
    );
    assert!(
        line.contains("registry.terraform.io/clouddb/clouddb"),
        "{line}"
    );
}

/// README's "Releasing": `scripts/bump-version.sh 0.2.0` in a copy of the repository's versioned
/// files moves every place the version lives, after which `scripts/release.sh` packs 0.2.0; a
/// version the files disagree on is refused.
#[test]
fn docs_release_procedure() {
    readme_command("scripts/bump-version.sh");
    let tmp = tempdir();
    let root = tmp.path();
    for f in [
        "Cargo.toml",
        "Cargo.lock",
        "CHANGELOG.md",
        "terraform-registry-manifest.json",
        "tests/acceptance/harness.rs",
        "scripts/bump-version.sh",
        "scripts/release.sh",
        "scripts/provider_package.py",
    ] {
        let dst = root.join(f);
        std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        std::fs::copy(repo().join(f), &dst).expect("copy repo file");
    }
    run(
        Command::new(root.join("scripts/bump-version.sh")).arg("0.2.0"),
        "scripts/bump-version.sh 0.2.0",
    );
    let read = |f: &str| std::fs::read_to_string(root.join(f)).expect("read bumped file");
    let cargo = read("Cargo.toml");
    assert!(
        cargo.contains("\nversion = \"0.2.0\"\n"),
        "Cargo.toml not bumped"
    );
    assert_eq!(
        cargo.matches("version = \"0.2.0\"").count(),
        1,
        "only the package version moves"
    );
    assert!(
        read("Cargo.lock").contains("name = \"terraform-provider-clouddb\"\nversion = \"0.2.0\"\n")
    );
    assert!(read("tests/acceptance/harness.rs").contains("PROVIDER_VERSION: &str = \"0.2.0\";"));
    let changelog = read("CHANGELOG.md");
    let new = changelog
        .find("## 0.2.0 (Unreleased)")
        .expect("new CHANGELOG section");
    assert!(
        new < changelog.find("## 0.1.0").expect("old section"),
        "new section first"
    );
    // A bad version is refused with a message naming it.
    let bad = Command::new(root.join("scripts/bump-version.sh"))
        .arg("two")
        .output()
        .expect("bump-version.sh");
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("'two'"));

    let bin = env!("CARGO_BIN_EXE_terraform-provider-clouddb");
    let release = || {
        Command::new(root.join("scripts/release.sh"))
            .arg("--binary")
            .arg(format!("linux_amd64={bin}"))
            .output()
            .expect("release.sh")
    };
    let out = release();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        root.join("dist/terraform-provider-clouddb_0.2.0_linux_amd64.zip")
            .is_file()
    );
    assert!(
        root.join("dist/terraform-provider-clouddb_0.2.0_SHA256SUMS")
            .is_file()
    );
    // With the CHANGELOG section gone the versions disagree, and release.sh says where.
    std::fs::write(
        root.join("CHANGELOG.md"),
        changelog.replace("## 0.2.0 (Unreleased)", ""),
    )
    .expect("write CHANGELOG");
    let out = release();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("CHANGELOG.md"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
