//! What HQ sees of the demo store, built only from the MQTT messages (as an HQ consumer would): counts
//! rebuilt from snapshots and deltas (deduplicated on seq, gaps counted), per-zone totals, reader health,
//! the latest deltas, the till's sales (`cmd/sale`), the last cycle count (`count`), and what the
//! store says it must do next: its differences from the books (`discrepancies`) and its pick list
//! (`replenish`) — rendered as a compact screen on a terminal or as plain lines otherwise.
//!
//! Pure: messages in, text out; the demo's runner does the MQTT and the terminal.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use serde::Deserialize;
use tagtally_contract::{CountMessage, DiscrepanciesPart, ReplenishPart, SaleCommand, StoreState};

use crate::consumer::{ChainTracker, Observation};

/// Deltas shown on the screen.
const RECENT: usize = 8;
/// Discrepancies and pick-list lines named on the screen (the largest first, as the store sorts).
const FIRST_FEW: usize = 3;

/// What the screen shows of a delta (the chain itself is the tracker's).
#[derive(Deserialize)]
struct DeltaMsg {
    seq: u64,
    time: String,
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    zone: String,
    delta: i64,
}

/// What the screen shows of a snapshot's first part (the counts are the tracker's).
#[derive(Deserialize)]
struct SnapshotHead {
    #[serde(default)]
    stale_zones: Vec<String>,
}

#[derive(Deserialize)]
struct ReaderMsg {
    link: String,
    reads_per_sec: f64,
    #[serde(default)]
    antennas: Vec<AntennaMsg>,
    #[serde(default)]
    last_error: Option<String>,
}

#[derive(Deserialize)]
struct AntennaMsg {
    zone: String,
}

/// One delta as the screen lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaLine {
    /// Its seq.
    pub seq: u64,
    /// `HH:MM:SS` of its time.
    pub clock: String,
    /// (zone, SKU) pairs it changed.
    pub changes: usize,
    /// Net change per zone, in zone order.
    pub per_zone: Vec<(String, i64)>,
}

/// A reader as HQ sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderLine {
    /// `up`, `down` or `connecting`.
    pub link: String,
    /// Reads per second (as published, rounded).
    pub reads_per_sec: f64,
    /// Its last error, if any.
    pub last_error: Option<String>,
    /// The zones its antennas cover.
    pub zones: Vec<String>,
}

/// A cycle count's result as the screen shows it (from the retained `count` message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountLine {
    /// The counted zone.
    pub zone: String,
    /// The delta that applied it (0: it changed nothing).
    pub seq: u64,
    /// Distinct tags seen.
    pub seen: u64,
    /// Seen tags that were not in stock.
    pub arrived: u64,
    /// Seen tags that moved in from another zone.
    pub moved_in: u64,
    /// Tags of the zone the count did not find.
    pub departed: u64,
}

/// The store's differences from its books (part 1 of the retained `discrepancies` message: the
/// largest differences come first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookLine {
    /// The book compared with.
    pub book_id: String,
    /// SKUs that differ, over all parts.
    pub total: u64,
    /// The first few: (SKU, counted minus booked).
    pub first: Vec<(String, i64)>,
}

/// The store's pick list (part 1 of the retained `replenish` message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickLine {
    /// SKUs to bring to the floor, over all parts.
    pub total: u64,
    /// The first few: (SKU, units to bring).
    pub first: Vec<(String, u64)>,
}

/// What one message changed, for the plain-line output.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A new delta was applied.
    Delta(DeltaLine),
    /// A delta seen before (normal after a reconnect); ignored.
    Duplicate(u64),
    /// A whole snapshot (every part of it) replaced the counts up to its seq.
    Snapshot { seq: u64, items: u64 },
    /// A reader's health changed its link state.
    ReaderLink { reader: String, link: String },
    /// The store's status (`online`/`offline`/`disk_full`), when newer than the one held.
    Status(String),
    /// The till sold this many items (`cmd/sale`).
    Sale(usize),
    /// A cycle count was applied.
    Count(CountLine),
    /// The store compared its counts with the books again.
    Discrepancies(BookLine),
    /// The store's pick list changed.
    Replenish(PickLine),
    /// Nothing worth a line.
    Quiet,
}

