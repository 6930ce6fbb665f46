//! Replenishment in the engine task (SPEC §10): the pick list for `tagtally replenish`, and the retained `replenish` message after every change of it (checked at each flush tick, when the committed counts or the minimums changed).

use std::time::SystemTime;

use tagtally_contract::size::max_payload;
use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{encode_replenish_parts, PickItem, ReplenishHeader};
use tracing::{info, warn};

use crate::control::protocol::Reply;
use crate::control::replenish::{PickLineView, ReplenishReply};
use crate::operations::{pick_list, PickLine};
use crate::plan::ReplenishPlan;
use crate::time_ordered_id::time_ordered_id;

use super::engine_task::EngineTask;
use super::error::RunError;

/// The widest part number a replenish topic is sized for.
const WIDEST_PART: u32 = 99_999;

/// What the engine task keeps for replenishment.
#[derive(Debug)]
pub struct ReplenishDesk {
    /// The minimums.
    plan: ReplenishPlan,
    /// The stock seq of the last list made, `None` when it must be made again.
    compared: Option<u64>,
    /// The list last published.
    published: Option<Vec<PickLine>>,
}

impl ReplenishDesk {
    /// Nothing published yet.
    pub fn new(plan: ReplenishPlan) -> Self {
        ReplenishDesk {
            plan,
            compared: None,
            published: None,
        }
    }

    /// New minimums from a reloaded config: the list is made again at the next tick.
    pub fn reconfigure(&mut self, plan: ReplenishPlan) {
        self.plan = plan;
        self.compared = None;
    }
}

impl EngineTask {
    /// The pick list from the committed stock table, and its seq.
    fn pick_list_now(&self) -> (Vec<PickLine>, u64) {
        let stock = std::sync::Arc::clone(&self.stock_tx.borrow());
        let plan = &self.replenish.plan;
        let lines = pick_list(&stock.stock().counts, &self.roles, |sku| plan.min_of(sku));
        (lines, stock.stock().seq)
    }

    /// `tagtally replenish`.
    pub(super) fn replenish_reply(&self) -> Reply {
        let (lines, seq) = self.pick_list_now();
        Reply::Replenish(ReplenishReply {
            seq,
            min_on_floor: u64::from(self.replenish.plan.min_on_floor),
            skus_with_own_min: self.replenish.plan.minimums.len() as u64,
            lines: lines
                .into_iter()
                .map(|l| PickLineView {
                    sku: l.sku,
                    on_floor: l.on_floor,
                    in_stockroom: l.in_stockroom,
                    min: l.min,
                    to_bring: l.to_bring,
                })
                .collect(),
        })
    }

    /// At each flush tick: makes the list again when the committed counts or the minimums
    /// changed, and publishes the retained `replenish` parts when the list did.
    pub(super) async fn replenish_tick(&mut self) -> Result<(), RunError> {
        let seq = self.stock_tx.borrow().stock().seq;
        if self.replenish.compared == Some(seq) {
            return Ok(());
        }
        self.replenish.compared = Some(seq);
        let (lines, seq) = self.pick_list_now();
        if self.replenish.published.as_ref() == Some(&lines) {
            return Ok(());
        }
        let widest = self.layout.topics.replenish_part(WIDEST_PART).len();
        let budget = max_payload(self.packet_limit(), widest, self.layout.v5);
        let time = rfc3339_from_micros(self.published_time(self.clock.now()).0);
        let id = match time_ordered_id(SystemTime::now()) {
            Ok(id) => id,
            Err(e) => {
                warn!(error = %e, "no random id for the replenish message: not published this time");
                self.replenish.compared = None;
                return Ok(());
            }
        };
        let header = ReplenishHeader {
            store: self.store.store_name(),
            epoch: self.store.epoch(),
            seq,
            time: &time,
            replenish_id: &id,
        };
        let items: Vec<PickItem<'_>> = lines
            .iter()
            .map(|l| PickItem {
                sku: l.sku.as_str().into(),
                on_floor: l.on_floor,
                in_stockroom: l.in_stockroom,
                min: l.min,
                to_bring: l.to_bring,
            })
            .collect();
        let parts = encode_replenish_parts(&header, &items, budget);
        info!(
            skus = lines.len(),
            parts = parts.len(),
            seq,
            "replenishment list published"
        );
        let topics = self.layout.topics.clone();
        self.publish_parts("replenish", parts, |k| topics.replenish_part(k))
            .await?;
        self.replenish.published = Some(lines);
        Ok(())
    }
}
