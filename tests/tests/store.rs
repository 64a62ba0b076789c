//! The storage behaviour suite: every test runs on SQLite and on PostgreSQL.

use std::collections::BTreeSet;

use edufed_domain::changes::{Actor, EntityKind, Error as LogError};
use edufed_domain::directory::{
    Contacts, Error, MemberRef, NewOrganization, NewPerson, NewToken, OrgKind, OrgRef,
    OrganizationFilter, OrganizationPatch, Role, Slug, TokenSecret,
};
use edufed_domain::page::PageSize;
use edufed_domain::time::TimeZone;
use edufed_store::changes::ChangeFilter;
use edufed_store::{ConnectOptions, Store};
use edufed_tests::{Backend, TestDb, both_backends};

async fn open(backend: Backend) -> (Store, TestDb) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    (store, db)
}

fn new_org(slug: &str, kind: OrgKind, city: &str, name: &str) -> NewOrganization {
    NewOrganization {
        slug: Slug::parse("slug", slug).unwrap(),
        kind,
        full_name: name.to_owned(),
        short_name: slug.to_owned(),
        city: city.to_owned(),
        time_zone: TimeZone::parse("time_zone", "Asia/Tomsk").unwrap(),
        contacts: Contacts::default(),
        inn: None,
    }
}

fn person(name: &str, email: &str) -> MemberRef {
    MemberRef::New(NewPerson::parse("new_person", name, email).unwrap())
}

const NODE: Actor = Actor::Node;

both_backends!(
    organizations_round_trip_and_stay_unique,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let created = store
            .create_organization(
                new_org("gym24-tomsk", OrgKind::School, "Томск", "Гимназия №24"),
                &NODE,
            )
            .await
            .unwrap();
        let by_id = store
            .get_organization(&OrgRef::Id(created.id.clone()))
            .await
            .unwrap();
        let by_slug = store
            .get_organization(&OrgRef::Slug(Slug::parse("slug", "gym24-tomsk").unwrap()))
            .await
            .unwrap();
        assert_eq!(by_id, created);
        assert_eq!(by_slug, created);

        let before = store.latest_sequence().await.unwrap();
        let err = store
            .create_organization(
                new_org("gym24-tomsk", OrgKind::School, "Томск", "Другая"),
                &NODE,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::SlugTaken(ref s) if s == "gym24-tomsk"),
            "{err:?}"
        );
        assert_eq!(
            store.latest_sequence().await.unwrap(),
            before,
            "a refused change writes no log entry"
        );

        let missing = store
            .get_organization(&OrgRef::Slug(Slug::parse("slug", "nowhere").unwrap()))
            .await
            .unwrap_err();
        assert!(matches!(missing, Error::OrganizationNotFound(_)));
    }
);

both_backends!(
    organization_listing_filters_and_pages,
    |backend| async move {
        let (store, _db) = open(backend).await;
        for (slug, kind, city, name) in [
            (
                "tsu",
                OrgKind::University,
                "Томск",
                "Томский государственный университет",
            ),
            (
                "tpu",
                OrgKind::University,
                "Томск",
                "Томский политехнический университет",
            ),
            (
                "magtu",
                OrgKind::University,
                "Магнитогорск",
                "МГТУ им. Г.И. Носова",
            ),
            (
                "fakel",
                OrgKind::AdditionalEducation,
                "Томск",
                "Дворец детского творчества «Факел»",
            ),
            ("yolka", OrgKind::Other, "Томск", "Клуб «Ёлочка»"),
        ] {
            store
                .create_organization(new_org(slug, kind, city, name), &NODE)
                .await
                .unwrap();
        }
        let all = |filter: OrganizationFilter| {
            let store = store.clone();
            async move {
                let mut slugs = Vec::new();
                let mut after = None;
                loop {
                    let page = store
                        .list_organizations(
                            &filter,
                            PageSize::new("page_size", 2, 2, 10).unwrap(),
                            after.as_ref(),
                        )
                        .await
                        .unwrap();
                    slugs.extend(page.items.iter().map(|o| o.slug.to_string()));
                    match page.next {
                        Some(next) => after = Some(next),
                        None => return slugs,
                    }
                }
            }
        };
        assert_eq!(
            all(OrganizationFilter::default()).await,
            ["fakel", "magtu", "tpu", "tsu", "yolka"]
        );
        let universities = OrganizationFilter {
            kind: Some(OrgKind::University),
            ..Default::default()
        };
        assert_eq!(all(universities).await, ["magtu", "tpu", "tsu"]);
        let in_tomsk = OrganizationFilter {
            city: Some(edufed_domain::text::fold("ТОМСК")),
            ..Default::default()
        };
        assert_eq!(all(in_tomsk).await.len(), 4);
        let yo = OrganizationFilter {
            query: Some(edufed_domain::text::fold("елочка")),
            ..Default::default()
        };
        assert_eq!(all(yo).await, ["yolka"], "ё matches е");
        let wildcard = OrganizationFilter {
            query: Some("%".to_owned()),
            ..Default::default()
        };
        assert!(all(wildcard).await.is_empty(), "LIKE wildcards are literal");
    }
);