/// The HQ view of one store: the chain (dedup, gaps, snapshot parts, status order) is the
/// contract's reference consumer, [`ChainTracker`]; this adds what the screen shows.
#[derive(Debug, Default)]
pub struct HqView {
    store: String,
    zones: Vec<String>,
    tracker: ChainTracker,
    deltas: u64,
    duplicates: u64,
    /// Seqs found missing (each gap's length).
    gaps: u64,
    snapshots: u64,
    recent: VecDeque<DeltaLine>,
    readers: BTreeMap<String, ReaderLine>,
    status: Option<String>,
    /// `stale_zones` of the last snapshot applied, and of the one being assembled.
    stale_zones: Vec<String>,
    assembling_stale: Vec<String>,
    /// `cmd/sale` messages seen, and the items they sold.
    receipts: u64,
    sold: u64,
    last_count: Option<CountLine>,
    book: Option<BookLine>,
    picks: Option<PickLine>,
}

impl HqView {
    /// An empty view of `store`, listing `zones` in this order.
    pub fn new(store: &str, zones: &[&str]) -> Self {
        HqView {
            store: store.to_owned(),
            zones: zones.iter().map(|z| (*z).to_owned()).collect(),
            ..HqView::default()
        }
    }

    /// Applies one message; `topic` is its full topic. Malformed payloads are ignored (as HQ must).
    pub fn on_message(&mut self, topic: &str, payload: &[u8]) -> Update {
        let Some((_, kind)) = topic.split_once(&format!("/{}/", self.store)) else {
            return Update::Quiet;
        };
        match kind {
            "delta" => self.delta(payload),
            "snapshot" => {
                if let Ok(head) = serde_json::from_slice::<SnapshotHead>(payload) {
                    self.assembling_stale = head.stale_zones;
                }
                self.snapshot_part(payload)
            }
            "status" => self.status(payload),
            "cmd/sale" => SaleCommand::parse(payload).map_or(Update::Quiet, |sale| {
                self.receipts += 1;
                self.sold += sale.epcs.len() as u64;
                Update::Sale(sale.epcs.len())
            }),
            "count" => serde_json::from_slice::<CountMessage>(payload).map_or(Update::Quiet, |c| {
                let line = CountLine {
                    zone: c.zone.into_owned(),
                    seq: c.seq,
                    seen: c.seen,
                    arrived: c.arrived,
                    moved_in: c.moved_in,
                    departed: c.departed,
                };
                self.last_count = Some(line.clone());
                Update::Count(line)
            }),
            "discrepancies" => DiscrepanciesPart::parse(payload).map_or(Update::Quiet, |d| {
                let line = BookLine {
                    book_id: d.book_id.into_owned(),
                    total: d.total,
                    first: d
                        .items
                        .iter()
                        .take(FIRST_FEW)
                        .map(|i| (i.sku.to_string(), i.difference))
                        .collect(),
                };
                self.book = Some(line.clone());
                Update::Discrepancies(line)
            }),
            "replenish" => ReplenishPart::parse(payload).map_or(Update::Quiet, |r| {
                let line = PickLine {
                    total: r.total,
                    first: r
                        .items
                        .iter()
                        .take(FIRST_FEW)
                        .map(|i| (i.sku.to_string(), i.to_bring))
                        .collect(),
                };
                self.picks = Some(line.clone());
                Update::Replenish(line)
            }),
            _ => match (
                kind.strip_prefix("snapshot/"),
                kind.strip_prefix("readers/"),
            ) {
                (Some(_), _) => self.snapshot_part(payload),
                (_, Some(reader)) => serde_json::from_slice::<ReaderMsg>(payload)
                    .map_or(Update::Quiet, |r| self.reader(reader, r)),
                _ => Update::Quiet,
            },
        }
    }

    fn delta(&mut self, payload: &[u8]) -> Update {
        let mut update = Update::Quiet;
        for observation in self.tracker.on_delta(payload) {
            match observation {
                Observation::Gap { from, to, .. } => self.gaps += to - from + 1,
                Observation::Duplicate { seq, .. } => {
                    self.duplicates += 1;
                    update = Update::Duplicate(seq);
                }
                Observation::Applied { .. } => {
                    self.deltas += 1;
                    if let Ok(d) = serde_json::from_slice::<DeltaMsg>(payload) {
                        let line = self.delta_line(d);
                        self.recent.push_front(line.clone());
                        self.recent.truncate(RECENT);
                        update = Update::Delta(line);
                    }
                }
                _ => {}
            }
        }
        update
    }

