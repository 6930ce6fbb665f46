//! The demo's handheld count (SPEC §10 "Cycle counts"): a stockroom no fixed reader covers, holding
//! overflow stock the daemon cannot know about until someone counts it, and a handheld sled (an
//! emulated ThingMagic module with `role = "handheld"`) that counts it a few seconds into the demo:
//! `count start`, the sled's reads, `count finish` over the control socket, exactly what a
//! technician types. HQ's view then shows the retained `count` message and the delta that applied it.
//!
//! Besides the store's own products, the stockroom holds a new product that no rail carries yet
//! and the books do not list (see `book_stock`): after the count it is both a discrepancy and on
//! the replenishment list.

use std::time::Duration;

use tagtally_reader_drivers::Epc;
use tagtally_sim::scenario::{InventorySpec, ReaderSpec, Scenario, TagSpec};

use super::sgtin::{gtin_of, sgtin96};
use super::store_model::COMPANY;

/// The zone only the handheld counts.
pub const STOCKROOM: &str = "stockroom";
/// The handheld reader's name.
pub const SLED: &str = "sled";
/// When the count opens, from the demo's start (the daemon is up by then).
pub const COUNT_OPENS: Duration = Duration::from_secs(3);
/// How long the sled reads before the count is finished.
pub const COUNT_LASTS: Duration = Duration::from_secs(3);

/// Overflow stock in the stockroom: (product number, units), serials above the store's own.
const OVERFLOW: [(u32, u64); 4] = [(100_000, 12), (100_001, 8), (100_002, 16), (100_003, 6)];
const FIRST_SERIAL: u64 = 1_000_000;
/// A new product delivered to the stockroom in cases (indicator digit 2, outside the store model's
/// `1xxxxx` product numbers): never on the floor, not on the books.
pub const NEW_PRODUCT: (u32, u64) = (200_001, 5);

/// The stockroom's stock by product: the overflow of the store's products, then the new product.
fn stockroom_products() -> impl Iterator<Item = (u32, u64)> {
    OVERFLOW.into_iter().chain([NEW_PRODUCT])
}

/// The stockroom's stock by SKU (GTIN-14), as the count finds it.
pub fn stockroom_skus() -> Vec<(String, u64)> {
    stockroom_products()
        .map(|(item, units)| (gtin_of(COMPANY, item), units))
        .collect()
}

/// What the sled reads wherever it is carried: the stockroom's overflow stock, all along.
pub fn stockroom_walk() -> Scenario {
    let mut tags = Vec::new();
    let mut serial = FIRST_SERIAL;
    for (item, units) in stockroom_products() {
        for _ in 0..units {
            if let Some(epc) = Epc::from_slice(&sgtin96(COMPANY, item, serial)) {
                tags.push(TagSpec::fixed(epc, &[1], -48.0));
            }
            serial += 1;
        }
    }
    Scenario {
        reader: ReaderSpec {
            antennas: 1,
            model: Some("ThingMagic M6e Nano (sled)".to_owned()),
            firmware: "1.9.2.0".to_owned(),
        },
        inventory: InventorySpec {
            read_rate: 4.0,
            rssi_jitter_db: 2.0,
        },
        ..Scenario::with_tags(tags)
    }
}

/// Units in the stockroom: what the count finds.
pub fn stockroom_units() -> u64 {
    stockroom_products().map(|(_, units)| units).sum()
}

/// The config of the stockroom and the sled at `address`.
pub fn config(address: std::net::SocketAddr) -> String {
    format!(
        r#"[[zone]]
name = "{STOCKROOM}"
role = "stockroom"

[[reader]]
name = "{SLED}"
kind = "thingmagic"
address = "{address}"
role = "handheld"
antennas = {{ 1 = "{STOCKROOM}" }}
"#
    )
}

/// Counts the stockroom with the sled through the control socket at `socket`: opens the count at
/// [`COUNT_OPENS`] after `start`, finishes it [`COUNT_LASTS`] later. Says what it does through
/// `say`; the result reaches the screen as HQ receives it.
#[cfg(feature = "demo-broker")]
pub async fn run(socket: std::path::PathBuf, start: tokio::time::Instant, say: fn(&str)) {
    use tagtally::control::operations::CountRequest;
    use tagtally::control::protocol::{Reply, Request};

    let operate = |request: Request| {
        let socket = socket.clone();
        tokio::task::spawn_blocking(move || {
            tagtally::control::ControlClient::connect(&socket)
                .and_then(|mut client| client.operate(&request))
                .map_err(|e| e.to_string())
        })
    };
    tokio::time::sleep_until(start + COUNT_OPENS).await;
    let opened = operate(Request::Count(CountRequest::Start {
        zone: STOCKROOM.to_owned(),
        reader: SLED.to_owned(),
    }))
    .await;
    match opened {
        Ok(Ok(Reply::Count(_))) => say(&format!(
            "handheld {SLED}: counting the {STOCKROOM} (no fixed reader there; the sled's reads count only now)"
        )),
        Ok(Ok(other)) => return say(&format!("handheld {SLED}: count not opened: {other:?}")),
        Ok(Err(e)) => return say(&format!("handheld {SLED}: count not opened: {e}")),
        Err(e) => return say(&format!("handheld {SLED}: {e}")),
    }
    tokio::time::sleep_until(start + COUNT_OPENS + COUNT_LASTS).await;
    let finished = operate(Request::Count(CountRequest::Finish {
        zone: Some(STOCKROOM.to_owned()),
    }))
    .await;
    match finished {
        Ok(Ok(Reply::Count(_))) => {}
        Ok(Ok(other)) => say(&format!("handheld {SLED}: count not applied: {other:?}")),
        Ok(Err(e)) => say(&format!("handheld {SLED}: count not applied: {e}")),
        Err(e) => say(&format!("handheld {SLED}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stockroom_holds_distinct_decodable_items() {
        let walk = stockroom_walk();
        walk.validate().expect("valid scenario");
        assert_eq!(walk.tags.len() as u64, stockroom_units());
        let mut epcs: Vec<_> = walk.tags.iter().map(|t| t.epc).collect();
        epcs.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        epcs.dedup();
        assert_eq!(epcs.len() as u64, stockroom_units());
        assert!(walk
            .tags
            .iter()
            .all(|t| tagtally_protocol::epc::sku(t.epc.as_bytes())
                .to_string()
                .len()
                == 14));
    }
}
