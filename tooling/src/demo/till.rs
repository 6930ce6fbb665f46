//! The demo's till (SPEC §10 "Sales and returns"): every purchase of the generated trading day is
//! sent on `cmd/sale`, as a store's till system publishes it, so a sold item leaves the stock at
//! the next flush instead of `depart-after` later.
//!
//! A receipt goes out [`AT_THE_TILL`] after its items left the readers' fields (the customer walks
//! to the till and pays out of their reach): a sale sent while a reader still saw the item would be
//! followed at once by its return. The emulators replay the day every cycle, and so does the till.

use std::collections::BTreeMap;
use std::time::Duration;

use super::store_model::DemoStore;

/// How long after the sold items leave the readers' fields their receipt reaches the store.
pub const AT_THE_TILL: Duration = Duration::from_secs(2);

/// One purchase: the items bought together, and when (scenario time) the till sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// When the till sends it, in scenario time.
    pub at: Duration,
    /// The sold items' EPCs.
    pub epcs: Vec<[u8; 12]>,
}

impl Receipt {
    /// The `cmd/sale` payload of this receipt, `request_id` `till-{day}-{number}`.
    pub fn payload(&self, day: u64, number: usize) -> Vec<u8> {
        let epcs: Vec<String> = self
            .epcs
            .iter()
            .map(|epc| epc.iter().map(|b| format!("{b:02X}")).collect())
            .collect();
        serde_json::json!({"request_id": format!("till-{day}-{number}"), "epcs": epcs})
            .to_string()
            .into_bytes()
    }
}

/// The day's receipts in time order: the items whose last stay ends (bought, never back on a
/// rail), grouped by the moment they left, which the model gives a whole basket at once.
pub fn receipts(store: &DemoStore) -> Vec<Receipt> {
    let mut baskets: BTreeMap<Duration, Vec<[u8; 12]>> = BTreeMap::new();
    for item in &store.items {
        if let Some(left) = item.stays.last().and_then(|s| s.until) {
            baskets.entry(left).or_default().push(item.epc);
        }
    }
    baskets
        .into_iter()
        .map(|(left, epcs)| Receipt {
            at: left + AT_THE_TILL,
            epcs,
        })
        .collect()
}

/// Sends the receipts on `cmd/sale` through `client` at their time, every cycle, from `start` (the
/// emulators' clock) on; returns when the client is gone.
#[cfg(feature = "demo-broker")]
pub async fn run(
    client: rumqttc::AsyncClient,
    topic: String,
    receipts: Vec<Receipt>,
    cycle: Duration,
    start: tokio::time::Instant,
) {
    if receipts.is_empty() || cycle.is_zero() {
        return;
    }
    for day in 0u64.. {
        let opening = start + cycle.saturating_mul(u32::try_from(day).unwrap_or(u32::MAX));
        for (number, receipt) in receipts.iter().enumerate() {
            tokio::time::sleep_until(opening + receipt.at).await;
            let sent = client
                .publish(
                    topic.clone(),
                    rumqttc::QoS::AtLeastOnce,
                    false,
                    receipt.payload(day + 1, number + 1),
                )
                .await;
            if sent.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::store_model::{generate, StoreSpec};
    use tagtally_contract::SaleCommand;

    #[test]
    fn every_sale_of_the_day_is_on_a_receipt_after_the_item_left() {
        let store = generate(&StoreSpec::default());
        let receipts = receipts(&store);
        let sold: usize = receipts.iter().map(|r| r.epcs.len()).sum();
        assert_eq!(sold, store.trading.sold as usize);
        assert!(receipts.windows(2).all(|w| w[0].at < w[1].at));
        for receipt in &receipts {
            for epc in &receipt.epcs {
                let item = store.items.iter().find(|i| i.epc == *epc).expect("item");
                let left = item.stays.last().and_then(|s| s.until).expect("left");
                assert!(receipt.at >= left + AT_THE_TILL);
                assert!(receipt.at < store.cycle, "sent within its day");
            }
        }
    }

    #[test]
    fn a_receipt_is_a_valid_cmd_sale() {
        let store = generate(&StoreSpec::default());
        let receipt = &receipts(&store)[0];
        let payload = receipt.payload(1, 1);
        let sale = SaleCommand::parse(&payload).expect("a valid cmd/sale");
        assert_eq!(sale.request_id.as_deref(), Some("till-1-1"));
        assert_eq!(sale.epcs.len(), receipt.epcs.len());
    }
}