    fn delta_line(&self, d: DeltaMsg) -> DeltaLine {
        let mut per_zone: BTreeMap<&str, i64> = BTreeMap::new();
        for c in &d.changes {
            *per_zone.entry(c.zone.as_str()).or_insert(0) += c.delta;
        }
        let per_zone = self
            .zones
            .iter()
            .filter_map(|z| per_zone.get(z.as_str()).map(|n| (z.clone(), *n)))
            .filter(|(_, n)| *n != 0)
            .collect();
        DeltaLine {
            seq: d.seq,
            clock: d.time.get(11..19).unwrap_or(&d.time).to_owned(),
            changes: d.changes.len(),
            per_zone,
        }
    }

    /// One part of a snapshot: nothing changes until every part of it is in.
    fn snapshot_part(&mut self, payload: &[u8]) -> Update {
        let mut update = Update::Quiet;
        for observation in self.tracker.on_snapshot(payload) {
            if let Observation::Resynced { seq, .. } = observation {
                self.snapshots += 1;
                self.stale_zones = std::mem::take(&mut self.assembling_stale);
                update = Update::Snapshot {
                    seq,
                    items: self.items(),
                };
            }
        }
        update
    }

    /// A status newer than the one held by status/2's order; an older one (a late will) is
    /// ignored.
    fn status(&mut self, payload: &[u8]) -> Update {
        let mut update = Update::Quiet;
        for observation in self.tracker.on_status(payload) {
            if let Observation::Status { state, .. } = observation {
                let state = match state {
                    StoreState::Online => "online",
                    StoreState::Offline => "offline",
                    StoreState::DiskFull => "disk_full",
                };
                self.status = Some(state.to_owned());
                update = Update::Status(state.to_owned());
            }
        }
        update
    }

    fn items(&self) -> u64 {
        self.tracker.counts(&self.store).values().sum()
    }

    fn reader(&mut self, name: &str, r: ReaderMsg) -> Update {
        let mut zones: Vec<String> = r.antennas.into_iter().map(|a| a.zone).collect();
        zones.dedup();
        let line = ReaderLine {
            link: r.link,
            reads_per_sec: r.reads_per_sec,
            last_error: r.last_error,
            zones,
        };
        let changed = self
            .readers
            .get(name)
            .is_none_or(|old| old.link != line.link);
        let link = line.link.clone();
        self.readers.insert(name.to_owned(), line);
        if changed {
            Update::ReaderLink {
                reader: name.to_owned(),
                link,
            }
        } else {
            Update::Quiet
        }
    }

    /// Items and SKUs per zone, in zone order (zones never seen are listed with zero).
    pub fn zone_totals(&self) -> Vec<(String, u64, usize)> {
        let counts = self.tracker.counts(&self.store);
        let mut items: BTreeMap<&str, u64> = BTreeMap::new();
        let mut skus: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for ((zone, sku), n) in &counts {
            *items.entry(zone).or_insert(0) += n;
            skus.entry(zone).or_default().insert(sku);
        }
        let mut zones = self.zones.clone();
        for zone in items.keys() {
            if !zones.iter().any(|z| z == zone) {
                zones.push((*zone).to_owned());
            }
        }
        zones
            .into_iter()
            .map(|z| {
                let n = items.get(z.as_str()).copied().unwrap_or(0);
                let s = skus.get(z.as_str()).map_or(0, BTreeSet::len);
                (z, n, s)
            })
            .collect()
    }

    /// Whether `zone` is stale: every reader covering it is down (from the readers' health, which is
    /// fresher than the last snapshot's `stale_zones`; those count for zones no reader health names).
    pub fn is_stale(&self, zone: &str) -> bool {
        let mut covering = self
            .readers
            .values()
            .filter(|r| r.zones.iter().any(|z| z == zone))
            .peekable();
        if covering.peek().is_none() {
            return self.stale_zones.iter().any(|z| z == zone);
        }
        covering.all(|r| r.link != "up")
    }