both_backends!(
    updates_bump_versions_and_check_expected,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let org = store
            .create_organization(
                new_org("lyceum7-tomsk", OrgKind::School, "Томск", "Лицей №7"),
                &NODE,
            )
            .await
            .unwrap();
        let patch = OrganizationPatch {
            expected_version: Some(1),
            short_name: Some("Лицей №7 г. Томска".into()),
            ..Default::default()
        };
        let updated = store
            .update_organization(&OrgRef::Id(org.id.clone()), patch.clone(), &NODE)
            .await
            .unwrap();
        assert_eq!(updated.version, 2);
        assert_eq!(updated.created_at, org.created_at);
        let stale = store
            .update_organization(&OrgRef::Id(org.id.clone()), patch, &NODE)
            .await
            .unwrap_err();
        assert!(matches!(
            stale,
            Error::VersionMismatch {
                expected: 1,
                actual: 2,
                ..
            }
        ));
        let stored = store
            .get_organization(&OrgRef::Id(org.id.clone()))
            .await
            .unwrap();
        assert_eq!(
            stored, updated,
            "a refused update leaves the record as it was"
        );

        let log = store
            .read_changes(
                0,
                100,
                &ChangeFilter {
                    kinds: vec![EntityKind::Organization],
                    organizations: None,
                },
            )
            .await
            .unwrap();
        let versions: Vec<u64> = log.iter().map(|e| e.version).collect();
        assert_eq!(versions, [1, 2]);
        let payload: serde_json::Value = serde_json::from_str(&log[1].payload).unwrap();
        assert_eq!(payload["short_name"], "Лицей №7 г. Томска");
    }
);

