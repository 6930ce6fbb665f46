//! The comparison every HQ test and the bench end with: each store's epoch, applied seq and
//! stock in the database against the emulated stores' truth.

use crate::fleet::Fleet;
use std::collections::BTreeMap;

/// (zone, sku) → count, zeros left out.
pub type Stock = BTreeMap<(String, String), u64>;

/// Per store: epoch, last seq, stock.
pub type StoreViews = BTreeMap<String, (String, u64, Stock)>;

/// What the database holds, per store.
pub async fn database_view(
    client: &tokio_postgres::Client,
) -> Result<StoreViews, tokio_postgres::Error> {
    let mut view = StoreViews::new();
    for row in client
        .query("SELECT store, epoch, applied_seq FROM hq_stores", &[])
        .await?
    {
        let applied: i64 = row.get(2);
        view.insert(
            row.get(0),
            (
                row.get(1),
                u64::try_from(applied).unwrap_or(0),
                Stock::new(),
            ),
        );
    }
    for row in client
        .query(
            "SELECT store, zone, sku, count FROM hq_stock WHERE count > 0",
            &[],
        )
        .await?
    {
        let store: String = row.get(0);
        let count: i64 = row.get(3);
        if let Some(entry) = view.get_mut(&store) {
            entry
                .2
                .insert((row.get(1), row.get(2)), u64::try_from(count).unwrap_or(0));
        }
    }
    Ok(view)
}

/// What the fleet's stores hold.
pub fn fleet_truth(fleet: &Fleet) -> StoreViews {
    fleet
        .stores()
        .into_iter()
        .map(|(name, store)| {
            let stock = store
                .counts()
                .iter()
                .map(|(pair, count)| (pair.clone(), u64::from(*count)))
                .collect();
            (name, (store.epoch().to_owned(), store.seq(), stock))
        })
        .collect()
}

/// One line per store where `held` differs from `truth` (empty when they agree).
pub fn differences(truth: &StoreViews, held: &StoreViews) -> Vec<String> {
    let mut lines = Vec::new();
    for (store, want) in truth {
        match held.get(store) {
            Some(got) if got == want => {}
            Some(got) => lines.push(format!(
                "{store}: database epoch {} seq {} ({} pairs), truth epoch {} seq {} ({} pairs), stock equal: {}",
                got.0,
                got.1,
                got.2.len(),
                want.0,
                want.1,
                want.2.len(),
                got.2 == want.2
            )),
            None => lines.push(format!("{store}: not in the database")),
        }
    }
    for store in held.keys().filter(|store| !truth.contains_key(*store)) {
        lines.push(format!("{store}: in the database, not a store"));
    }
    lines
}