    /// Deltas applied, duplicates dropped, seqs missing, snapshots received.
    pub fn tallies(&self) -> (u64, u64, u64, u64) {
        (self.deltas, self.duplicates, self.gaps, self.snapshots)
    }

    /// The compact screen.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let position = self.tracker.position(&self.store);
        let epoch = position.map_or("-", |(e, _)| e.get(..8).unwrap_or(e));
        let _ = writeln!(
            s,
            "tagtally demo - what HQ receives from store {} (epoch {epoch}, seq {})   store {}",
            self.store,
            position.map_or_else(|| "-".to_owned(), |(_, seq)| seq.to_string()),
            self.status.as_deref().unwrap_or("?"),
        );
        s.push('\n');
        let _ = writeln!(s, "{:<16}{:>8}{:>7}", "ZONE", "ITEMS", "SKUS");
        let mut total = 0;
        for (zone, items, skus) in self.zone_totals() {
            total += items;
            let stale = if self.is_stale(&zone) {
                "  (stale: its reader is down, nothing departs)"
            } else {
                ""
            };
            let _ = writeln!(s, "{zone:<16}{items:>8}{skus:>7}{stale}");
        }
        let _ = writeln!(s, "{:<16}{total:>8}", "total");
        s.push('\n');
        let _ = writeln!(s, "{:<16}{:<12}{:>8}", "READER", "LINK", "READS/S");
        for (name, r) in &self.readers {
            let error = match (&r.link[..], &r.last_error) {
                ("up", _) | (_, None) => String::new(),
                (_, Some(e)) => format!("  {e}"),
            };
            let _ = writeln!(s, "{name:<16}{:<12}{:>8.0}{error}", r.link, r.reads_per_sec);
        }
        s.push('\n');
        let _ = writeln!(
            s,
            "TILL  {} items sold on {} receipts (cmd/sale)",
            self.sold, self.receipts
        );
        let _ = writeln!(
            s,
            "COUNT {}",
            self.last_count
                .as_ref()
                .map_or_else(|| "none yet".to_owned(), count_text)
        );
        let _ = writeln!(
            s,
            "BOOK  {}",
            self.book
                .as_ref()
                .map_or_else(|| "no book stock yet".to_owned(), book_text)
        );
        let _ = writeln!(
            s,
            "PICK  {}",
            self.picks
                .as_ref()
                .map_or_else(|| "no pick list yet".to_owned(), pick_text)
        );
        s.push('\n');
        let (deltas, duplicates, gaps, snapshots) = self.tallies();
        let _ = writeln!(
            s,
            "LAST DELTAS ({deltas} applied, {duplicates} duplicates, {gaps} missing seqs, {snapshots} snapshots)"
        );
        for line in &self.recent {
            let _ = writeln!(s, "{}", delta_text(line));
        }
        s
    }

    /// One plain line for an update, if it deserves one.
    pub fn line(update: &Update) -> Option<String> {
        match update {
            Update::Delta(d) => Some(delta_text(d)),
            Update::Duplicate(seq) => Some(format!("duplicate #{seq} ignored")),
            Update::Snapshot { seq, items } => {
                Some(format!("snapshot at #{seq}: {items} items in stock"))
            }
            Update::ReaderLink { reader, link } => Some(format!("reader {reader} {link}")),
            Update::Status(state) => Some(format!("store {state}")),
            Update::Sale(items) => Some(format!(
                "till: {items} item{} sold (cmd/sale)",
                if *items == 1 { "" } else { "s" }
            )),
            Update::Count(c) => Some(format!("count {}", count_text(c))),
            Update::Discrepancies(b) => Some(format!("book: {}", book_text(b))),
            Update::Replenish(p) => Some(format!("replenish: {}", pick_text(p))),
            Update::Quiet => None,
        }
    }

    /// One line with every zone's total.
    pub fn totals_line(&self) -> String {
        let parts: Vec<String> = self
            .zone_totals()
            .iter()
            .map(|(z, n, _)| format!("{z} {n}"))
            .collect();
        format!("stock: {}", parts.join(", "))
    }
}