both_backends!(members_are_added_listed_and_removed, |backend| async move {
    let (store, _db) = open(backend).await;
    let org = store
        .create_organization(
            new_org("gym24-tomsk", OrgKind::School, "Томск", "Гимназия №24"),
            &NODE,
        )
        .await
        .unwrap();
    let at = OrgRef::Id(org.id.clone());
    let admin = store
        .add_member(
            &at,
            person("Директор", "director@gym24.ru"),
            Role::Admin,
            &NODE,
        )
        .await
        .unwrap();
    let teacher = store
        .add_member(
            &at,
            person("Казак О.Г.", "KAZAK@gym24.ru"),
            Role::Teacher,
            &NODE,
        )
        .await
        .unwrap();
    // The same e-mail, any case, is the same person: a second organization reuses them.
    let other = store
        .create_organization(
            new_org("lyceum7-tomsk", OrgKind::School, "Томск", "Лицей №7"),
            &NODE,
        )
        .await
        .unwrap();
    let again = store
        .add_member(
            &OrgRef::Id(other.id.clone()),
            person("Казак Ольга", "kazak@gym24.ru"),
            Role::Viewer,
            &NODE,
        )
        .await
        .unwrap();
    assert_eq!(again.person.id, teacher.person.id);
    let (_, roles) = store.get_person(&teacher.person.id).await.unwrap();
    assert_eq!(roles.len(), 2);

    let duplicate = store
        .add_member(
            &at,
            MemberRef::Existing(teacher.person.id.clone()),
            Role::Viewer,
            &NODE,
        )
        .await
        .unwrap_err();
    assert!(matches!(duplicate, Error::AlreadyMember { .. }));

    for i in 0..5 {
        store
            .add_member(
                &at,
                person(&format!("Учитель {i}"), ""),
                Role::Viewer,
                &NODE,
            )
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_members(
                &org.id,
                PageSize::new("page_size", 3, 3, 10).unwrap(),
                after.as_ref(),
            )
            .await
            .unwrap();
        names.extend(page.items.iter().map(|m| m.person.display_name.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(names.len(), 7);
    let unique: BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), 7, "pages neither repeat nor skip members");

    let last_admin = store
        .remove_member(&at, &admin.person.id, &NODE)
        .await
        .unwrap_err();
    assert!(matches!(last_admin, Error::LastAdmin { .. }));
    store
        .remove_member(&at, &teacher.person.id, &NODE)
        .await
        .unwrap();
    let gone = store
        .remove_member(&at, &teacher.person.id, &NODE)
        .await
        .unwrap_err();
    assert!(matches!(gone, Error::NotAMember { .. }));
});

both_backends!(
    two_admins_removing_each_other_leave_one,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let org = store
            .create_organization(
                new_org("tusur", OrgKind::University, "Томск", "ТУСУР"),
                &NODE,
            )
            .await
            .unwrap();
        let at = OrgRef::Id(org.id.clone());
        let a = store
            .add_member(&at, person("A", ""), Role::Admin, &NODE)
            .await
            .unwrap();
        let b = store
            .add_member(&at, person("B", ""), Role::Admin, &NODE)
            .await
            .unwrap();
        let (ra, rb) = tokio::join!(
            store.remove_member(&at, &a.person.id, &NODE),
            store.remove_member(&at, &b.person.id, &NODE)
        );
        assert_eq!(
            [ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(),
            1,
            "exactly one removal succeeds: {ra:?} {rb:?}"
        );
    }
);

both_backends!(
    tokens_authenticate_until_revoked_or_expired,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let org = store
            .create_organization(new_org("tpu", OrgKind::University, "Томск", "ТПУ"), &NODE)
            .await
            .unwrap();
        let member = store
            .add_member(
                &OrgRef::Id(org.id.clone()),
                person("Координатор", ""),
                Role::Coordinator,
                &NODE,
            )
            .await
            .unwrap();
        let (token, secret) = store
            .create_token(
                NewToken::parse(member.person.id.clone(), "laptop", None).unwrap(),
                &NODE,
            )
            .await
            .unwrap();
        let principal = store.authenticate(&secret).await.unwrap();
        assert_eq!(principal.person_id, member.person.id);
        assert_eq!(
            principal.credential,
            edufed_domain::policy::Credential::Token(token.id.clone())
        );
        assert_eq!(
            principal.memberships,
            vec![(org.id.clone(), Role::Coordinator)]
        );
        assert!(!principal.operator);

        let unknown = store
            .authenticate(&TokenSecret::presented("edufed_nope"))
            .await
            .unwrap_err();
        assert!(matches!(unknown, Error::UnknownToken));

        let listed = store.list_tokens(&member.person.id).await.unwrap();
        assert_eq!(listed, vec![token.clone()]);
        let revoked = store.revoke_token(&token.id, &NODE).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(matches!(
            store.authenticate(&secret).await.unwrap_err(),
            Error::RevokedToken
        ));
        assert!(matches!(
            store.revoke_token(&token.id, &NODE).await.unwrap_err(),
            Error::AlreadyRevoked(_)
        ));

        // Expiry: a token whose time has passed.
        let (short, short_secret) = store
            .create_token(
                NewToken::parse(
                    member.person.id.clone(),
                    "short",
                    Some(chrono::Duration::minutes(1)),
                )
                .unwrap(),
                &NODE,
            )
            .await
            .unwrap();
        let conn_url = _db.url.clone();
        expire_token(backend, &conn_url, short.id.as_str()).await;
        assert!(matches!(
            store.authenticate(&short_secret).await.unwrap_err(),
            Error::ExpiredToken(_)
        ));

        let nobody = edufed_domain::ids::PersonId::generate();
        let missing = store
            .create_token(NewToken::parse(nobody, "x", None).unwrap(), &NODE)
            .await
            .unwrap_err();
        assert!(matches!(missing, Error::PersonNotFound(_)));
    }
);

/// Moves a token's expiry into the past, behind the store's back.
async fn expire_token(backend: Backend, url: &str, id: &str) {
    use sqlx::Connection as _;
    let sql = "UPDATE api_tokens SET expires_at = 0 WHERE id = $1";
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut conn).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut conn).await.unwrap();
        }
    }
}

