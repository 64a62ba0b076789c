//! Console sessions and sign-in links: on both backends through the store,
//! and through a node's Directory service.

use chrono::{Duration, Utc};
use edufed_domain::changes::Actor;
use edufed_domain::directory::{
    Contacts, Error, MemberRef, NewOrganization, NewPerson, OrgKind, OrgRef, Role, Slug,
    TokenSecret,
};
use edufed_domain::policy::Credential;
use edufed_domain::session::{EndReason, Lifetimes, NewSignInLink, Origin};
use edufed_domain::time::{Clock, TimeZone};
use edufed_proto::v1 as pb;
use edufed_store::{ConnectOptions, Store};
use edufed_tests::{Backend, TestDb, TestNode, both_backends};

const NODE: Actor = Actor::Node;

async fn open(backend: Backend, clock: &Clock) -> (Store, TestDb) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .expect("connect")
        .with_clock(clock.clone())
        .with_session_lifetimes(Lifetimes::new(Duration::hours(1), Duration::hours(3)).unwrap());
    store.migrate().await.expect("migrate");
    (store, db)
}

/// A school with an admin and a coordinator; their person ids.
async fn school(
    store: &Store,
) -> (
    OrgRef,
    edufed_domain::ids::PersonId,
    edufed_domain::ids::PersonId,
) {
    let org = store
        .create_organization(
            NewOrganization {
                slug: Slug::parse("slug", "gym24").unwrap(),
                kind: OrgKind::School,
                full_name: "Гимназия № 24".into(),
                short_name: "Гимназия 24".into(),
                city: "Томск".into(),
                time_zone: TimeZone::parse("time_zone", "Asia/Tomsk").unwrap(),
                contacts: Contacts::default(),
                inn: None,
            },
            &NODE,
        )
        .await
        .unwrap();
    let org = OrgRef::Id(org.id);
    let mut people = Vec::new();
    for (name, role) in [("Директор", Role::Admin), ("Завуч", Role::Coordinator)] {
        let member = store
            .add_member(
                &org,
                MemberRef::New(NewPerson::parse("new_person", name, "").unwrap()),
                role,
                &NODE,
            )
            .await
            .unwrap();
        people.push(member.person.id);
    }
    let coordinator = people.pop().unwrap();
    (org, people.pop().unwrap(), coordinator)
}

