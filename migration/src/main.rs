//! Runs the migrations on their own: `migration [up|down [N]|status|fresh]` against `DATABASE_URL`.
//! (sea-orm-migration's own CLI is left out to keep builds short; this covers what operators need.)

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::Database;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://caresoft-bridge.db?mode=rwc".into());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let steps = args.get(1).and_then(|n| n.parse().ok());
    let db = match Database::connect(&url).await {
        Ok(db) => db,
        Err(err) => {
            eprintln!("migration: cannot connect to DATABASE_URL: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match args.first().map(String::as_str).unwrap_or("up") {
        "up" => Migrator::up(&db, steps).await,
        "down" => Migrator::down(&db, Some(steps.unwrap_or(1))).await,
        "status" => Migrator::status(&db).await,
        "fresh" => Migrator::fresh(&db).await,
        other => {
            eprintln!("migration: unknown command {other:?}; use up, down [N], status or fresh");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("migration failed: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