both_backends!(
    one_operator_however_many_start_at_once,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.ensure_operator().await.unwrap() })
            })
            .collect();
        let mut ids = BTreeSet::new();
        for task in tasks {
            ids.insert(task.await.unwrap().id);
        }
        assert_eq!(ids.len(), 1);
        let (_, secret) = store.issue_operator_token().await.unwrap();
        assert!(store.authenticate(&secret).await.unwrap().operator);
    }
);

both_backends!(node_binding_is_permanent, |backend| async move {
    let (store, _db) = open(backend).await;
    assert_eq!(store.bind_node_id("aaaa").await.unwrap(), "aaaa");
    assert_eq!(store.bind_node_id("bbbb").await.unwrap(), "aaaa");
});

both_backends!(
    concurrent_writers_never_let_a_reader_skip_an_entry,
    |backend| async move {
        let (store, _db) = open(backend).await;
        const WRITERS: usize = 6;
        const EACH: usize = 15;
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..EACH {
                        let slug = format!("org-{w}-{i}");
                        store
                            .create_organization(
                                new_org(&slug, OrgKind::School, "Томск", &slug),
                                &NODE,
                            )
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        // A reader follows the log while the writers run, as Watch does.
        let mut seen = Vec::new();
        let mut cursor = 0;
        while seen.len() < WRITERS * EACH {
            let batch = store
                .read_changes(cursor, 7, &ChangeFilter::default())
                .await
                .unwrap();
            for entry in batch {
                assert!(entry.sequence > cursor);
                cursor = entry.sequence;
                seen.push(entry.sequence);
            }
            tokio::task::yield_now().await;
        }
        for writer in writers {
            writer.await.unwrap();
        }
        let all: Vec<u64> = store
            .read_changes(0, 10_000, &ChangeFilter::default())
            .await
            .unwrap()
            .iter()
            .map(|e| e.sequence)
            .collect();
        assert_eq!(seen, all, "the follower saw exactly the log, in order");
    }
);

/// PostgreSQL's writers commit concurrently, so the log cannot number an
/// entry when it is written. A transaction that appended early and commits
/// late, after readers have passed later entries, still reaches them: its
/// entry is numbered after everything they saw, never in a gap below.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_that_commits_late_is_numbered_after_what_readers_saw() {
    use sqlx::Connection as _;
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    let (store, db) = open(Backend::Postgres).await;
    let first = store
        .create_organization(new_org("early", OrgKind::School, "Томск", "Ранняя"), &NODE)
        .await
        .unwrap();
    // A writer (another replica, say) appends in a transaction it has not
    // committed yet: a second version of the first organization's entry.
    let mut late = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut late).await.unwrap();
    sqlx::query(
        "INSERT INTO change_log_pending (entity_kind, entity_id, version, operation, org_id, \
         payload, actor, created_at, also_org_id, shared, audience) \
         SELECT entity_kind, entity_id, version + 1, operation, org_id, payload, actor, \
         created_at, also_org_id, shared, '' FROM change_log ORDER BY seq LIMIT 1",
    )
    .execute(&mut late)
    .await
    .unwrap();
    // Meanwhile others write, and a reader follows the log past them: the
    // open transaction holds nobody up.
    for slug in ["second", "third"] {
        store
            .create_organization(new_org(slug, OrgKind::School, "Томск", slug), &NODE)
            .await
            .unwrap();
    }
    let seen = store
        .read_changes(0, 100, &ChangeFilter::default())
        .await
        .unwrap();
    assert_eq!(seen.len(), 3, "the committed entries only");
    let cursor = seen.last().unwrap().sequence;
    assert_eq!(store.latest_sequence().await.unwrap(), cursor);

    sqlx::query("COMMIT").execute(&mut late).await.unwrap();
    let mut latest = store.subscribe_latest();
    assert_eq!(
        store.sequence_log().await.unwrap(),
        cursor + 1,
        "the late entry is numbered right after the reader's cursor"
    );
    assert_eq!(*latest.borrow_and_update(), cursor + 1, "watchers are told");
    let after = store
        .read_changes(cursor, 100, &ChangeFilter::default())
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "the reader gets the late entry");
    assert_eq!(after[0].entity_id, first.id.to_string());
    assert_eq!(after[0].version, 2);
    assert_eq!(
        store.sequence_log().await.unwrap(),
        0,
        "a pass with nothing committed numbers nothing"
    );
    // An entry committed and never numbered (its writer stopped) is
    // numbered when a store opens the database.
    sqlx::query(
        "INSERT INTO change_log_pending (entity_kind, entity_id, version, operation, org_id, \
         payload, actor, created_at, also_org_id, shared, audience) \
         SELECT entity_kind, entity_id, version + 1, operation, org_id, payload, actor, \
         created_at, also_org_id, shared, org_id FROM change_log ORDER BY seq DESC LIMIT 1",
    )
    .execute(&mut late)
    .await
    .unwrap();
    let reopened = Store::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(reopened.latest_sequence().await.unwrap(), cursor + 2);
    let audience: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM change_log_audience WHERE seq = $1")
            .bind(i64::try_from(cursor + 2).unwrap())
            .fetch_one(&mut late)
            .await
            .unwrap();
    assert_eq!(audience, 1, "its audience comes with it");
    late.close().await.unwrap();
}

