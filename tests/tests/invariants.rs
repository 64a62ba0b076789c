//! The rules ARCHITECTURE.md says live in one place, checked over the
//! source: a rule kept by convention alone drifts, so each is a test.

use std::path::{Path, PathBuf};

/// Every non-test line of the workspace's crates: (file, line number, text).
/// A file's `#[cfg(test)]` module, at its end by the project's habit, is
/// left out; so are the tests and benchmarks themselves.
fn source_lines() -> Vec<(PathBuf, usize, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source tree") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !matches!(name, "tests" | "benches" | "target") {
                    dirs.push(path);
                }
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            lines.push((file.clone(), n + 1, code.to_owned()));
        }
    }
    lines
}

fn relative(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.split_once("/crates/")
        .map_or(text.clone(), |(_, rest)| format!("crates/{rest}"))
}

/// The lines outside `allowed` files that `bad` flags.
fn offending(allowed: &[&str], bad: impl Fn(&str) -> bool) -> Vec<String> {
    source_lines()
        .into_iter()
        .filter(|(file, _, _)| !allowed.contains(&relative(file).as_str()))
        .filter(|(_, _, line)| bad(line))
        .map(|(file, n, line)| format!("{}:{n}: {}", relative(&file), line.trim()))
        .collect()
}

#[test]
fn every_time_rule_reads_the_clock() {
    // The node's clock (`time::Clock`) is the one place that reads the
    // system's time, so a test can move time for every rule at once.
    let found = offending(&["crates/domain/src/time.rs"], |line| {
        line.contains("Utc::now()")
            || line.contains("time::now()")
            || line.contains("SystemTime::now()")
    })
    .into_iter()
    // The command line is a client: its defaults ("from now") are the
    // person's time, not a rule of the node's.
    .filter(|l| !l.starts_with("crates/cli/") || l.contains("time::now()"))
    .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "the system clock read outside time.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn statuses_are_built_in_one_place() {
    const CODES: [&str; 17] = [
        "new(",
        "with_error_details(",
        "ok(",
        "cancelled(",
        "unknown(",
        "invalid_argument(",
        "deadline_exceeded(",
        "not_found(",
        "already_exists(",
        "permission_denied(",
        "resource_exhausted(",
        "failed_precondition(",
        "aborted(",
        "out_of_range(",
        "unimplemented(",
        "internal(",
        "unavailable(",
    ];
    let found = offending(&["crates/api/src/status.rs"], |line| {
        CODES
            .iter()
            .any(|code| line.contains(&format!("Status::{code}")))
            || line.contains("Status::unauthenticated(")
    });
    assert!(
        found.is_empty(),
        "a tonic::Status built outside crates/api/src/status.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_policy_compares_roles() {
    // Roles are defined in the directory and mapped to and from the wire in
    // the conversions; only the policy decides with them.
    let allowed = [
        "crates/domain/src/policy.rs",
        "crates/domain/src/directory.rs",
        "crates/api/src/convert/directory.rs",
    ];
    let found = offending(&allowed, |line| {
        let role = ["Admin", "Coordinator", "Teacher", "Viewer"]
            .iter()
            .any(|r| {
                line.match_indices(&format!("Role::{r}"))
                    .any(|(at, _)| !line[..at].ends_with("::") && !line[..at].ends_with("pb::"))
            });
        // Copying the operator flag into a record is not a decision, nor is
        // the column in SQL text.
        let operator = line.match_indices(".operator").any(|(at, m)| {
            let after = line[at + m.len()..].chars().next();
            after.is_none_or(|c| !c.is_alphanumeric() && c != '_')
                && !line[..at].ends_with('p')
                && !line[..at].ends_with("people")
        }) && !line.trim_start().starts_with("operator:");
        role || operator || line.contains(".role_in(") && line.contains("==")
    })
    .into_iter()
    // The command line only shows roles; the node decides with them.
    .filter(|l| !l.starts_with("crates/cli/"))
    .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "a role or the operator flag compared outside policy.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn backends_differ_in_one_place() {
    // Row locks, the log's lock and the pools are written once, in db.rs
    // and tx.rs; every other query runs as it is on both backends. A
    // backup reads each backend's catalog to copy a node between them.
    let found = offending(
        &[
            "crates/store/src/db.rs",
            "crates/store/src/tx.rs",
            "crates/store/src/backup.rs",
        ],
        |line| line.contains("Backend::Postgres") || line.contains("FOR UPDATE"),
    );
    assert!(
        found.is_empty(),
        "a backend difference outside the store's db.rs, tx.rs and backup.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn database_errors_are_translated_in_one_place() {
    let found = offending(&["crates/store/src/error.rs"], |line| {
        line.contains("DbFailure::Violation")
            || line.contains("error::ErrorKind")
            || line.contains(".constraint()")
    });
    assert!(
        found.is_empty(),
        "a database error translated outside crates/store/src/error.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_http_side_reads_through_the_api() {
    // The server's pages and feeds ask the API's services, which ask the
    // policy; they do not query the store for what to show.
    let found = offending(&[], |line| line.contains("store.feed_activities"))
        .into_iter()
        .chain(
            offending(&[], |line| line.contains(".list_bookings("))
                .into_iter()
                .filter(|l| l.starts_with("crates/server/")),
        )
        .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "the server reads records past the API:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_file_grows_past_a_reader() {
    // A file over ~800 lines is a sign to split it by concern.
    let mut long = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (file, _, _) in source_lines() {
        *counts.entry(relative(&file)).or_default() += 1;
    }
    for (file, lines) in counts {
        if lines > 850 {
            long.push(format!("{file}: {lines} lines"));
        }
    }
    assert!(long.is_empty(), "files to split:\n{}", long.join("\n"));
}

/// The `[dependencies]` a crate's manifest names.
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(manifest).expect("a manifest");
    let value: toml::Value = toml::from_str(&text).expect("TOML");
    value
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn each_layer_knows_only_what_it_needs() {
    // The domain knows nothing of protobuf, SQL or sockets; the store
    // nothing of the wire; the API nothing of SQL.
    let forbidden = [
        (
            "domain",
            &[
                "tonic",
                "prost",
                "sqlx",
                "tokio",
                "edufed-store",
                "edufed-api",
            ][..],
        ),
        (
            "store",
            &["tonic", "prost", "edufed-api", "edufed-proto"][..],
        ),
        ("api", &["sqlx"][..]),
        // The console calls the API in process: no store, no SQL, no
        // second policy.
        (
            "web",
            &["sqlx", "edufed-store", "edufed-api", "edufed-federation"][..],
        ),
        ("i18n", &["tonic", "sqlx", "edufed-store", "edufed-api"][..]),
        (
            "worker",
            &["edufed-domain", "edufed-store", "edufed-api"][..],
        ),
    ];
    for (krate, names) in forbidden {
        let deps = dependencies(krate);
        for name in names {
            assert!(
                !deps
                    .iter()
                    .any(|d| d == name || d.starts_with(&format!("{name}-"))),
                "edufed-{krate} depends on {name}"
            );
        }
    }
}

#[test]
fn only_the_proto_crate_builds_code() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let with_build: Vec<_> = std::fs::read_dir(crates)
        .expect("crates")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("build.rs").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(with_build, ["proto"]);
}

#[test]
fn sql_lives_in_the_store() {
    let found = offending(&[], |line| {
        line.contains("sqlx::query") || line.contains("SELECT ") || line.contains("INSERT INTO")
    })
    .into_iter()
    .filter(|l| !l.starts_with("crates/store/"))
    .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "SQL outside the store:\n{}",
        found.join("\n")
    );
}
