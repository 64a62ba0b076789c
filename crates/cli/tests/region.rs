//! `edufed region` at a small scale, as CI runs it: eleven nodes (the
//! regional hub and the first city hub on PostgreSQL when the suite has
//! one) under a minute of load with every fault of the full run, then the
//! regional hub stopped and caught up. Every subscription's digest must
//! match its origin's, and no registration or booking may be lost or held
//! twice.

use serde_json::Value;

mod common;

use common::{edufed, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_region_converges_after_its_faults() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("region.json");
    let mut args: Vec<String> = [
        "region",
        "--cities",
        "2",
        "--per-city",
        "4",
        "--organizations",
        "60",
        "--rate",
        "10",
        "--minutes",
        "1",
        "--outage-minutes",
        "0.25",
        "--rest-secs",
        "5",
        "--faults",
        "--dir",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.push(dir.path().join("nodes").display().to_string());
    args.push("--report".into());
    args.push(report.display().to_string());
    let on_postgres = edufed_tests::postgres_admin_url().is_some();
    if on_postgres {
        for _ in 0..2 {
            args.push("--postgres".into());
            args.push(edufed_tests::create_postgres_database().await);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, stdout, stderr) = run(edufed(dir.path()), &args).await;
    assert!(ok, "edufed region failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("CONVERGED"), "{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();

    assert_eq!(report["nodes"], 11);
    assert_eq!(report["organizations"], 60);
    // Two subscriptions between each city hub and the regional hub, three
    // for each institution (it follows its hub, its hub follows it, the
    // regional hub follows it through its hub), one per school of its
    // partner university.
    assert_eq!(report["subscriptions_checked"], 2 * 2 + 8 * 3 + 2);
    assert_eq!(
        report["divergences"].as_array().unwrap().len(),
        0,
        "{stdout}"
    );
    assert!(report["digest_records"].as_u64().unwrap() > 100, "{stdout}");

    let faults: Vec<&str> = report["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["what"].as_str().unwrap())
        .collect();
    assert_eq!(faults.len(), 4, "{faults:?}");
    assert!(faults.iter().any(|f| f.contains("killed")), "{faults:?}");
    assert!(faults.iter().any(|f| f.contains("cut")), "{faults:?}");
    assert!(
        faults.iter().any(|f| f.contains("restored from")),
        "{faults:?}"
    );

    let effects = &report["effects"];
    assert!(effects["acknowledged"].as_u64().unwrap() > 100, "{effects}");
    assert_eq!(effects["refused"], 0, "{effects}");
    assert_eq!(effects["lost"], 0, "{effects}");
    assert_eq!(effects["duplicated"], 0, "{effects}");
    assert_eq!(effects["seat_mismatches"], 0, "{effects}");

    // The regional hub saw writes from schools and forwarded registrations,
    // and came back after its outage.
    assert!(report["school_to_regional"]["count"].as_u64().unwrap() > 0);
    assert!(report["forwarded_to_regional"]["count"].as_u64().unwrap() > 0);
    assert!(report["catch_up_secs"].as_f64().is_some(), "{report}");
    assert!(report["regional_activities_scheduled"].as_u64().unwrap() > 0);
    let phases: Vec<&str> = report["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["phase"].as_str().unwrap())
        .collect();
    for phase in ["rest", "load", "outage"] {
        assert!(phases.contains(&phase), "{phases:?}");
    }
    assert!(report["wire_bytes_per_entry"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn a_region_that_cannot_run_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (&["--minutes=-1"][..], "--minutes"),
        (&["--minutes", "NaN"][..], "--minutes"),
        (&["--outage-minutes=-0.5"][..], "--outage-minutes"),
        (&["--rate", "0"][..], "--rate"),
        (&["--per-city", "3"][..], "--per-city"),
        (&["--cities", "0"][..], "--cities"),
        (
            &[
                "--postgres",
                "a",
                "--postgres",
                "b",
                "--cities",
                "1",
                "--postgres",
                "c",
            ][..],
            "--postgres",
        ),
    ] {
        let mut all = vec!["region", "--dir"];
        let nodes = dir.path().join("nodes").display().to_string();
        all.push(&nodes);
        all.extend_from_slice(args);
        let (ok, _, stderr) = run(edufed(dir.path()), &all).await;
        assert!(!ok, "{args:?} was accepted");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // Nothing was started: no node's data directory exists.
    assert!(!dir.path().join("nodes").exists());
}
