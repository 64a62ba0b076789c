//! The `edufed` binary as people and scripts use it: a real process serving,
//! real client invocations against it.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

mod common;

use common::{edufed, free_loopback, run, serve, terminate};

const CREATE_ORG: &[&str] = &[
    "org",
    "create",
    "--slug",
    "gym24-tomsk",
    "--kind",
    "school",
    "--full-name",
    "МАОУ гимназия № 24 им. М.В. Октябрьской г. Томска",
    "--short-name",
    "Гимназия №24",
    "--city",
    "Томск",
    "--time-zone",
    "Asia/Tomsk",
    "--inn",
    "7017001894",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_no_configuration_then_use_it() {
    if std::net::TcpListener::bind("127.0.0.1:50051").is_err() {
        eprintln!("skipping: 127.0.0.1:50051 is in use, and this test checks the default address");
        return;
    }
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(edufed(cwd.path()), &[]).await;
    assert_eq!(served.url, "http://127.0.0.1:50051");

    // Identity and operator token in ./edufed-data, private; the path is
    // printed, never the token.
    let data = cwd.path().join("edufed-data");
    let token = std::fs::read_to_string(data.join("operator.token")).unwrap();
    for file in ["node.key", "operator.token", "edufed.db"] {
        assert!(data.join(file).exists(), "{file}");
    }
    for file in ["node.key", "operator.token"] {
        let mode = std::fs::metadata(data.join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    assert!(
        served
            .stdout
            .contains("operator token written to edufed-data/operator.token")
    );
    assert!(!served.stdout.contains(token.trim()));

    // The client finds the node and the local operator token by default.
    let (ok, out, err) = run(edufed(cwd.path()), CREATE_ORG).await;
    assert!(ok, "{err}");
    assert!(out.contains("Гимназия №24"));
    let mut mars = CREATE_ORG.to_vec();
    mars[3] = "mars-school";
    mars[13] = "Mars/Olympus";
    let (ok, _, err) = run(edufed(cwd.path()), &mars).await;
    assert!(!ok);
    assert!(
        err.contains("InvalidArgument") && err.contains("time_zone"),
        "{err}"
    );

    let (ok, out, _) = run(edufed(cwd.path()), &["org", "list", "-o", "json"]).await;
    assert!(ok);
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["organizations"][0]["slug"], "gym24-tomsk");
    assert_eq!(
        listed["organizations"][0]["kind"],
        "ORGANIZATION_KIND_SCHOOL"
    );

    // A viewer's token cannot add members; a revoked token stops working.
    let (ok, _, err) = run(
        edufed(cwd.path()),
        &[
            "member",
            "add",
            "--org",
            "gym24-tomsk",
            "--name",
            "Филатова А.Б.",
            "--role",
            "viewer",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let (_, out, _) = run(
        edufed(cwd.path()),
        &["member", "list", "--org", "gym24-tomsk", "-o", "json"],
    )
    .await;
    let members: serde_json::Value = serde_json::from_str(&out).unwrap();
    let person = members["members"][0]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &[
            "token", "create", "--person", &person, "--name", "laptop", "--ttl", "30d", "-o",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let token_id = created["token"]["id"].as_str().unwrap().to_owned();
    let (ok, _, err) = run(
        edufed(cwd.path()),
        &[
            "--token",
            &secret,
            "member",
            "add",
            "--org",
            "gym24-tomsk",
            "--name",
            "X",
            "--role",
            "admin",
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("PermissionDenied"), "{err}");
    let (ok, out, _) = run(edufed(cwd.path()), &["--token", &secret, "whoami"]).await;
    assert!(ok);
    assert!(out.contains("Филатова А.Б."));
    let (ok, _, _) = run(edufed(cwd.path()), &["token", "revoke", &token_id]).await;
    assert!(ok);
    let (ok, _, err) = run(edufed(cwd.path()), &["--token", &secret, "whoami"]).await;
    assert!(!ok);
    assert!(err.contains("Unauthenticated"), "{err}");

    // The change feed, resumed from a cursor file, prints only what is new.
    let cursor = cwd.path().join("cursor");
    let cursor_arg = cursor.to_str().unwrap();
    let watch = [
        "watch",
        "--cursor-file",
        cursor_arg,
        "--until-caught-up",
        "--heartbeat",
        "1",
        "-o",
        "json",
    ];
    let (ok, out, err) = run(edufed(cwd.path()), &watch).await;
    assert!(ok, "{err}");
    let first: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(first.iter().any(|e| e["entity_kind"] == "organization"));
    let mut tpu = CREATE_ORG.to_vec();
    tpu[3] = "tpu";
    tpu[5] = "university";
    tpu[15] = "";
    let (ok, _, err) = run(edufed(cwd.path()), &tpu).await;
    assert!(ok, "{err}");
    let (_, out, _) = run(edufed(cwd.path()), &watch).await;
    let second: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(second.len(), 1, "{out}");
    assert_eq!(second[0]["entity_kind"], "organization");
    let last_first = first.last().unwrap()["sequence"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    let next = second[0]["sequence"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert!(next > last_first);

    let stderr = terminate(served).await;
    assert!(stderr.contains("node stopped"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_file_environment_and_flags() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("edufed.toml"),
        "listen = \"127.0.0.1:1\"\ndata_dir = \"from-file\"\n",
    )
    .unwrap();
    // The flag beats the file for the address; the environment beats the file for the data directory.
    let mut command = edufed(cwd.path());
    command.env("EDUFED_DATA_DIR", "from-env");
    let served = serve(
        command,
        &["--config", "edufed.toml", "--listen", "127.0.0.1:0"],
    )
    .await;
    assert!(served.url.starts_with("http://127.0.0.1:"));
    assert!(!served.url.ends_with(":1"));
    assert!(cwd.path().join("from-env/node.key").exists());
    assert!(!cwd.path().join("from-file").exists());
    terminate(served).await;

    // Plaintext off loopback needs --insecure.
    let (ok, _, err) = run(edufed(cwd.path()), &["serve", "--listen", "0.0.0.0:0"]).await;
    assert!(!ok);
    assert!(err.contains("--insecure"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_then_serve_on_postgres() {
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    // The test cluster trusts loopback, so a password is accepted and ignored:
    // enough to check it is never printed.
    let url = edufed_tests::create_postgres_database().await.replacen(
        "postgres://postgres@",
        "postgres://postgres:s3cret@",
        1,
    );
    assert!(url.contains("s3cret"));
    let cwd = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(edufed(cwd.path()), &["init", "--database-url", &url]).await;
    assert!(ok, "{err}");
    assert!(out.contains("created node"));
    assert!(out.contains("operator token written to"));
    assert!(
        !out.contains("s3cret") && out.contains("postgres://postgres:***@"),
        "{out}"
    );

    let (ok, out, _) = run(edufed(cwd.path()), &["init", "--database-url", &url]).await;
    assert!(ok);
    assert!(out.contains("already initialized"));

    let mut command = edufed(cwd.path());
    command
        .env("EDUFED_DATABASE_URL", &url)
        .env("EDUFED_LISTEN", "127.0.0.1:0");
    let served = serve(command, &[]).await;
    assert!(served.stdout.contains("postgres://"));
    let mut client = edufed(cwd.path());
    client.env("EDUFED_SERVER", &served.url);
    let (ok, out, err) = run(client, &["whoami"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("node operator"));
    terminate(served).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_from_the_command_line() {
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(edufed(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let client = || {
        let mut c = edufed(cwd.path());
        c.env("EDUFED_SERVER", &served.url);
        c
    };
    let mut tusur = CREATE_ORG.to_vec();
    tusur[3] = "tusur";
    tusur[5] = "university";
    tusur[15] = "";
    assert!(run(client(), &tusur).await.0);
    assert!(run(client(), CREATE_ORG).await.0);

    let (ok, out, err) = run(
        client(),
        &[
            "activity",
            "publish",
            "--publisher",
            "tusur",
            "--title",
            "Экскурсия по лабораториям",
            "--kind",
            "excursion",
            "--direction",
            "career_guidance",
            "--grades",
            "8-11",
            "--capacity",
            "45",
            "--start",
            "2030-10-15T15:00",
            "--end",
            "2030-10-15T17:00",
            "--rrule",
            "FREQ=MONTHLY;COUNT=3",
            "--coordinator",
            "Иванов И.И.",
            "-o",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let activity: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = activity["id"].as_str().unwrap().to_owned();
    assert_eq!(activity["details"]["schedule"]["time_zone"], "Asia/Tomsk");

    let (ok, out, _) = run(
        client(),
        &[
            "activity",
            "list",
            "--from",
            "2030-10-01",
            "--to",
            "2031-01-01",
            "--grade",
            "9",
            "-o",
            "json",
        ],
    )
    .await;
    assert!(ok);
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["occurrences"].as_array().unwrap().len(), 3);
    // The table reads the activity's own zone, in Russian; JSON stays UTC.
    assert!(
        listed["occurrences"][0]["occurrence"]["start"]
            .as_str()
            .is_some_and(|t| t.starts_with("2030-10-15T08:00:00")),
        "{out}"
    );
    let (ok, out, err) = run(
        client(),
        &[
            "activity",
            "list",
            "--from",
            "2030-10-01",
            "--to",
            "2031-01-01",
            "--grade",
            "9",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("вт, 15 окт 2030, 15:00 (Томск)") && out.contains("Экскурсия"),
        "{out}"
    );
    assert!(
        !out.contains("08:00:00Z") && !out.contains("excursion"),
        "{out}"
    );

    let (ok, out, err) = run(
        client(),
        &[
            "registration",
            "create",
            "--activity",
            &id,
            "--org",
            "gym24-tomsk",
            "--grades",
            "9",
            "--headcount",
            "12",
            "--teacher",
            "Казак О.Г.",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Подтверждена") && out.contains("Гимназия №24"),
        "{out}"
    );
    let (ok, out, _) = run(client(), &["activity", "show", &id]).await;
    assert!(ok);
    assert!(
        out.contains("Экскурсия по лабораториям") && out.contains("33"),
        "{out}"
    );

    let (ok, out, err) = run(client(), &["ics", "url", "--org", "tusur", "--grade", "9"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "public:  {}/ics/organizations/tusur.ics?grade=9",
            served.url
        )),
        "{out}"
    );
    assert!(out.contains("/ics/private/"));

    // Bad input names the field and exits non-zero.
    let (ok, _, err) = run(
        client(),
        &[
            "activity",
            "publish",
            "--publisher",
            "tusur",
            "--title",
            "X",
            "--kind",
            "excursion",
            "--grades",
            "12-3",
            "--start",
            "2030-10-15T15:00",
            "--end",
            "2030-10-15T17:00",
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("audience.students"), "{err}");
    terminate(served).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_from_the_command_line() {
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(edufed(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let client = || {
        let mut c = edufed(cwd.path());
        c.env("EDUFED_SERVER", &served.url);
        c
    };
    let mut kvant = CREATE_ORG.to_vec();
    kvant[3] = "kvantorium";
    kvant[5] = "technopark";
    kvant[15] = "";
    assert!(run(client(), &kvant).await.0);
    assert!(run(client(), CREATE_ORG).await.0);

    let (ok, out, err) = run(
        client(),
        &[
            "resource",
            "add",
            "--owner",
            "kvantorium",
            "--kind",
            "lab",
            "--name",
            "IT-квантум",
            "--capacity",
            "14",
            "--feature",
            "веб-разработка",
            "--hours",
            "mon-fri 09:00-18:00",
            "--buffer-minutes",
            "15",
            "--approval",
            "automatic",
            "-o",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lab = listed["resources"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed["resources"][0]["hours"].as_array().unwrap().len(), 5);

    let (ok, out, err) = run(
        client(),
        &[
            "booking",
            "request",
            "--resource",
            &lab,
            "--requester",
            "gym24-tomsk",
            "--start",
            "2027-09-07T14:00",
            "--end",
            "2027-09-07T15:30",
            "--rrule",
            "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10",
            "--exdate",
            "2027-09-09T14:00",
            "--purpose",
            "Технология",
            "--headcount",
            "12",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.matches("Подтверждено").count(), 9, "{out}");
    // Local times in the resource's zone, and the start to give back to
    // --occurrence with its offset.
    assert!(
        out.contains("вт, 7 сен 2027, 15:30 (Томск)") && out.contains("2027-09-07T14:00:00+07:00"),
        "{out}"
    );
    // The resource and the requester by their names, not their ids.
    assert!(
        out.contains("of IT-квантум by Гимназия №24") && !out.contains(&lab),
        "{out}"
    );

    // Outside the hours: refused, naming the rule.
    let (ok, _, err) = run(
        client(),
        &[
            "booking",
            "request",
            "--resource",
            &lab,
            "--requester",
            "gym24-tomsk",
            "--start",
            "2027-09-07T18:00",
            "--end",
            "2027-09-07T19:00",
            "--purpose",
            "x",
            "--headcount",
            "5",
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("bookable_hours"), "{err}");

    let (ok, out, err) = run(
        client(),
        &[
            "resource",
            "blackout",
            &lab,
            "--from",
            "2027-09-13",
            "--to",
            "2027-09-18",
            "--reason",
            "профилактика",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("left in place"), "{out}");

    let (ok, out, _) = run(
        client(),
        &[
            "freebusy",
            "--resource",
            &lab,
            "--from",
            "2027-09-06",
            "--to",
            "2027-09-20",
            "-o",
            "json",
        ],
    )
    .await;
    assert!(ok);
    let busy: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        busy["resources"][0]["busy"].as_array().unwrap().len(),
        4,
        "lessons on the 7th, 14th and 16th, and the blackout"
    );
    let (ok, out, err) = run(
        client(),
        &[
            "freebusy",
            "--resource",
            &lab,
            "--from",
            "2027-09-06",
            "--to",
            "2027-09-08",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("IT-квантум") && out.contains("вт, 7 сен 2027, 14:00 (Томск)"),
        "{out}"
    );

    let (ok, out, err) = run(
        client(),
        &[
            "slot",
            "find",
            "--requester",
            "gym24-tomsk",
            "--duration",
            "90",
            "--headcount",
            "12",
            "--feature",
            "веб-разработка",
            "--from",
            "2027-09-07",
            "--to",
            "2027-09-08",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("IT-квантум"), "{out}");

    // The audit trail names each write in Russian, with who, how and from
    // where, newest first.
    let (ok, out, err) = run(client(), &["audit", "--record", &lab]).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("Ресурс IT-квантум"))
        .collect();
    assert_eq!(lines.len(), 2, "created, then its blackout: {out}");
    assert!(lines[0].contains("Закрытые дни ресурса"), "{out}");
    assert!(
        lines[1].contains("Новый ресурс") && lines[1].contains("токен"),
        "{out}"
    );
    assert!(lines[1].contains("127.0.0.1"), "{out}");
    let (ok, out, err) = run(client(), &["audit", "--kind", "booking", "-o", "json"]).await;
    assert!(ok, "{err}");
    let trail: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = trail["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(entries[0]["method"], "/edufed.v1.Booking/RequestBooking");
    let (ok, _, err) = run(client(), &["audit", "--since", "yesterday"]).await;
    assert!(!ok);
    assert!(err.contains("yesterday"), "{err}");
    terminate(served).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreement_from_draft_to_printable_page() {
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(edufed(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let client = || {
        let mut c = edufed(cwd.path());
        c.env("EDUFED_SERVER", &served.url);
        c
    };
    let mut mgml = CREATE_ORG.to_vec();
    mgml[3] = "mgml";
    mgml[7] = "МАОУ «Магнитогорский городской многопрофильный лицей при МГТУ им. Г.И. Носова»";
    mgml[9] = "МГМЛ";
    mgml[11] = "Магнитогорск";
    mgml[13] = "Asia/Yekaterinburg";
    mgml[15] = "";
    let mut kvant = mgml.clone();
    kvant[3] = "kvantorium-mgn";
    kvant[5] = "technopark";
    kvant[7] = "Детский технопарк «Кванториум» г. Магнитогорска";
    kvant[9] = "Кванториум Магнитогорск";
    for org in [&mgml, &kvant] {
        let (ok, _, err) = run(client(), org).await;
        assert!(ok, "{err}");
    }

    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/examples/agreement-network-form.json"
    );
    let (ok, out, err) = run(
        client(),
        &[
            "agreement",
            "draft",
            "--initiator",
            "mgml",
            "--file",
            file,
            "-o",
            "json",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let drafted: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = drafted["id"].as_str().unwrap().to_owned();
    assert_eq!(drafted["state"], "AGREEMENT_STATE_DRAFT");

    let (ok, out, err) = run(client(), &["agreement", "propose", &id]).await;
    assert!(ok, "{err}");
    assert!(out.contains("На подписании"), "{out}");
    // The operator may not sign for an organization; its director does.
    let (ok, _, err) = run(client(), &["agreement", "sign", &id, "--org", "mgml"]).await;
    assert!(!ok && err.contains("PermissionDenied"), "{err}");
    let mut directors = Vec::new();
    for org in ["mgml", "kvantorium-mgn"] {
        let (ok, _, err) = run(
            client(),
            &[
                "member",
                "add",
                "--org",
                org,
                "--name",
                "Директор",
                "--role",
                "admin",
            ],
        )
        .await;
        assert!(ok, "{err}");
        let (_, out, _) = run(client(), &["member", "list", "--org", org, "-o", "json"]).await;
        let members: serde_json::Value = serde_json::from_str(&out).unwrap();
        let person = members["members"][0]["person"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (ok, out, err) = run(
            client(),
            &[
                "token", "create", "--person", &person, "--name", "director", "-o", "json",
            ],
        )
        .await;
        assert!(ok, "{err}");
        let created: serde_json::Value = serde_json::from_str(&out).unwrap();
        directors.push(created["secret"].as_str().unwrap().to_owned());
    }
    let (ok, out, err) = run(
        client(),
        &[
            "--token",
            &directors[0],
            "agreement",
            "sign",
            &id,
            "--org",
            "mgml",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("kvantorium-mgn"), "yet to sign: {out}");
    let (ok, _, err) = run(
        client(),
        &[
            "--token",
            &directors[1],
            "agreement",
            "sign",
            &id,
            "--org",
            "kvantorium-mgn",
        ],
    )
    .await;
    assert!(ok, "{err}");

    // In force from 2026-09-01 to 2027-05-31 in the initiator's zone (UTC+5).
    let today = (chrono::Utc::now() + chrono::Duration::hours(5)).date_naive();
    let expected = if today < chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap() {
        "AGREEMENT_STATE_SIGNED"
    } else if today <= chrono::NaiveDate::from_ymd_opt(2027, 5, 31).unwrap() {
        "AGREEMENT_STATE_ACTIVE"
    } else {
        "AGREEMENT_STATE_EXPIRED"
    };
    let (ok, out, err) = run(client(), &["agreement", "show", &id, "-o", "json"]).await;
    assert!(ok, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["state"], expected, "{out}");
    let signatures = shown["versions"][0]["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);
    assert!(signatures.iter().all(|s| s["verified"] == true));
    let (ok, out, err) = run(client(), &["agreement", "show", &id]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("№12-сф") && out.contains("verified: yes"),
        "{out}"
    );

    let (ok, out, err) = run(client(), &["agreement", "history", &id]).await;
    assert!(ok, "{err}");
    for action in ["drafted", "proposed", "signed"] {
        assert!(out.contains(action), "{action}: {out}");
    }

    let (ok, out, err) = run(client(), &["agreement", "render", &id]).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("<!DOCTYPE html>"), "{out}");
    assert!(
        out.contains("Договор о сетевой форме реализации образовательной программы"),
        "{out}"
    );

    // A content file that is not AgreementContent is named with the problem.
    std::fs::write(cwd.path().join("bad.json"), r#"{"titel": "x"}"#).unwrap();
    let (ok, _, err) = run(
        client(),
        &[
            "agreement",
            "draft",
            "--initiator",
            "mgml",
            "--file",
            "bad.json",
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("bad.json") && err.contains("titel"), "{err}");
    terminate(served).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pins_a_peer() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = serve(edufed(a_dir.path()), &["--listen", "127.0.0.1:0"]).await;
    let b = serve(edufed(b_dir.path()), &["--listen", "127.0.0.1:0"]).await;
    let on = |dir: &Path, url: &str| {
        let mut c = edufed(dir);
        c.env("EDUFED_SERVER", url);
        c
    };
    let (ok, out, err) = run(on(a_dir.path(), &a.url), &["whoami", "-o", "json"]).await;
    assert!(ok, "{err}");
    let me: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fingerprint = me["node_id"].as_str().unwrap().to_owned();
    assert_eq!(fingerprint.len(), 64);

    let wrong = "0".repeat(64);
    let (ok, _, err) = run(
        on(b_dir.path(), &b.url),
        &["peer", "add", &a.url, "--fingerprint", &wrong],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("fingerprint"), "{err}");
    let (ok, out, err) = run(
        on(b_dir.path(), &b.url),
        &["peer", "add", &a.url, "--fingerprint", &fingerprint],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains(&fingerprint), "{out}");
    let (ok, out, _) = run(on(b_dir.path(), &b.url), &["peer", "list", "-o", "json"]).await;
    assert!(ok);
    let peers: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        peers["peers"][0]["descriptor"]["node_id"],
        fingerprint.as_str()
    );
    let (ok, out, err) = run(
        on(b_dir.path(), &b.url),
        &["subscribe", &fingerprint, "--kind", "activity"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("activity"), "{out}");
    let (ok, out, err) = run(on(b_dir.path(), &b.url), &["peer", "status", "-o", "json"]).await;
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["subscriptions"][0]["node_id"], fingerprint.as_str());
    // Nothing of the peer's is mirrored yet, and the peer shares nothing:
    // both digests are of no record.
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let (ok, out, err) = run(
        on(b_dir.path(), &b.url),
        &["peer", "digest", &fingerprint, "--kind", "activity"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains(&fingerprint) && out.contains(empty), "{out}");
    let (ok, out, err) = run(
        on(a_dir.path(), &a.url),
        &["peer", "digest", "--kind", "activity", "-o", "json"],
    )
    .await;
    assert!(ok, "{err}");
    let digest: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(digest["origin"], fingerprint.as_str());
    assert_eq!(digest["sha256"], empty);
    let (ok, _, err) = run(
        on(a_dir.path(), &a.url),
        &["peer", "digest", "--kind", "lessons"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("entity_kinds"), "{err}");
    let (ok, _, err) = run(on(b_dir.path(), &b.url), &["unsubscribe", &fingerprint]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(on(b_dir.path(), &b.url), &["peer", "remove", &fingerprint]).await;
    assert!(ok, "{err}");
    terminate(a).await;
    terminate(b).await;
}

/// The hub's view of the network's activities in the next `days`: (id, version) pairs.
async fn hub_activities(url: &str, days: i64) -> Vec<(String, u64)> {
    use edufed_proto::v1 as pb;
    let channel = tonic::transport::Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut calendar = pb::calendar_client::CalendarClient::new(channel);
    let now = chrono::Utc::now();
    let mut token = String::new();
    let mut found = Vec::new();
    loop {
        let page = calendar
            .list_occurrences(pb::ListOccurrencesRequest {
                from: Some(prost_types::Timestamp {
                    seconds: now.timestamp(),
                    nanos: 0,
                }),
                to: Some(prost_types::Timestamp {
                    seconds: (now + chrono::Duration::days(days)).timestamp(),
                    nanos: 0,
                }),
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for o in page.occurrences {
            let a = o.activity.unwrap();
            found.push((a.id, a.version));
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    found.sort();
    found
}

/// A university node (SQLite, in this process) hosting `tusur`, and a
/// token of a coordinator there.
async fn university_with_coordinator() -> (edufed_tests::TestNode, String) {
    let university = edufed_tests::TestNode::start(edufed_tests::Backend::Sqlite).await;
    university
        .operator()
        .await
        .create_organization(edufed_tests::org_request("tusur"))
        .await
        .unwrap();
    let coordinator = university
        .member_token("tusur", edufed_proto::v1::Role::Coordinator)
        .await;
    (university, coordinator)
}

/// A hub process killed with SIGKILL again and again while it follows a
/// university publishing a stream of changes converges, after each
/// restart, to exactly the university's state: nothing lost, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_subscriber_converges_exactly() {
    use edufed_proto::v1 as pb;
    use rand::Rng as _;
    let (university, coordinator) = university_with_coordinator().await;

    let hub_dir = tempfile::tempdir().unwrap();
    let listen = free_loopback();
    let mut hub = serve(edufed(hub_dir.path()), &["--listen", &listen]).await;
    let hub_url = hub.url.clone();
    let client = || {
        let mut c = edufed(hub_dir.path());
        c.env("EDUFED_SERVER", &hub_url);
        c
    };
    let (_, out, _) = run(client(), &["whoami", "-o", "json"]).await;
    let hub_id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uni_id = university.node.node_id().to_owned();
    pb::federation_client::FederationClient::with_interceptor(
        university.channel().await,
        edufed_tests::Bearer::new(&university.operator_token),
    )
    .add_peer(pb::AddPeerRequest {
        url: hub_url.clone(),
        fingerprint: hub_id,
    })
    .await
    .unwrap();
    let (ok, _, err) = run(
        client(),
        &[
            "peer",
            "add",
            &university.node.url(),
            "--fingerprint",
            &uni_id,
        ],
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(client(), &["subscribe", &uni_id, "--kind", "activity"]).await;
    assert!(ok, "{err}");

    // The university publishes, and changes a third of what it published:
    // 2 000 changes. Between kills the test may pause it to compare states.
    const ACTIVITIES: usize = 1500;
    let gate = std::sync::Arc::new(tokio::sync::RwLock::new(()));
    let writer = {
        let channel = university.channel().await;
        let token = coordinator.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
                channel,
                edufed_tests::Bearer::new(&token),
            );
            let day = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
            for i in 0..ACTIVITIES {
                let details = pb::ActivityDetails {
                    title: format!("Занятие {i}"),
                    kind: pb::ActivityKind::Course.into(),
                    audience: Some(pb::Audience {
                        students: Some(pb::GradeRange { min: 9, max: 11 }),
                        ..Default::default()
                    }),
                    format: pb::Format::InPerson.into(),
                    place: Some(pb::Place {
                        kind: pb::PlaceKind::AtPublisher.into(),
                        value: String::new(),
                    }),
                    visibility: pb::Visibility::Public.into(),
                    schedule: Some(pb::Schedule {
                        time_zone: String::new(),
                        start: format!("{day}T{:02}:{:02}", 8 + (i / 60) % 10, i % 60),
                        end: format!("{day}T{:02}:{:02}", 9 + (i / 60) % 10, i % 60),
                        all_day: false,
                        recurrence: None,
                    }),
                    ..Default::default()
                };
                let _turn = gate.read().await;
                let published = calendar
                    .publish_activity(pb::PublishActivityRequest {
                        publisher: "tusur".into(),
                        details: Some(details.clone()),
                        draft: false,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                if i % 3 == 0 {
                    calendar
                        .update_activity(pb::UpdateActivityRequest {
                            activity_id: published.id,
                            details: Some(pb::ActivityDetails {
                                title: format!("Занятие {i} (перенесено в другую аудиторию)"),
                                ..details
                            }),
                            expected_version: 0,
                        })
                        .await
                        .unwrap();
                }
            }
        })
    };
    // Kill the hub at random points while the stream flows; after every
    // other restart, hold the university still and check that the hub
    // catches up to exactly its state.
    let mut kills = 0;
    while !writer.is_finished() {
        tokio::time::sleep(Duration::from_millis(
            rand::thread_rng().gen_range(150..700),
        ))
        .await;
        hub.child.start_kill().unwrap();
        hub.child.wait().await.unwrap();
        kills += 1;
        hub = serve(edufed(hub_dir.path()), &["--listen", &listen]).await;
        if kills % 2 == 0 {
            let _still = gate.write().await;
            let expected = hub_activities(&university.node.url(), 30).await;
            let mut seen = Vec::new();
            for _ in 0..300 {
                seen = hub_activities(&hub_url, 30).await;
                if seen == expected {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                seen == expected,
                "after restart {kills} the hub holds {} activities, the university {}",
                seen.len(),
                expected.len()
            );
        }
    }
    writer.await.unwrap();
    assert!(kills >= 6, "the hub was killed only {kills} times");

    // After the last restart the hub catches up to exactly the university's state.
    let expected = hub_activities(&university.node.url(), 30).await;
    assert_eq!(expected.len(), ACTIVITIES);
    let mut seen = Vec::new();
    for _ in 0..300 {
        seen = hub_activities(&hub_url, 30).await;
        if seen == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.len(), expected.len());
    assert!(
        seen == expected,
        "the hub's mirrors differ from the university's activities"
    );
    terminate(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_makes_a_self_signed_certificate_to_serve_with() {
    let cwd = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        edufed(cwd.path()),
        &[
            "init",
            "--self-signed-cert",
            "--cert-name",
            "edufed.example.org",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("TLS certificate written to"), "{out}");
    let data = cwd.path().join("edufed-data");
    let (cert, key) = (data.join("tls-cert.pem"), data.join("tls-key.pem"));
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Not replaced by a second run.
    let (ok, _, err) = run(edufed(cwd.path()), &["init", "--self-signed-cert"]).await;
    assert!(!ok && err.contains("exists already"), "{err}");

    let served = serve(
        edufed(cwd.path()),
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    )
    .await;
    assert!(served.url.starts_with("https://"), "{}", served.url);
    let mut client = edufed(cwd.path());
    client.env("EDUFED_SERVER", &served.url);
    let (ok, out, err) = run(client, &["--ca-cert", cert.to_str().unwrap(), "whoami"]).await;
    assert!(ok, "{err}");
    assert!(!out.is_empty());
    terminate(served).await;
}

/// `edufed demo` starts a university node, a technopark node and a hub in
/// one process, loads the seeds' network into them through their APIs,
/// federates them, and prints what to try; a second run reuses the
/// directory as it is, on new ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_starts_a_federated_network_and_says_what_to_try() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path().join("demo");
    let dir_arg = dir.to_str().unwrap();
    let demo = |cwd: &Path| {
        let mut command = edufed(cwd);
        command.args([
            "demo",
            "--base-port",
            "0",
            "--dir",
            dir_arg,
            "--exit-when-ready",
        ]);
        command
    };
    let run_demo = |command: Command| async {
        let (ok, out, err) = tokio::time::timeout(Duration::from_secs(120), run(command, &[]))
            .await
            .expect("the demo is ready and exits");
        assert!(ok, "{err}\n{out}");
        out
    };

    let out = run_demo(demo(cwd.path())).await;
    assert!(out.contains("starting a demo network in"), "{out}");
    for node in [
        "university node",
        "Университеты сети",
        "technopark node",
        "Детский технопарк «Кванториум»",
        "hub",
        "Городской узел МАУ ИМЦ",
    ] {
        assert!(out.contains(node), "{node}: {out}");
    }
    for step in [
        "edufed activity list",
        "edufed booking request",
        "--requester mgml",
        "edufed agreement sign",
        "--org kvantorium-mgn",
    ] {
        assert!(out.contains(step), "{step}: {out}");
    }
    assert!(out.contains("27 organizations"), "{out}");
    assert!(
        out.contains("the hub's calendar shows all 14 of the university node's activities"),
        "{out}"
    );
    // The seeds' designations, trials in the bank and learning routes.
    for part in [
        "6 designations",
        "3 professional trials in the bank",
        "1 waiting for review",
        "Гимназия №44: 10И, инженерный",
        "edufed route list --school gym44-nkz",
    ] {
        assert!(out.contains(part), "{part}: {out}");
    }

    // Tokens are files, private, and never printed; the guide names them.
    for file in [
        "hub/operator.token",
        "university/operator.token",
        "technopark/operator.token",
        "tokens/mgml.token",
        "tokens/kvantorium-mgn.token",
    ] {
        let path = dir.join(file);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
        let token = std::fs::read_to_string(&path).unwrap();
        assert!(!out.contains(token.trim()), "{file} printed");
    }
    assert!(out.contains(dir.join("tokens/mgml.token").to_str().unwrap()));

    // The lab the guide books is the technopark's.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo.json")).unwrap()).unwrap();
    let lab = manifest["lab_id"].as_str().unwrap();
    assert!(out.contains(&format!("--resource {lab}")), "{out}");

    // Reused and serving: the hub's reports count what it mirrors of the
    // other two nodes, as each of them counts its own.
    let mut command = edufed(cwd.path());
    command.args(["demo", "--base-port", "0", "--dir", dir_arg]);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let again = tokio::time::timeout(Duration::from_secs(120), async {
        let mut text = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            text.push_str(&line);
            text.push('\n');
            if line.starts_with("Serving;") {
                break;
            }
        }
        text
    })
    .await
    .expect("the demo serves");
    assert!(again.contains("reusing the demo in"), "{again}");
    assert!(again.contains(&format!("--resource {lab}")), "{again}");
    assert!(
        again.contains("edufed report indicators --network"),
        "{again}"
    );
    let url_of = |label: &str| -> String {
        again
            .lines()
            .find(|l| l.trim_start().starts_with(label) && l.contains("http://"))
            .and_then(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
            .unwrap_or_else(|| panic!("no url for {label}: {again}"))
            .to_owned()
    };
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        today.to_string(),
        (today + chrono::Duration::days(365)).to_string(),
    );
    let report = |site: &str, url: String, name: &str, scope: &str| {
        let token = dir.join(site).join("operator.token");
        let mut command = edufed(cwd.path());
        command.args([
            "report",
            name,
            "--from",
            &from,
            "--to",
            &to,
            "--group-by",
            "organization",
            "--format",
            "json",
            "--server",
            &url,
            "--token-file",
            token.to_str().unwrap(),
        ]);
        if scope == "network" {
            command.arg("--network");
        }
        async move {
            let (ok, out, err) = run(command, &[]).await;
            assert!(ok, "{err}");
            serde_json::from_str::<serde_json::Value>(&out).unwrap()
        }
    };
    let by_org = |report: &serde_json::Value, figure: &str| -> BTreeMap<String, u64> {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["organization"].as_str().unwrap().to_owned(),
                    r[figure].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let hub_url = url_of("hub");

    // Each start invites one person of each kind into the console with a
    // fresh one-time link; the school's deputy director's signs in on the hub
    // once.
    let links: Vec<&str> = again
        .split_whitespace()
        .filter(|w| w.contains("/sign-in/"))
        .collect();
    assert_eq!(links.len(), 5, "{again}");
    assert!(!out.contains(links[0]), "links are made afresh");
    assert!(
        links[0].starts_with(&format!("{hub_url}/sign-in/")),
        "{again}"
    );
    let secret = links[0].rsplit('/').next().unwrap().to_owned();
    let mut directory =
        edufed_proto::v1::directory_client::DirectoryClient::connect(hub_url.clone())
            .await
            .unwrap();
    let started = directory
        .start_session(edufed_proto::v1::StartSessionRequest {
            link_secret: secret.clone(),
            user_agent: "test".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(started.session.is_some());
    let again_used = directory
        .start_session(edufed_proto::v1::StartSessionRequest {
            link_secret: secret,
            user_agent: "test".into(),
        })
        .await
        .unwrap_err();
    assert_ne!(again_used.code(), tonic::Code::Ok);

    for (site, label) in [
        ("university", "university node"),
        ("technopark", "technopark node"),
    ] {
        let own = report(site, url_of(label), "activities", "node").await;
        let seen = report("hub", hub_url.clone(), "activities", "network").await;
        let own_counts = by_org(&own, "occurrences_scheduled");
        let seen_counts = by_org(&seen, "occurrences_scheduled");
        if site == "university" {
            assert!(
                !own_counts.is_empty(),
                "the universities' coming activities"
            );
        }
        for (org, n) in &own_counts {
            assert_eq!(
                seen_counts.get(org),
                Some(n),
                "{site}'s {org} as the hub counts it"
            );
        }
        let own = report(site, url_of(label), "agreements", "node").await;
        let seen = report("hub", hub_url.clone(), "agreements", "network").await;
        let seen_counts = by_org(&seen, "agreements");
        let own_counts = by_org(&own, "agreements");
        assert!(!own_counts.is_empty(), "{site} is party to agreements");
        for (org, n) in own_counts {
            assert_eq!(
                seen_counts.get(&org),
                Some(&n),
                "{site}'s {org}'s agreements at the hub"
            );
        }
    }
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(_)) = lines.next_line().await {}
        child.wait().await
    })
    .await
    .expect("the demo stops")
    .unwrap();
    assert!(status.success());
}

/// A hub forwarding its schools' registrations to a university is killed
/// with SIGKILL again and again while the writes are in flight, each
/// retried by its client with the same idempotency key. After every restart
/// each key gets the university's answer (never "still running"), and no
/// registration happens twice, not even for a retry long after.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_forwarder_never_runs_a_write_twice() {
    use edufed_proto::v1 as pb;
    use rand::Rng as _;
    use tonic::metadata::MetadataValue;

    let (university, coordinator) = university_with_coordinator().await;
    let mut uni_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        university.channel().await,
        edufed_tests::Bearer::new(&coordinator),
    );
    let mut course = edufed_tests::public_course("Олимпиадная подготовка", 20);
    course.capacity = 1000;
    let course = uni_calendar
        .publish_activity(pb::PublishActivityRequest {
            publisher: "tusur".into(),
            details: Some(course),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();

    // The hub, a process, hosts the school; the two nodes pin each other and
    // the hub follows the university's activities.
    let hub_dir = tempfile::tempdir().unwrap();
    let listen = free_loopback();
    let mut hub = serve(edufed(hub_dir.path()), &["--listen", &listen]).await;
    let hub_url = hub.url.clone();
    let hub_operator = std::fs::read_to_string(hub_dir.path().join("edufed-data/operator.token"))
        .unwrap()
        .trim()
        .to_owned();
    let hub_channel = || async {
        tonic::transport::Channel::from_shared(hub_url.clone())
            .unwrap()
            .connect()
            .await
    };
    let mut directory = pb::directory_client::DirectoryClient::with_interceptor(
        hub_channel().await.unwrap(),
        edufed_tests::Bearer::new(&hub_operator),
    );
    directory
        .create_organization(edufed_tests::org_request("gym24"))
        .await
        .unwrap();
    let teacher = directory
        .add_member(pb::AddMemberRequest {
            organization: "gym24".into(),
            person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                display_name: "Казак Ольга Геннадьевна".into(),
                email: String::new(),
            })),
            role: pb::Role::Teacher.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let teacher_token = directory
        .create_token(pb::CreateTokenRequest {
            person_id: teacher.person.unwrap().id,
            name: "journal".into(),
            ttl: None,
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let hub_id = directory
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner()
        .node_id;
    let mut uni_federation = pb::federation_client::FederationClient::with_interceptor(
        university.channel().await,
        edufed_tests::Bearer::new(&university.operator_token),
    );
    uni_federation
        .add_peer(pb::AddPeerRequest {
            url: hub_url.clone(),
            fingerprint: hub_id,
        })
        .await
        .unwrap();
    let uni_id = university.node.node_id().to_owned();
    let (ok, _, err) = run(
        {
            let mut c = edufed(hub_dir.path());
            c.env("EDUFED_SERVER", &hub_url);
            c
        },
        &[
            "peer",
            "add",
            &university.node.url(),
            "--fingerprint",
            &uni_id,
        ],
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        {
            let mut c = edufed(hub_dir.path());
            c.env("EDUFED_SERVER", &hub_url);
            c
        },
        &["subscribe", &uni_id, "--kind", "activity"],
    )
    .await;
    assert!(ok, "{err}");

    // Forty groups, each registered by a client that retries its own key
    // until the university's answer comes back.
    const KEYS: usize = 40;
    let course_id = course.id.clone();
    let register = move |key: String| {
        let hub_url = hub_url.clone();
        let token = teacher_token.clone();
        let activity = course_id.clone();
        async move {
            let channel = tonic::transport::Channel::from_shared(hub_url)
                .unwrap()
                .connect_timeout(Duration::from_secs(2))
                .connect()
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
                channel,
                edufed_tests::Bearer::new(&token),
            );
            let mut request = tonic::Request::new(pb::RegisterRequest {
                activity_id: activity,
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "gym24".into(),
                    grades: Some(pb::GradeRange { min: 9, max: 11 }),
                    headcount: 1,
                    teacher: "Казак О.Г.".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            });
            request.metadata_mut().insert(
                "x-edufed-idempotency-key",
                MetadataValue::try_from(key.as_str()).unwrap(),
            );
            request.set_timeout(Duration::from_secs(10));
            calendar.register(request).await.map(|r| r.into_inner().id)
        }
    };
    let retrying = move |key: String| {
        let register = register.clone();
        async move {
            for _ in 0..600 {
                match register(key.clone()).await {
                    Ok(id) => return id,
                    Err(status) => {
                        assert!(
                            !status.message().contains("still running"),
                            "key {key}: {status:?}"
                        );
                        // The course is not mirrored yet, or the hub is down.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
            panic!("key {key} got no answer")
        }
    };
    let clients: Vec<_> = (0..KEYS)
        .map(|i| {
            let retrying = retrying.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50 * i as u64)).await;
                let key = format!("group-{i}");
                (key.clone(), retrying(key).await)
            })
        })
        .collect();
    let mut kills = 0;
    while clients.iter().any(|c| !c.is_finished()) && kills < 12 {
        tokio::time::sleep(Duration::from_millis(
            rand::thread_rng().gen_range(100..400),
        ))
        .await;
        hub.child.start_kill().unwrap();
        hub.child.wait().await.unwrap();
        kills += 1;
        hub = serve(edufed(hub_dir.path()), &["--listen", &listen]).await;
    }
    let mut answers = BTreeMap::new();
    for client in clients {
        let (key, id) = client.await.unwrap();
        answers.insert(key, id);
    }
    assert!(kills >= 3, "the hub was killed only {kills} times");

    // The university holds exactly one registration per key, the one each
    // client was told of.
    let held = |calendar: &mut pb::calendar_client::CalendarClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            edufed_tests::Bearer,
        >,
    >| {
        let request = pb::ListRegistrationsRequest {
            activity_id: course.id.clone(),
        };
        let mut calendar = calendar.clone();
        async move {
            calendar
                .list_registrations(request)
                .await
                .unwrap()
                .into_inner()
                .registrations
                .into_iter()
                .map(|r| r.id)
                .collect::<std::collections::BTreeSet<_>>()
        }
    };
    let registered = held(&mut uni_calendar).await;
    let told: std::collections::BTreeSet<_> = answers.values().cloned().collect();
    assert_eq!(told.len(), KEYS, "each key has its own registration");
    assert_eq!(
        registered, told,
        "the university holds exactly what was answered"
    );

    // Eleven minutes on (the university's record of each key aged so: a
    // peer's credential may not be that far from the clock), every key still
    // gets its first answer.
    university
        .db
        .execute("UPDATE forwarded_writes SET created_at = created_at - 660000000")
        .await;
    for (key, id) in &answers {
        assert_eq!(&retrying(key.clone()).await, id, "key {key}");
    }
    assert_eq!(held(&mut uni_calendar).await, told);
    terminate(hub).await;
}
