//! `edufed backup`, `edufed backup verify` and `edufed restore` from the
//! command line: a running node copied with its key, checked, and restored
//! into a fresh data directory that then serves as the same node.

mod common;

use common::{edufed, run, serve, terminate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_is_backed_up_checked_and_restored_from_the_command_line() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("passphrase"), "лошадь батарейка скрепка\n").unwrap();
    let served = serve(edufed(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let node_id = served
        .stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("created node ")
                .or_else(|| l.strip_prefix("node "))
        })
        .unwrap()
        .to_owned();
    let (ok, _, err) = run(
        edufed(cwd.path()),
        &[
            "org",
            "create",
            "--slug",
            "gym24",
            "--kind",
            "school",
            "--full-name",
            "МАОУ Гимназия №24",
            "--short-name",
            "Гимназия №24",
            "--city",
            "Томск",
            "--time-zone",
            "Asia/Tomsk",
            "--server",
            &served.url,
        ],
    )
    .await;
    assert!(ok, "{err}");

    // Without a passphrase, the key is not put in.
    let (ok, _, err) = run(
        edufed(cwd.path()),
        &["backup", "--out", "copy.edufed-backup", "--include-key"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("needs a passphrase"), "{err}");
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &[
            "backup",
            "--out",
            "copy.edufed-backup",
            "--include-key",
            "--passphrase-file",
            "passphrase",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("wrote copy.edufed-backup"), "{out}");
    assert!(out.contains(&format!("node {node_id}")), "{out}");
    assert!(out.contains("node key: included, encrypted"), "{out}");
    terminate(served).await;

    let (ok, out, err) = run(
        edufed(cwd.path()),
        &["backup", "verify", "copy.edufed-backup"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("the backup is whole"), "{out}");

    // Restored into a new data directory (no key there: it comes from the
    // copy), it serves as the same node, with the same organizations.
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &[
            "restore",
            "copy.edufed-backup",
            "--data-dir",
            "moved",
            "--passphrase-file",
            "passphrase",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("restored node {node_id}")), "{out}");
    assert!(out.contains("node key written"), "{out}");
    let (ok, _, err) = run(
        edufed(cwd.path()),
        &["restore", "copy.edufed-backup", "--data-dir", "moved"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("already holds a node's data"), "{err}");
    let served = serve(
        edufed(cwd.path()),
        &["--listen", "127.0.0.1:0", "--data-dir", "moved"],
    )
    .await;
    assert!(served.stdout.contains(&format!("node {node_id}")));
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &[
            "org",
            "list",
            "--server",
            &served.url,
            "--token-file",
            "edufed-data/operator.token",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("Гимназия №24"), "{out}");
    terminate(served).await;
}
