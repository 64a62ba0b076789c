//! The shipped systemd unit: valid, and sandboxed as `systemd-analyze
//! security` rates it (where systemd's tools are installed).

use std::path::PathBuf;
use std::process::Command;

fn unit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/edufed.service")
}

#[test]
fn the_unit_is_sandboxed() {
    let Ok(out) = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20"])
        .arg(unit())
        .output()
    else {
        eprintln!("skipping: systemd-analyze is not installed");
        return;
    };
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the unit's exposure is above 2.0:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let overall = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .expect("an overall rating");
    assert!(
        overall.contains("OK") || overall.contains("SAFE"),
        "{overall}"
    );
    let text = std::fs::read_to_string(unit()).unwrap();
    for setting in [
        "LimitNOFILE=",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "PrivateTmp=true",
    ] {
        assert!(text.contains(setting), "{setting}");
    }
}
