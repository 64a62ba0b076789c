use edufed_store::{ConnectOptions, Store};
use edufed_tests::{Backend, TestDb};

/// Names a PostgreSQL server (URL of any database on it) to run the benches
/// there too, each on a database of its own.
const POSTGRES_URL: &str = "EDUFED_BENCH_POSTGRES_URL";

/// The multi-threaded runtime a node runs on, so that concurrent clients
/// contend as they would against a server.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `EDUFED_BENCH_SCALE`: what a bench divides its dataset by for a quick
/// run; 1 (the full size) when unset or not a positive number.
pub fn scale() -> usize {
    std::env::var("EDUFED_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// Runs `bench` with the backend's name and a fresh database's URL: on
/// SQLite, then on PostgreSQL when `EDUFED_BENCH_POSTGRES_URL` names a
/// server, so both backends' numbers come from one command.
pub fn on_each_backend(mut bench: impl AsyncFnMut(&'static str, &str)) {
    runtime().block_on(async {
        let sqlite = TestDb::new(Backend::Sqlite).await;
        bench("SQLite", &sqlite.url).await;
        if let Ok(admin) = std::env::var(POSTGRES_URL) {
            let url = edufed_tests::create_database(&admin, "edufed_bench").await;
            bench("PostgreSQL", &url).await;
        }
    });
}

/// The store on `url`, migrated as a node's is at its start.
pub async fn open_store(url: &str, options: &ConnectOptions) -> Store {
    let store = Store::connect(url, options).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}
