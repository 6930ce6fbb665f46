//! Schema migrations shipped with the binary (`hq/migrations/*.sql`), applied at start in one
//! transaction under an advisory lock, so instances starting together apply each exactly once.

use tokio_postgres::Client;

/// The migrations, in order: (version, name, SQL). Released files are never edited.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "stock_of_record",
    include_str!("../../migrations/0001_stock_of_record.sql"),
)];

/// Key of the advisory lock held while migrating ("tagtally" in ASCII).
const MIGRATION_LOCK: i64 = 0x7461_6774_616c_6c79;

/// Applies every migration the database lacks; returns the versions applied now.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    let transaction = client.transaction().await?;
    // Held until commit: a second instance waits here, then finds everything applied.
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS hq_schema_migrations (
                 version integer PRIMARY KEY,
                 name    text NOT NULL,
                 applied timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let done: Vec<i32> = transaction
        .query("SELECT version FROM hq_schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        transaction.batch_execute(sql).await?;
        transaction
            .execute(
                "INSERT INTO hq_schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
        applied.push(*version);
    }
    transaction.commit().await?;
    Ok(applied)
}