fn count_text(c: &CountLine) -> String {
    format!(
        "of the {}: {} seen, {} arrived, {} moved in, {} departed ({})",
        c.zone,
        c.seen,
        c.arrived,
        c.moved_in,
        c.departed,
        if c.seq == 0 {
            "nothing changed".to_owned()
        } else {
            format!("delta #{}", c.seq)
        }
    )
}

fn book_text(b: &BookLine) -> String {
    let first: Vec<String> = b
        .first
        .iter()
        .map(|(sku, d)| format!("{sku} {d:+}"))
        .collect();
    let more = b.total.saturating_sub(b.first.len() as u64);
    format!(
        "{} SKU{} differ from book {}{}{}",
        b.total,
        if b.total == 1 { "" } else { "s" },
        b.book_id,
        if first.is_empty() {
            String::new()
        } else {
            format!(": {}", first.join(", "))
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

fn pick_text(p: &PickLine) -> String {
    let first: Vec<String> = p
        .first
        .iter()
        .map(|(sku, n)| format!("{n} of {sku}"))
        .collect();
    let more = p.total.saturating_sub(p.first.len() as u64);
    format!(
        "{} SKU{} to bring to the floor{}{}",
        p.total,
        if p.total == 1 { "" } else { "s" },
        if first.is_empty() {
            String::new()
        } else {
            format!(": {}", first.join(", "))
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

fn delta_text(d: &DeltaLine) -> String {
    let mut text = format!(
        "delta #{:<5} {}  {:>4} change{}",
        d.seq,
        d.clock,
        d.changes,
        if d.changes == 1 { " " } else { "s" }
    );
    for (zone, n) in &d.per_zone {
        let _ = write!(text, "  {zone} {n:+}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "tagtally/v1/demo";

    fn delta(seq: u64, changes: &str) -> Vec<u8> {
        format!(
            r#"{{"schema":"tagtally.delta/1","store":"demo","epoch":"e1","seq":{seq},"time":"2026-01-01T10:15:02.000Z","changes":[{changes}]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn counts_dedup_gaps_and_lines() {
        let mut v = HqView::new("demo", &["floor", "backroom", "fitting-rooms"]);
        let u = v.on_message(
            &format!("{P}/delta"),
            &delta(
                1,
                r#"{"zone":"floor","sku":"a","delta":3,"count":3},{"zone":"backroom","sku":"a","delta":2,"count":2}"#,
            ),
        );
        let Update::Delta(line) = &u else {
            panic!("{u:?}")
        };
        assert_eq!(line.clock, "10:15:02");
        assert_eq!(
            HqView::line(&u).unwrap(),
            "delta #1     10:15:02     2 changes  floor +3  backroom +2"
        );
        assert_eq!(
            v.on_message(&format!("{P}/delta"), &delta(1, "")),
            Update::Duplicate(1)
        );
        v.on_message(
            &format!("{P}/delta"),
            &delta(
                4,
                r#"{"zone":"floor","sku":"a","delta":-1,"count":2},{"zone":"fitting-rooms","sku":"a","delta":1,"count":1}"#,
            ),
        );
        assert_eq!(v.tallies(), (2, 1, 2, 0));
        assert_eq!(
            v.zone_totals(),
            [
                ("floor".to_owned(), 2, 1),
                ("backroom".to_owned(), 2, 1),
                ("fitting-rooms".to_owned(), 1, 1)
            ]
        );
        assert_eq!(
            v.totals_line(),
            "stock: floor 2, backroom 2, fitting-rooms 1"
        );
        let screen = v.render();
        assert!(screen.contains("total                  5"), "{screen}");
        assert!(screen.contains("delta #4"), "{screen}");
    }

    fn part(k: u32, parts: u32, counts: &str) -> Vec<u8> {
        format!(
            r#"{{"schema":"tagtally.snapshot/2","store":"demo","epoch":"e1","seq":7,"time":"2026-01-01T10:15:02.000Z","snapshot_id":"i","part":{k},"parts":{parts},"reason":"startup","counts":[{counts}],"stale_zones":["floor"]}}"#
        )
        .into_bytes()
    }

    fn status(connection: u64, state: &str) -> Vec<u8> {
        format!(
            r#"{{"schema":"tagtally.status/2","store":"demo","epoch":"e1","boot":1,"connection":{connection},"time":"2026-01-01T10:15:02.000Z","state":"{state}","version":"0.1.0","seq":7}}"#
        )
        .into_bytes()
    }

    #[test]
    fn snapshots_readers_status_and_garbage() {
        let mut v = HqView::new("demo", &["floor"]);
        assert_eq!(
            v.on_message(
                &format!("{P}/snapshot"),
                &part(1, 1, r#"{"zone":"floor","sku":"a","count":4}"#)
            ),
            Update::Snapshot { seq: 7, items: 4 }
        );
        assert!(v.render().contains("stale"));
        let r = br#"{"schema":"tagtally.reader/1","store":"demo","reader":"r1","time":"t","link":"down","reads_per_sec":0.0,"antennas":[{"antenna":1,"zone":"floor","state":"unknown"}],"last_error":"connection refused"}"#;
        assert_eq!(
            v.on_message(&format!("{P}/readers/r1"), r),
            Update::ReaderLink {
                reader: "r1".into(),
                link: "down".into()
            }
        );
        assert_eq!(v.on_message(&format!("{P}/readers/r1"), r), Update::Quiet);
        assert!(v.render().contains("connection refused"));
        assert!(v.is_stale("floor"));
        let up = br#"{"schema":"tagtally.reader/1","store":"demo","reader":"r1","time":"t","link":"up","reads_per_sec":5.0,"antennas":[{"antenna":1,"zone":"floor","state":"ok"}],"last_error":null}"#;
        v.on_message(&format!("{P}/readers/r1"), up);
        assert!(!v.is_stale("floor"), "fresher than the snapshot");
        assert_eq!(
            v.on_message(&format!("{P}/delta"), b"not json"),
            Update::Quiet
        );
        assert_eq!(
            v.on_message(&format!("{P}/status"), br#"{"state":"online"}"#),
            Update::Quiet,
            "not a status/2 payload"
        );
        assert_eq!(v.on_message("elsewhere/x", b"{}"), Update::Quiet);
        // An older delta than the snapshot is a duplicate; a newer one applies on top.
        assert_eq!(
            v.on_message(
                &format!("{P}/delta"),
                &delta(6, r#"{"zone":"floor","sku":"a","delta":1,"count":5}"#)
            ),
            Update::Duplicate(6)
        );
    }

    #[test]
    fn a_snapshot_in_parts_applies_only_whole() {
        let mut v = HqView::new("demo", &["floor", "backroom"]);
        let first = part(1, 2, r#"{"zone":"floor","sku":"a","count":4}"#);
        let second = part(2, 2, r#"{"zone":"backroom","sku":"b","count":3}"#);
        assert_eq!(
            v.on_message(&format!("{P}/snapshot"), &first),
            Update::Quiet
        );
        assert_eq!(v.tallies().3, 0, "half a snapshot is no snapshot");
        assert_eq!(
            v.on_message(&format!("{P}/snapshot/2"), &second),
            Update::Snapshot { seq: 7, items: 7 }
        );
        assert_eq!(
            v.zone_totals(),
            [("floor".to_owned(), 4, 1), ("backroom".to_owned(), 3, 1)]
        );
        // A cleared stale part changes nothing.
        assert_eq!(v.on_message(&format!("{P}/snapshot/3"), b""), Update::Quiet);
        assert_eq!(v.tallies().3, 1);
    }

    #[test]
    fn a_late_will_does_not_hide_a_live_store() {
        let mut v = HqView::new("demo", &["floor"]);
        assert_eq!(
            v.on_message(&format!("{P}/status"), &status(2, "online")),
            Update::Status("online".into())
        );
        // The will of connection 1, fired late by another broker: older, ignored.
        assert_eq!(
            v.on_message(&format!("{P}/status"), &status(1, "offline")),
            Update::Quiet
        );
        assert!(v.render().contains("store online"), "{}", v.render());
        assert_eq!(
            v.on_message(&format!("{P}/status"), &status(2, "offline")),
            Update::Status("offline".into())
        );
    }

    #[test]
    fn the_tills_sales_and_a_count_show_on_the_screen() {
        let mut v = HqView::new("demo", &["floor", "stockroom"]);
        assert!(v.render().contains("COUNT none yet"));
        let sale = br#"{"request_id":"till-1-1","epcs":["3074257BF7194E4000001A85","3074257BF7194E4000001A86"]}"#;
        let update = v.on_message(&format!("{P}/cmd/sale"), sale);
        assert_eq!(update, Update::Sale(2));
        assert_eq!(
            HqView::line(&update).as_deref(),
            Some("till: 2 items sold (cmd/sale)")
        );
        assert_eq!(
            v.on_message(&format!("{P}/cmd/sale"), br#"{"epcs":[]}"#),
            Update::Quiet,
            "a refused sale sold nothing"
        );
        let count = br#"{"schema":"tagtally.count/1","store":"demo","epoch":"e1","seq":7,"zone":"stockroom","started":"2026-01-01T10:15:02.000Z","finished":"2026-01-01T10:15:05.000Z","seen":42,"arrived":42,"moved_in":0,"departed":0,"not_decoded":0}"#;
        let update = v.on_message(&format!("{P}/count"), count);
        assert_eq!(
            HqView::line(&update).as_deref(),
            Some("count of the stockroom: 42 seen, 42 arrived, 0 moved in, 0 departed (delta #7)")
        );
        let screen = v.render();
        assert!(
            screen.contains("TILL  2 items sold on 1 receipts"),
            "{screen}"
        );
        assert!(
            screen.contains("COUNT of the stockroom: 42 seen"),
            "{screen}"
        );
    }

    #[test]
    fn the_books_and_the_pick_list_show_on_the_screen() {
        let mut v = HqView::new("demo", &["floor", "stockroom"]);
        let screen = v.render();
        assert!(screen.contains("BOOK  no book stock yet"), "{screen}");
        assert!(screen.contains("PICK  no pick list yet"), "{screen}");
        let book = br#"{"schema":"tagtally.discrepancies/1","store":"demo","epoch":"e1","seq":9,"time":"2026-01-01T10:15:05.000Z","book_id":"demo-book-1","book_as_of":"opening","discrepancies_id":"d1","part":1,"parts":1,"book_skus":300,"total":4,"items":[{"sku":"24012345000012","book":0,"counted":5,"difference":5,"stale":false},{"sku":"24012345000029","book":4,"counted":0,"difference":-4,"stale":false},{"sku":"14012345000015","book":9,"counted":8,"difference":-1,"stale":false},{"sku":"14012345000022","book":9,"counted":8,"difference":-1,"stale":false}],"stale_zones":[]}"#;
        tagtally_tests::schemas::assert_payload_valid(&format!("{P}/discrepancies"), book);
        let update = v.on_message(&format!("{P}/discrepancies"), book);
        assert_eq!(
            HqView::line(&update).as_deref(),
            Some("book: 4 SKUs differ from book demo-book-1: 24012345000012 +5, 24012345000029 -4, 14012345000015 -1 and 1 more")
        );
        let picks = br#"{"schema":"tagtally.replenish/1","store":"demo","epoch":"e1","seq":9,"time":"2026-01-01T10:15:05.000Z","replenish_id":"r1","part":1,"parts":1,"total":1,"items":[{"sku":"24012345000012","on_floor":0,"in_stockroom":5,"min":1,"to_bring":1}]}"#;
        tagtally_tests::schemas::assert_payload_valid(&format!("{P}/replenish"), picks);
        let update = v.on_message(&format!("{P}/replenish"), picks);
        assert_eq!(
            HqView::line(&update).as_deref(),
            Some("replenish: 1 SKU to bring to the floor: 1 of 24012345000012")
        );
        let screen = v.render();
        assert!(
            screen.contains("BOOK  4 SKUs differ from book demo-book-1: 24012345000012 +5"),
            "{screen}"
        );
        assert!(
            screen.contains("PICK  1 SKU to bring to the floor: 1 of 24012345000012"),
            "{screen}"
        );
        assert_eq!(
            v.on_message(&format!("{P}/replenish"), b"{}"),
            Update::Quiet,
            "a malformed list changes nothing"
        );
    }
}
