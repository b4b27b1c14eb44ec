//! Filling a new column of existing rows with values computed in Rust, for the migrations that add one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

/// Rows per statement (two parameters each, far below either engine's limit).
const CHUNK: usize = 1_000;

/// Writes `rows` (id, text) into `column` of `table`, `CHUNK` rows per statement.
pub async fn backfill(
    db: &impl ConnectionTrait,
    table: impl Iden + Copy + 'static,
    id: impl Iden + Copy + 'static,
    column: impl Iden + Copy + 'static,
    rows: &[(i64, String)],
) -> Result<(), DbErr> {
    for chunk in rows.chunks(CHUNK) {
        let mut case = CaseStatement::new();
        for (row_id, text) in chunk {
            case = case.case(Expr::col(id).eq(*row_id), text.clone());
        }
        db.execute(
            &Query::update()
                .table(table)
                .value(column, case.finally(Expr::col(column)))
                .and_where(Expr::col(id).is_in(chunk.iter().map(|(row_id, _)| *row_id)))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
