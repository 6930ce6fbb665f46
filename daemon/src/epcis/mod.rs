//! GS1 EPCIS 2.0 (SPEC §12), the pure part: what tagtally's stock changes look like as EPCIS
//! ObjectEvents in JSON-LD, their CBV 2.0 event hash IDs, and the EPCISDocument that carries them.
//!
//! * [`cbv`] — the CBV 2.0 business steps and dispositions tagtally uses, and which stock change
//!   gets which.
//! * [`location`] — `readPoint` (reader and antenna) and `bizLocation` (store and zone) identifiers:
//!   SGLNs under the store's configured GLN, or `urn:tagtally:` URNs when it has none.
//! * [`object_event`] — one ObjectEvent (`action` OBSERVE), its JSON, and its `eventID`.
//! * [`event_hash`] — the CBV 2.0 event hash (`ni:///sha-256;…?ver=CBV2.0`): the canonical
//!   pre-hash string of CBV 2.0 §8.9 with identifiers in GS1 Digital Link form.
//! * [`document`] — the EPCISDocument around a list of events.
//! * [`message`] — one flush's events as the size-bounded documents of the `epcis` topic.
//! * [`stock_events`] — the state database's committed events ([`crate::store::StockEvent`]) as
//!   ObjectEvents, and the document of a time range.
//!
//! Every document validates against GS1's EPCIS 2.0 JSON Schema and every event hash equals the
//! reference implementation's (`tagtally/tests/epcis_document.rs`, golden data in
//! `tagtally/tests/golden/epcis/`).
//!
//! Events come from committed state only: the store classifies each flush's tag changes in the
//! flush's own transaction and keeps them while `[epcis]` is configured (`store/events.rs`);
//! `tagtally epcis --since T [--until U]` prints them as one document (over the control socket).
//!
//! A departure carries its reason (SPEC §10) from the engine's tag change into the stored event:
//! a sale is `retail_selling`/`retail_sold`, a tag a count did not find `cycle_counting`/`unknown`
//! (see [`cbv`]).
//!
//! With `[epcis] publish = true` the same transaction also serialises the flush's events as the
//! messages of the `epcis` topic ([`message`]) into their own outbox, which the uplink drains like
//! the deltas' (`store/epcis_outbox.rs`).
//!
//! Not here: a count's result as one event of every tag it saw (its arrivals and moves are stored
//! as arrivals and moves).

pub mod cbv;
pub mod document;
pub mod event_hash;
pub mod location;
pub mod message;
pub mod object_event;
pub mod stock_events;