both_backends!(
    writes_that_commit_together_keep_their_own_outcomes,
    |backend| async move {
        // On SQLite concurrent writes share a transaction, each under its
        // own savepoint: a refused one must undo only itself, and each
        // caller hears back after the commit that holds its write.
        let (store, _db) = open(backend).await;
        const PAIRS: usize = 24;
        let tasks: Vec<_> = (0..PAIRS * 2)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let slug = format!("school-{}", i / 2);
                    let created = store
                        .create_organization(
                            new_org(&slug, OrgKind::School, "Томск", &format!("Школа {i}")),
                            &NODE,
                        )
                        .await;
                    if let Ok(org) = &created {
                        // Answered after its commit: any reader sees it.
                        let read = store
                            .get_organization(&OrgRef::Id(org.id.clone()))
                            .await
                            .unwrap();
                        assert_eq!(&read, org);
                    }
                    created
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(Error::SlugTaken(_)) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(created, PAIRS, "one of each pair, the other refused");
        let log = store
            .read_changes(0, 1_000, &ChangeFilter::default())
            .await
            .unwrap();
        assert_eq!(
            log.len(),
            PAIRS,
            "a log entry for each created, none for the refused"
        );

        // Callers that go away mid-write (a client hanging up) leave the
        // others' writes committed and the writer free.
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let slug = format!("lyceum-{i}");
                    store
                        .create_organization(new_org(&slug, OrgKind::School, "Томск", &slug), &NODE)
                        .await
                })
            })
            .collect();
        for (i, task) in tasks.iter().enumerate() {
            if i % 3 == 0 {
                task.abort();
            }
        }
        let mut finished = 0;
        for task in tasks {
            if let Ok(result) = task.await {
                result.unwrap();
                finished += 1;
            }
        }
        // Callers that give up at any point (a request's deadline): each
        // wait cut after a different time, so that some stop while they
        // wait for the writer, some mid-statement, some while committing.
        let impatient: Vec<_> = (0..48u64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let slug = format!("college-{i}");
                    tokio::time::timeout(
                        std::time::Duration::from_micros(50 * i),
                        store.create_organization(
                            new_org(&slug, OrgKind::School, "Томск", &slug),
                            &NODE,
                        ),
                    )
                    .await
                })
            })
            .collect();
        for task in impatient {
            if let Ok(finished) = task.await.unwrap() {
                finished.unwrap();
            }
        }
        let after = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            store.create_organization(new_org("last", OrgKind::School, "Томск", "last"), &NODE),
        )
        .await
        .expect("the writer is free")
        .unwrap();
        let log = store
            .read_changes(0, 1_000, &ChangeFilter::default())
            .await
            .unwrap();
        // The abandoned writes may or may not have committed; the finished
        // ones did, and whatever committed did so whole: an organization
        // for every entry.
        assert!(
            log.len() > PAIRS + finished,
            "every finished write is in the log"
        );
        assert!(log.iter().any(|e| e.entity_id == after.id.to_string()));
        for entry in &log {
            store
                .get_organization(&OrgRef::Id(edufed_domain::ids::OrgId::from_stored(
                    entry.entity_id.clone(),
                )))
                .await
                .unwrap();
        }
    }
);

