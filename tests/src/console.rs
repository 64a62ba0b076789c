//! The web console's tests: people with sign-in links, and journeys run in
//! a real Chromium by the Playwright scripts under `tests/browser/`.
//!
//! Without Chromium or the scripts' packages a journey is skipped, unless
//! `EDUFED_REQUIRE_BROWSER=1` (the README's test command sets it and
//! installs both), when it fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use edufed_proto::v1 as pb;
use tokio::io::AsyncWriteExt as _;

use crate::TestNode;

/// A member of an organization on a node: their id and a token.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
}

/// Creates, as the operator, the organization `request` describes.
pub async fn create_organization(node: &TestNode, request: pb::CreateOrganizationRequest) {
    node.operator()
        .await
        .create_organization(request)
        .await
        .expect("organization");
}

/// Creates `slug` on `node`, a Tomsk organization of `kind` called `name`.
pub async fn organization(node: &TestNode, slug: &str, kind: pb::OrganizationKind, name: &str) {
    create_organization(
        node,
        pb::CreateOrganizationRequest {
            kind: kind.into(),
            short_name: name.into(),
            full_name: name.into(),
            ..crate::org_request(slug)
        },
    )
    .await;
}

/// Adds `name` to `org` on `node` with `role` (as the operator) and gives
/// them a token.
pub async fn person(node: &TestNode, org: &str, role: pb::Role, name: &str) -> Person {
    let mut op = node.operator().await;
    let member = op
        .add_member(pb::AddMemberRequest {
            organization: org.into(),
            person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                display_name: name.into(),
                email: String::new(),
            })),
            role: role.into(),
        })
        .await
        .expect("add member")
        .into_inner();
    let id = member.person.expect("person").id;
    let token = op
        .create_token(pb::CreateTokenRequest {
            person_id: id.clone(),
            name: "test".into(),
            ttl: Some(prost_types::Duration {
                seconds: 2 * 365 * 24 * 3600,
                nanos: 0,
            }),
        })
        .await
        .expect("create token")
        .into_inner()
        .secret;
    Person { id, token }
}

/// A one-time sign-in link for `person` on `node`, issued by the operator.
pub async fn sign_in_link(node: &TestNode, person: &Person) -> String {
    node.operator()
        .await
        .create_sign_in_link(pb::CreateSignInLinkRequest {
            person_id: person.id.clone(),
            ttl: None,
            invitation: false,
        })
        .await
        .expect("sign-in link")
        .into_inner()
        .url
}

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Whether journeys can run here; without, a journey is skipped (or fails
/// under `EDUFED_REQUIRE_BROWSER`).
fn available() -> bool {
    let ready = std::path::Path::new("/usr/bin/chromium").exists()
        && browser_dir().join("node_modules/playwright-core").exists()
        && browser_dir().join("node_modules/axe-core").exists();
    if !ready {
        assert!(
            std::env::var_os("EDUFED_REQUIRE_BROWSER").is_none(),
            "the browser tests need /usr/bin/chromium and tests/browser/node_modules \
             (scripts/test installs both)"
        );
        eprintln!(
            "chromium or the browser scripts are missing; skipped (scripts/test installs them)"
        );
    }
    ready
}

/// Runs `tests/browser/journeys/<name>.mjs` with `setting`, and returns
/// what it reports; `None` when browsers are not available here.
pub async fn journey(name: &str, setting: serde_json::Value) -> Option<serde_json::Value> {
    journey_with(name, setting, |label, _| async move {
        panic!("journey paused at {label} with nothing to do")
    })
    .await
}

/// Like [`journey`], answering each of the journey's pauses with what
/// `at_pause(label, found)` returns once it has done its part (moved the
/// node's clock, removed a member…).
pub async fn journey_with<F, Fut>(
    name: &str,
    setting: serde_json::Value,
    mut at_pause: F,
) -> Option<serde_json::Value>
where
    F: FnMut(String, serde_json::Value) -> Fut,
    Fut: std::future::Future<Output = serde_json::Value>,
{
    use tokio::io::AsyncBufReadExt as _;
    if !available() {
        return None;
    }
    let mut child = tokio::process::Command::new("node")
        .arg("run.mjs")
        .arg(name)
        .current_dir(browser_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (scripts/test installs nodejs)");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    stdin
        .write_all(format!("{setting}\n").as_bytes())
        .await
        .expect("setting written");
    let run = async {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let mut last = String::new();
        while let Some(line) = lines.next_line().await.expect("journey output") {
            if let Some(rest) = line.strip_prefix("PAUSE ") {
                let (label, found) = rest.split_once(' ').unwrap_or((rest, "{}"));
                let found = serde_json::from_str(found).unwrap_or_default();
                let answer = at_pause(label.to_owned(), found).await;
                stdin
                    .write_all(format!("{answer}\n").as_bytes())
                    .await
                    .expect("answer written");
            } else {
                last = line;
            }
        }
        let mut errors = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut errors)
            .await
            .ok();
        (child.wait().await.expect("journey ends"), last, errors)
    };
    let (status, last, errors) = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .unwrap_or_else(|_| panic!("journey {name} took over four minutes"));
    assert!(status.success(), "journey {name} failed:\n{errors}\n{last}");
    Some(
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("journey {name} said {last:?}: {e}")),
    )
}
