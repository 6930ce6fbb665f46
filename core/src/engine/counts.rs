//! Per-(zone, SKU) counts and the net change since the last flush, so a tag that comes and goes within one interval publishes nothing.

use std::collections::HashMap;

/// A count cell: (zone index, SKU index).
pub type Cell = (u16, u32);

/// One cell whose count differs from the last flush.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellChange {
    /// The cell.
    pub cell: Cell,
    /// New count minus the count at the last flush.
    pub delta: i64,
    /// The new count.
    pub count: u32,
}

/// The counts, the per-zone totals, and the value each touched cell had at the last flush.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    cells: HashMap<Cell, u32, hashbrown::DefaultHashBuilder>,
    at_last_flush: HashMap<Cell, u32, hashbrown::DefaultHashBuilder>,
    per_zone: Vec<u32>,
}

impl Counts {
    /// Empty counts over `zone_count` zones.
    pub fn new(zone_count: usize) -> Self {
        Self {
            per_zone: vec![0; zone_count],
            ..Self::default()
        }
    }

    /// Adds room for one more zone (a retired zone found in restored state).
    pub fn add_zone(&mut self) {
        self.per_zone.push(0);
    }

    /// One more tag in `cell`.
    pub fn increment(&mut self, cell: Cell) {
        let count = self.cells.entry(cell).or_insert(0);
        self.at_last_flush.entry(cell).or_insert(*count);
        *count += 1;
        if let Some(z) = self.per_zone.get_mut(usize::from(cell.0)) {
            *z += 1;
        }
    }

    /// One tag fewer in `cell` (never below zero).
    pub fn decrement(&mut self, cell: Cell) {
        let Some(count) = self.cells.get_mut(&cell) else {
            return;
        };
        self.at_last_flush.entry(cell).or_insert(*count);
        *count -= 1;
        if *count == 0 {
            self.cells.remove(&cell);
        }
        if let Some(z) = self.per_zone.get_mut(usize::from(cell.0)) {
            *z = z.saturating_sub(1);
        }
    }

    /// The changes since the last flush (only cells whose count differs), and starts a new interval.
    pub fn take_changes(&mut self) -> Vec<CellChange> {
        let mut changes: Vec<CellChange> = self
            .at_last_flush
            .drain()
            .filter_map(|(cell, before)| {
                let count = self.cells.get(&cell).copied().unwrap_or(0);
                (count != before).then_some(CellChange {
                    cell,
                    delta: i64::from(count) - i64::from(before),
                    count,
                })
            })
            .collect();
        changes.sort_unstable_by_key(|c| c.cell);
        changes
    }

    /// Forgets pending changes: the current counts become the baseline (after a restore).
    pub fn mark_flushed(&mut self) {
        self.at_last_flush.clear();
    }

    /// The count of one cell.
    pub fn get(&self, cell: Cell) -> u32 {
        self.cells.get(&cell).copied().unwrap_or(0)
    }

    /// Every non-zero cell, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Cell, u32)> + '_ {
        self.cells.iter().map(|(&c, &n)| (c, n))
    }

    /// Tags present per zone index.
    pub fn per_zone(&self) -> &[u32] {
        &self.per_zone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn come_and_go_within_an_interval_is_no_change() {
        let mut c = Counts::new(1);
        c.increment((0, 1));
        c.decrement((0, 1));
        assert!(c.take_changes().is_empty());
    }

    #[test]
    fn changes_are_net_and_sorted() {
        let mut c = Counts::new(2);
        c.increment((1, 5));
        c.increment((0, 5));
        c.increment((0, 5));
        assert_eq!(
            c.take_changes(),
            vec![
                CellChange {
                    cell: (0, 5),
                    delta: 2,
                    count: 2
                },
                CellChange {
                    cell: (1, 5),
                    delta: 1,
                    count: 1
                }
            ]
        );
        c.decrement((0, 5));
        c.decrement((0, 5));
        c.increment((0, 5));
        assert_eq!(
            c.take_changes(),
            vec![CellChange {
                cell: (0, 5),
                delta: -1,
                count: 1
            }]
        );
        assert_eq!(c.per_zone(), &[1, 1]);
    }
}