both_backends!(log_filters_and_compaction, |backend| async move {
    let (store, _db) = open(backend).await;
    let a = store
        .create_organization(new_org("school-a", OrgKind::School, "Томск", "A"), &NODE)
        .await
        .unwrap();
    let b = store
        .create_organization(new_org("school-b", OrgKind::School, "Томск", "B"), &NODE)
        .await
        .unwrap();
    store
        .add_member(
            &OrgRef::Id(a.id.clone()),
            person("Учитель", ""),
            Role::Teacher,
            &NODE,
        )
        .await
        .unwrap();
    let only_a = ChangeFilter {
        kinds: vec![],
        organizations: Some(vec![a.id.clone()]),
    };
    let entries = store.read_changes(0, 100, &only_a).await.unwrap();
    assert_eq!(entries.len(), 2, "a's creation and its membership");
    assert!(entries.iter().all(|e| e.org_id.as_ref() == Some(&a.id)));
    let none = ChangeFilter {
        kinds: vec![],
        organizations: Some(vec![]),
    };
    assert!(
        store.read_changes(0, 100, &none).await.unwrap().is_empty(),
        "nothing here is shared with the whole network"
    );
    let people = ChangeFilter {
        kinds: vec![EntityKind::Person],
        organizations: None,
    };
    assert_eq!(store.read_changes(0, 100, &people).await.unwrap().len(), 1);

    store
        .update_organization(
            &OrgRef::Id(a.id.clone()),
            edufed_domain::directory::OrganizationPatch {
                short_name: Some("A2".into()),
                ..Default::default()
            },
            &NODE,
        )
        .await
        .unwrap();
    let latest = store.latest_sequence().await.unwrap();
    let deleted = store
        .compact_changes(store.clock().now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(deleted, 1, "only a's creation, which its update supersedes");
    let bounds = store.log_bounds().await.unwrap();
    assert_eq!((bounds.compacted_through, bounds.latest), (latest, latest));
    let expired = store
        .read_changes(0, 100, &ChangeFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(expired, LogError::CursorExpired { oldest, .. } if oldest == latest + 1));
    // What is retained is a snapshot: the latest entry of every record.
    let snapshot = store
        .read_log(0, 100, &ChangeFilter::default(), false)
        .await
        .unwrap();
    assert_eq!(snapshot.len() as u64, latest - 1);
    let of_a: Vec<_> = snapshot
        .iter()
        .filter(|e| e.entity_id == a.id.to_string())
        .collect();
    assert_eq!(of_a.len(), 1);
    assert_eq!(of_a[0].version, 2);
    assert!(
        store
            .read_changes(latest, 100, &ChangeFilter::default())
            .await
            .unwrap()
            .is_empty()
    );

    // An older horizon never lowers the bound.
    assert_eq!(
        store
            .compact_changes(store.clock().now() - chrono::Duration::days(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.log_bounds().await.unwrap().compacted_through, latest);

    // Sequences go on after compaction; nothing is reused.
    let c = store
        .create_organization(new_org("school-c", OrgKind::School, "Томск", "C"), &NODE)
        .await
        .unwrap();
    let next = store
        .read_changes(latest, 100, &ChangeFilter::default())
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].sequence > latest);
    assert_eq!(next[0].entity_id, c.id.to_string());
    let _ = b;
});

both_backends!(
    the_same_new_email_added_twice_at_once_is_one_person,
    |backend| async move {
        let (store, _db) = open(backend).await;
        let mut orgs = Vec::new();
        for slug in ["school-a", "school-b", "school-c", "school-d"] {
            let org = store
                .create_organization(new_org(slug, OrgKind::School, "Томск", slug), &NODE)
                .await
                .unwrap();
            orgs.push(OrgRef::Id(org.id));
        }
        let tasks: Vec<_> = orgs
            .into_iter()
            .map(|org| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .add_member(
                            &org,
                            person("Новый учитель", "new@school.ru"),
                            Role::Teacher,
                            &NODE,
                        )
                        .await
                })
            })
            .collect();
        let mut people = BTreeSet::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(member) => {
                    people.insert(member.person.id);
                }
                // A lost race is a clear ALREADY_EXISTS, never a storage failure.
                Err(Error::EmailTaken(email)) => assert_eq!(email, "new@school.ru"),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(people.len(), 1);
    }
);
