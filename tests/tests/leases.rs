//! The lease of a node's background work, on both backends: one holder at
//! a time, renewed by its holder, taken by another only once expired (under
//! the next term), given up at once on request; every term recorded.

use chrono::{Duration, Utc};
use edufed_domain::time::Clock;
use edufed_store::{ConnectOptions, Store};
use edufed_tests::{TestDb, both_backends};

both_backends!(
    one_holder_at_a_time_and_a_new_term_on_each_change,
    |backend| async move {
        let db = TestDb::new(backend).await;
        let clock = Clock::manual(Utc::now());
        let store = Store::connect(&db.url, &ConnectOptions::default())
            .await
            .unwrap()
            .with_clock(clock.clone());
        store.migrate().await.unwrap();
        let ttl = Duration::seconds(6);
        let work = "background work";

        assert_eq!(store.hold_lease(work, "a", ttl).await.unwrap(), Some(1));
        // B waits while A's lease runs; A renews it, keeping its term.
        clock.advance(Duration::seconds(4));
        assert_eq!(store.hold_lease(work, "b", ttl).await.unwrap(), None);
        assert_eq!(store.hold_lease(work, "a", ttl).await.unwrap(), Some(1));
        clock.advance(Duration::seconds(5));
        assert_eq!(store.hold_lease(work, "b", ttl).await.unwrap(), None);
        // A stops renewing: once the lease expires B takes it, in term 2, and
        // A is refused.
        clock.advance(Duration::seconds(2));
        assert_eq!(store.hold_lease(work, "b", ttl).await.unwrap(), Some(2));
        assert_eq!(store.hold_lease(work, "a", ttl).await.unwrap(), None);
        // B gives it up (a clean stop): A takes it at once, in term 3. Another
        // lease is another matter.
        store.release_lease(work, "b").await.unwrap();
        store.release_lease(work, "nobody").await.unwrap();
        assert_eq!(store.hold_lease(work, "a", ttl).await.unwrap(), Some(3));
        assert_eq!(store.hold_lease("other", "b", ttl).await.unwrap(), Some(1));

        let terms: Vec<(u64, String)> = store
            .lease_terms(work)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.term, t.holder))
            .collect();
        assert_eq!(
            terms,
            [
                (1, "a".to_owned()),
                (2, "b".to_owned()),
                (3, "a".to_owned())
            ]
        );
    }
);
