//! The connection pool: connections that sit in it are checked before they are handed out again, those in
//! constant use are not.

use std::time::Duration;

use caresoft_bridge::store::{self, connection::PING_IF_IDLE_FOR};
use sea_orm::ConnectionTrait;

use crate::helpers::{TestDb, scalar};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_dropped_while_idle_is_replaced_not_handed_out() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let database = t
        .url
        .rsplit('/')
        .next()
        .and_then(|rest| rest.split('?').next())
        .expect("a database name")
        .to_string();
    let pool = store::connect(&t.url).await.expect("a pool");
    let first = scalar(&pool, "SELECT pg_backend_pid()::bigint").await;

    // The server drops every connection of the database (a restart, a proxy's idle timeout) while the
    // pool's sits idle.
    let admin = t.another_pool().await;
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("terminated");
    tokio::time::sleep(PING_IF_IDLE_FOR + Duration::from_millis(500)).await;

    // The next queries get live connections: the dead one fails its ping and is replaced.
    for _ in 0..3 {
        let now = scalar(&pool, "SELECT pg_backend_pid()::bigint").await;
        assert_ne!(now, first, "the terminated session was handed out");
    }
}
