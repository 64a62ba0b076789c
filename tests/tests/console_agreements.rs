//! Network agreements in the web console, driven in a real Chromium: a
//! school on the hub and a technopark on its own node draft, propose, sign
//! and decline agreements, each on their own node; then what the API
//! holds. And the API a party on another node reads them through: its
//! node's list, the history and the printable page.

use chrono::{Duration, Utc};
use edufed_proto::v1 as pb;
use edufed_tests::console::{create_organization, journey, person, sign_in_link};
use edufed_tests::{Bearer, TestDb, TestNode, both_backends, eventually, full_mesh, http_get_with};
use serde_json::json;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Agreements = pb::agreements_client::AgreementsClient<InterceptedService<Channel, Bearer>>;

async fn agreements(node: &TestNode, token: &str) -> Agreements {
    pb::agreements_client::AgreementsClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

const SCHOOL: &str = "mgml";
const PARK: &str = "kvantorium-mgn";

/// A school like MGML on the hub and a technopark on its own node, both
/// in Magnitogorsk, following each other; each with its director.
struct Network {
    hub: TestNode,
    park: TestNode,
    school_director: edufed_tests::console::Person,
    park_director: edufed_tests::console::Person,
}

async fn organization(
    node: &TestNode,
    slug: &str,
    kind: pb::OrganizationKind,
    short: &str,
    full: &str,
) {
    create_organization(
        node,
        pb::CreateOrganizationRequest {
            kind: kind.into(),
            short_name: short.into(),
            full_name: full.into(),
            city: "Магнитогорск".into(),
            time_zone: "Asia/Yekaterinburg".into(),
            ..edufed_tests::org_request(slug)
        },
    )
    .await;
}

async fn network(backend: edufed_tests::Backend) -> Network {
    let hub =
        TestNode::start_with(TestDb::new(backend).await, |s| s.agreement_check_secs = 1).await;
    let park =
        TestNode::start_with(TestDb::new(backend).await, |s| s.agreement_check_secs = 1).await;
    organization(
        &hub,
        SCHOOL,
        pb::OrganizationKind::School,
        "МГМЛ",
        "МАОУ «Магнитогорский городской многопрофильный лицей при МГТУ им. Г. И. Носова»",
    )
    .await;
    organization(
        &park,
        PARK,
        pb::OrganizationKind::Technopark,
        "Кванториум",
        "Детский технопарк «Кванториум» г. Магнитогорска",
    )
    .await;
    let school_director = person(&hub, SCHOOL, pb::Role::Admin, "Иванова Елена Петровна").await;
    let park_director = person(&park, PARK, pb::Role::Admin, "Соколов Андрей Викторович").await;
    full_mesh(&[&hub, &park]).await;
    // Each node knows the other's organization before anyone drafts.
    for (node, slug) in [(&hub, PARK), (&park, SCHOOL)] {
        let directory = node.operator().await;
        eventually("the peer's organization mirrored", || {
            let mut directory = directory.clone();
            async move {
                directory
                    .get_organization(pb::GetOrganizationRequest {
                        organization: slug.into(),
                    })
                    .await
                    .ok()
            }
        })
        .await;
    }
    Network {
        hub,
        park,
        school_director,
        park_director,
    }
}

/// The first day of the cooperation agreement's term.
fn starts() -> chrono::NaiveDate {
    (Utc::now() + Duration::days(30)).date_naive()
}

/// The deploy example's content (`edufed agreement draft --file` reads it).
fn example() -> pb::AgreementContent {
    serde_json::from_str::<serde_json::Value>(include_str!(
        "../../deploy/examples/agreement-network-form.json"
    ))
    .map(|_| ())
    .expect("the example is JSON");
    let mut c = pb::AgreementContent {
        kind: pb::AgreementKind::Cooperation.into(),
        title: "Договор о сотрудничестве".into(),
        // A term that begins in a month: signed, not yet in force.
        valid_from: starts().to_string(),
        valid_to: (starts() + Duration::days(270)).to_string(),
        ..Default::default()
    };
    for (org, role, name) in [
        (SCHOOL, pb::PartyRole::Base, "Иванова Елена Петровна"),
        (
            PARK,
            pb::PartyRole::Participant,
            "Соколов Андрей Викторович",
        ),
    ] {
        c.parties.push(pb::Party {
            org: org.into(),
            role: role.into(),
            signatory: Some(pb::Signatory {
                name: name.into(),
                position: "директор".into(),
                basis: "Устава".into(),
            }),
        });
    }
    c
}

both_backends!(
    a_party_on_another_node_lists_reads_and_signs_through_its_own_node,
    |backend| async move {
        let net = network(backend).await;
        let mut school = agreements(&net.hub, &net.school_director.token).await;
        let mut park = agreements(&net.park, &net.park_director.token).await;
        let drafted = school
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: SCHOOL.into(),
                content: Some(example()),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(drafted.home_node, net.hub.node.node_id());
        assert!(!drafted.summary);
        let proposed = school
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: drafted.id.clone(),
                expected_revision: drafted.revision,
            })
            .await
            .unwrap()
            .into_inner();

        // The technopark's node lists it, as a summary of the hub's copy.
        let listed = eventually("the proposal listed on the technopark's node", || {
            let mut park = park.clone();
            async move {
                let list = park
                    .list_agreements(pb::ListAgreementsRequest {
                        party: PARK.into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                list.agreements.into_iter().next()
            }
        })
        .await;
        assert_eq!(listed.id, drafted.id);
        assert!(listed.summary);
        assert_eq!(listed.home_node, net.hub.node.node_id());
        assert_eq!(listed.state, pb::AgreementState::Proposed as i32);
        assert_eq!(listed.awaiting_version, 1);
        let content = listed.versions[0].content.clone().unwrap();
        assert_eq!(
            (content.title.as_str(), content.valid_from.as_str()),
            ("Договор о сотрудничестве", starts().to_string().as_str())
        );
        assert_eq!(content.parties.len(), 2);
        // Filters apply to the summaries too.
        let drafts = park
            .list_agreements(pb::ListAgreementsRequest {
                states: vec![pb::AgreementState::Draft.into()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(drafts.agreements.is_empty(), "{drafts:?}");
        // The hub lists its own whole.
        let own = school
            .list_agreements(pb::ListAgreementsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(own.agreements.len(), 1);
        assert!(!own.agreements[0].summary);

        // Read whole, and its history, through the technopark's node.
        let read = park
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: drafted.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.revision, proposed.revision);
        assert_eq!(read.home_node, net.hub.node.node_id());
        let history = park
            .get_agreement_history(pb::GetAgreementHistoryRequest {
                agreement_id: drafted.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let actions: Vec<&str> = history.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["drafted", "proposed"]);

        // Someone of neither party learns nothing of it on either node.
        let stranger = person(&net.park, PARK, pb::Role::Viewer, "Наблюдатель").await;
        let _ = stranger;
        let outsider_org = "school21";
        let mut op = net.park.operator().await;
        op.create_organization(edufed_tests::org_request(outsider_org))
            .await
            .unwrap();
        let outsider = person(&net.park, outsider_org, pb::Role::Admin, "Чужой").await;
        let mut outsider = agreements(&net.park, &outsider.token).await;
        let theirs = outsider
            .list_agreements(pb::ListAgreementsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(theirs.agreements.is_empty(), "{theirs:?}");
        let err = outsider
            .get_agreement_history(pb::GetAgreementHistoryRequest {
                agreement_id: drafted.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound, "{err:?}");

        // Signed on both nodes, it is in force; the printable page shows
        // it to a program's token, and to nobody without one.
        park.sign_agreement(pb::SignAgreementRequest {
            agreement_id: drafted.id.clone(),
            org: PARK.into(),
            version: 1,
            content_hash: String::new(),
        })
        .await
        .unwrap();
        let signed = school
            .sign_agreement(pb::SignAgreementRequest {
                agreement_id: drafted.id.clone(),
                org: SCHOOL.into(),
                version: 1,
                content_hash: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(signed.state, pb::AgreementState::Signed as i32);
        let path = format!("/agreements/{}.html", drafted.id);
        let addr = net.hub.node.addr();
        let (status, page) = http_get_with(addr, &path, Some(&net.school_director.token)).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains("МАОУ «Магнитогорский городской многопрофильный лицей"));
        assert!(page.contains("5. Срок действия, порядок изменения и прекращения договора"));
        assert_eq!(page.matches("подпись проверена").count(), 4, "{page}");
        let (status, _) = http_get_with(addr, &path, None).await;
        assert_eq!(status, 401);
        let (status, _) = http_get_with(addr, &path, Some("edufed_nonsense")).await;
        assert_eq!(status, 401);
    }
);

both_backends!(
    two_directors_sign_a_network_agreement_and_decline_another,
    |backend| async move {
        let net = network(backend).await;
        // The term began yesterday in Magnitogorsk and ends in 50 days:
        // in force at once, and expiring soon.
        let today = (Utc::now() + Duration::hours(5)).date_naive();
        let mut second: serde_json::Value = serde_json::from_str(include_str!(
            "../../deploy/examples/agreement-network-form.json"
        ))
        .unwrap();
        second["title"] = json!("Договор о сетевой форме: «Информатика»");
        let Some(found) = journey(
            "agreement_signing",
            json!({
                "hub": net.hub.node.url(),
                "park": net.park.node.url(),
                "school": sign_in_link(&net.hub, &net.school_director).await,
                "director": sign_in_link(&net.park, &net.park_director).await,
                "from": (today - Duration::days(1)).to_string(),
                "to": (today + Duration::days(50)).to_string(),
                "json": serde_json::to_string_pretty(&second).unwrap(),
            }),
        )
        .await
        else {
            return;
        };
        let signed_id = found["signed"]
            .as_str()
            .expect("the signed agreement's id")
            .to_owned();
        let declined_id = found["declined"]
            .as_str()
            .expect("the declined one's id")
            .to_owned();

        // The hub, the agreements' home, holds what the directors did.
        let mut school = agreements(&net.hub, &net.school_director.token).await;
        let signed = school
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: signed_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            signed.state,
            pb::AgreementState::Active as i32,
            "{signed:?}"
        );
        assert_eq!(signed.in_force_version, 1);
        let version = &signed.versions[0];
        let content = version.content.clone().unwrap();
        assert_eq!(content.kind, pb::AgreementKind::NetworkForm as i32);
        assert_eq!(content.valid_to, (today + Duration::days(50)).to_string());
        let programme = content.programme.clone().unwrap();
        assert_eq!(programme.parts[0].name, "Технология");
        assert_eq!(programme.parts[0].hours, 68);
        assert_eq!(content.duties[0].hours, 68);
        assert_eq!(content.resources[0].hours, 70);
        assert_eq!(
            content.parties[1].signatory.clone().unwrap().name,
            "Соколов Андрей Викторович"
        );
        assert_eq!(version.signatures.len(), 2);
        assert!(version.signatures.iter().all(|s| s.verified), "{version:?}");
        let park_id = content.parties[1].org.clone();
        let by_park = version
            .signatures
            .iter()
            .find(|s| s.org_id == park_id)
            .unwrap();
        // The technopark's director signed on their node, which sent it home.
        assert!(
            by_park.person_id.ends_with(net.park.node.node_id()),
            "{by_park:?}"
        );
        assert_eq!(by_park.node_id, net.hub.node.node_id());

        let declined = school
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: declined_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(declined.state, pb::AgreementState::Declined as i32);
        let decline = declined.versions[0].declined.clone().unwrap();
        assert_eq!(decline.org_id, park_id);
        assert_eq!(
            decline.comment,
            "Лаборатории заняты по вторникам; предлагаем четверг."
        );
        assert!(declined.versions[0].signatures.is_empty());

        // The technopark's node lists both, from the hub's change log.
        let mut park = agreements(&net.park, &net.park_director.token).await;
        let listed = eventually("both agreements settled on the technopark's node", || {
            let mut park = park.clone();
            async move {
                let list = park
                    .list_agreements(pb::ListAgreementsRequest::default())
                    .await
                    .ok()?
                    .into_inner();
                let states: Vec<i32> = list.agreements.iter().map(|a| a.state).collect();
                (states.len() == 2
                    && states.contains(&(pb::AgreementState::Active as i32))
                    && states.contains(&(pb::AgreementState::Declined as i32)))
                .then_some(list)
            }
        })
        .await;
        assert!(listed.agreements.iter().all(|a| a.summary));
        let expiring = park
            .list_agreements(pb::ListAgreementsRequest {
                expiring_within_days: 60,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(expiring.agreements.len(), 1);
        assert_eq!(expiring.agreements[0].id, signed_id);
    }
);