both_backends!(
    a_sign_in_link_starts_one_session_and_only_until_it_expires,
    |backend| async move {
        let clock = Clock::manual(Utc::now());
        let (store, _db) = open(backend, &clock).await;
        let (_, admin, coordinator) = school(&store).await;
        let (link, secret) = store
            .create_sign_in_link(
                NewSignInLink::parse(coordinator.clone(), Some(admin), None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(link.expires_at, clock.now() + Duration::minutes(15));

        let (session, session_secret) = store
            .redeem_sign_in_link(&secret, "Mozilla/5.0 (X11; Linux)")
            .await
            .unwrap();
        assert_eq!(session.person_id, coordinator);
        assert_eq!(session.origin, Origin::Link);
        let principal = store.authenticate_session(&session_secret).await.unwrap();
        assert_eq!(principal.person_id, coordinator);
        assert_eq!(
            principal.credential,
            Credential::Session(session.id.clone())
        );
        assert!(matches!(
            store.redeem_sign_in_link(&secret, "again").await,
            Err(Error::LinkUsed(_))
        ));

        let (_, late) = store
            .create_sign_in_link(NewSignInLink::parse(coordinator.clone(), None, None).unwrap())
            .await
            .unwrap();
        clock.advance(Duration::minutes(16));
        assert!(matches!(
            store.redeem_sign_in_link(&late, "late").await,
            Err(Error::LinkExpired(_))
        ));
        assert!(matches!(
            store
                .redeem_sign_in_link(&TokenSecret::presented("edufed_link_nope"), "")
                .await,
            Err(Error::UnknownLink)
        ));
        // A session's secret is no bearer token, nor a token's a session.
        assert!(matches!(
            store.authenticate(&session_secret).await,
            Err(Error::UnknownToken)
        ));
        assert!(matches!(
            store
                .authenticate_session(&TokenSecret::presented("edufed_session_nope"))
                .await,
            Err(Error::UnknownSession)
        ));
    }
);

both_backends!(
    sessions_end_when_idle_when_old_on_sign_out_and_when_the_member_is_removed,
    |backend| async move {
        let clock = Clock::manual(Utc::now());
        let (store, _db) = open(backend, &clock).await;
        let (org, admin, coordinator) = school(&store).await;
        let start = |person: &edufed_domain::ids::PersonId| {
            let store = store.clone();
            let person = person.clone();
            async move {
                let (_, link) = store
                    .create_sign_in_link(NewSignInLink::parse(person, None, None).unwrap())
                    .await
                    .unwrap();
                store.redeem_sign_in_link(&link, "test").await.unwrap()
            }
        };

        // Idle: each use moves the deadline an hour on, never past three hours.
        let (idle, idle_secret) = start(&coordinator).await;
        let (busy, busy_secret) = start(&coordinator).await;
        for _ in 0..5 {
            clock.advance(Duration::minutes(35));
            store.authenticate_session(&busy_secret).await.unwrap();
        }
        assert!(matches!(
            store.authenticate_session(&idle_secret).await,
            Err(Error::SessionExpired(at)) if at == idle.idle_expires_at
        ));
        clock.advance(Duration::minutes(6));
        assert!(matches!(
            store.authenticate_session(&busy_secret).await,
            Err(Error::SessionExpired(at)) if at == busy.expires_at
        ));

        // Signing out ends it at once, and only once.
        let (out, out_secret) = start(&coordinator).await;
        let ended = store
            .end_session(&out.id, EndReason::SignedOut)
            .await
            .unwrap();
        assert!(matches!(ended.ended, Some((_, EndReason::SignedOut))));
        assert!(matches!(
            store.authenticate_session(&out_secret).await,
            Err(Error::SessionEnded(_))
        ));
        assert!(matches!(
            store.end_session(&out.id, EndReason::Ended).await,
            Err(Error::SessionAlreadyEnded(_))
        ));

        // Removed from the organization: signed out everywhere, and a link
        // issued before does not let them back in.
        let (_, kept) = start(&admin).await;
        let (_, first) = start(&coordinator).await;
        let (_, second) = start(&coordinator).await;
        let (_, link) = store
            .create_sign_in_link(NewSignInLink::parse(coordinator.clone(), None, None).unwrap())
            .await
            .unwrap();
        store
            .remove_member(&org, &coordinator, &NODE)
            .await
            .unwrap();
        for secret in [&first, &second] {
            assert!(matches!(
                store.authenticate_session(secret).await,
                Err(Error::SessionEnded(_))
            ));
        }
        assert!(matches!(
            store.redeem_sign_in_link(&link, "").await,
            Err(Error::LinkExpired(_))
        ));
        assert!(store.authenticate_session(&kept).await.is_ok());
        let listed = store.list_sessions(&coordinator).await.unwrap();
        assert_eq!(listed.len(), 5);
        assert_eq!(
            listed
                .iter()
                .filter(|s| matches!(s.ended, Some((_, EndReason::MembershipRemoved))))
                .count(),
            2,
            "the two open sessions ended with the membership; the expired and the signed-out \
             ones keep their story"
        );
    }
);

both_backends!(
    people_get_sign_in_links_from_whoever_manages_their_tokens,
    |backend| async move {
        let node = TestNode::start_with(TestDb::new(backend).await, |settings| {
            settings.public_url = Some("https://hub.edufed.example/".into());
        })
        .await;
        let mut op = node.operator().await;
        op.create_organization(edufed_tests::org_request("gym24"))
            .await
            .unwrap();
        let admin = node.member_token("gym24", pb::Role::Admin).await;
        let teacher = node.member_token("gym24", pb::Role::Teacher).await;
        let mut admin = node.directory(&admin).await;
        let mut teacher = node.directory(&teacher).await;
        let teacher_id = teacher
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap()
            .into_inner()
            .person
            .unwrap()
            .id;
        let admin_id = admin
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap()
            .into_inner()
            .person
            .unwrap()
            .id;

        let link = admin
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: teacher_id.clone(),
                ttl: Some(prost_types::Duration {
                    seconds: 600,
                    nanos: 0,
                }),
                invitation: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            link.url,
            format!("https://hub.edufed.example/sign-in/{}", link.secret)
        );
        // A teacher may not sign the admin in, nor ask for a link that lives a week.
        let denied = teacher
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: admin_id,
                ttl: None,
                invitation: false,
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        let too_long = teacher
            .create_sign_in_link(pb::CreateSignInLinkRequest {
                person_id: String::new(),
                ttl: Some(prost_types::Duration {
                    seconds: 7 * 86_400,
                    nanos: 0,
                }),
                invitation: false,
            })
            .await
            .unwrap_err();
        assert_eq!(too_long.code(), tonic::Code::InvalidArgument);
        assert!(too_long.message().contains("ttl"), "{}", too_long.message());

        // The link needs no token; it works once.
        let mut anonymous = node.directory("").await;
        let started = anonymous
            .start_session(pb::StartSessionRequest {
                link_secret: link.secret.clone(),
                user_agent: "Mozilla/5.0 (Android 14)".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(started.secret.starts_with("edufed_session_"));
        let again = anonymous
            .start_session(pb::StartSessionRequest {
                link_secret: link.secret,
                user_agent: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), tonic::Code::Unauthenticated);
        assert!(
            again.message().contains("already used"),
            "{}",
            again.message()
        );
        // Nor is a session's secret a bearer token.
        let as_bearer = node
            .directory(&started.secret)
            .await
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .unwrap_err();
        assert_eq!(as_bearer.code(), tonic::Code::Unauthenticated);

        // The admin sees and ends the teacher's session.
        let listed = admin
            .list_sessions(pb::ListSessionsRequest {
                person_id: teacher_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .sessions;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].active && !listed[0].current);
        assert_eq!(listed[0].user_agent, "Mozilla/5.0 (Android 14)");
        let ended = admin
            .end_session(pb::EndSessionRequest {
                session_id: listed[0].id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!ended.active);
        assert_eq!(ended.end_reason(), pb::SessionEndReason::Ended);
        let twice = teacher
            .end_session(pb::EndSessionRequest {
                session_id: listed[0].id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(twice.code(), tonic::Code::FailedPrecondition);
    }
);
