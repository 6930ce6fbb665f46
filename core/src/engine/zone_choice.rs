//! Which zone a tag is in when several read it (antenna bleed): windowed read counts and peak RSSI, a clear-lead rule and hysteresis.
//!
//! Each zone that reads a present tag keeps a [`WindowStat`]: reads and peak RSSI in the current and the
//! previous *slot*, where slots are fixed, aligned intervals of the engine's comparison window (the largest
//! `arrive-window` of any zone, at least [`MIN_SLOT_MICROS`]). A zone's recent signal is therefore measured
//! over the last one to two slots, in O(1) memory and without per-read timestamps.
//!
//! A challenger zone *leads* the tag's current zone when, over that window, it read the tag at least its own
//! `arrive-reads` times (a stray read never moves stock) and either read it at least twice as often, or
//! about as often — at least [`COMPARABLE_READS`] as often — with a peak stronger by at least its
//! `rssi-margin-db` (default [`CLEAR_RSSI_MARGIN_CDBM`]). "About as often" matters: two antennas that both
//! read a tag every round differ by a read or two in any window, depending on which answered first in a
//! round and where the slot boundary fell, and a lead that such a blip breaks would restart the
//! hysteresis again and again — the tag would stay in the wrong zone for minutes. Two antennas that see a
//! tag about equally strong never lead each other, so a tag between them stays where it is. The tag moves once the same
//! challenger has led at every read of the tag for the challenger's `move-hysteresis`. A zone whose readers
//! are all down cannot defend its tags, and a move out of it would be a departure for lack of reads in
//! disguise, so nothing leads a tag out of an uncovered zone. For the same reason a lead counts only as far
//! as the home zone is known to have been watched (its readers heard, see `coverage`): a home reader that
//! fell silent before it is declared down is not out-read, just not heard, and the move waits for it.

/// The smallest comparison slot: keeps slot numbers within `u32` for centuries and the window meaningful.
pub const MIN_SLOT_MICROS: u64 = 100_000;

/// The default of how much stronger (in hundredths of a dB) a challenger's peak must be to count as
/// clearly stronger; each zone may set its own (`rssi-margin-db`).
pub const CLEAR_RSSI_MARGIN_CDBM: i32 = 600;

/// "About as often" for a clearly stronger challenger: at least 3/4 of the home zone's reads.
pub const COMPARABLE_READS: (u32, u32) = (3, 4);

/// Marks "no RSSI seen" in the packed peak fields (no reader reports -327.68 dBm).
const NO_RSSI: i16 = i16::MIN;

/// The slot a time falls in; slot numbers are compared with wrapping arithmetic.
#[inline]
pub fn slot_of(now_micros: u64, slot_micros: u64) -> u32 {
    // Truncation is deliberate: only differences of 0 and 1 between slots matter.
    (now_micros / slot_micros) as u32
}

/// One zone's reads of one tag over the current and the previous slot, packed in 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowStat {
    slot: u32,
    reads_now: u16,
    reads_before: u16,
    peak_now: i16,
    peak_before: i16,
}

/// A zone's reads of a tag over the comparison window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Reads in the window.
    pub reads: u32,
    /// The strongest RSSI among them, in hundredths of a dBm, when any read carried one.
    pub peak_cdbm: Option<i16>,
}

impl WindowStat {
    /// A stat with no reads (a tag restored from disk: nothing seen since the daemon started).
    pub const EMPTY: Self = Self {
        slot: 0,
        reads_now: 0,
        reads_before: 0,
        peak_now: NO_RSSI,
        peak_before: NO_RSSI,
    };

    /// A stat holding exactly one read.
    #[inline]
    pub fn first(slot: u32, rssi_cdbm: Option<i16>) -> Self {
        Self {
            slot,
            reads_now: 1,
            reads_before: 0,
            peak_now: rssi_cdbm.unwrap_or(NO_RSSI),
            peak_before: NO_RSSI,
        }
    }

    /// Adds one read in `slot` (never earlier than the last one recorded).
    #[inline]
    pub fn record(&mut self, slot: u32, rssi_cdbm: Option<i16>) {
        let rssi = rssi_cdbm.unwrap_or(NO_RSSI);
        match slot.wrapping_sub(self.slot) {
            0 => {
                self.reads_now = self.reads_now.saturating_add(1);
                self.peak_now = self.peak_now.max(rssi);
            }
            1 => {
                *self = Self {
                    slot,
                    reads_now: 1,
                    reads_before: self.reads_now,
                    peak_now: rssi,
                    peak_before: self.peak_now,
                }
            }
            _ => *self = Self::first(slot, rssi_cdbm),
        }
    }

    /// The reads that fall in the window ending in `slot`.
    #[inline]
    pub fn window(&self, slot: u32) -> Window {
        let (reads, peak) = match slot.wrapping_sub(self.slot) {
            0 => (
                u32::from(self.reads_now) + u32::from(self.reads_before),
                self.peak_now.max(self.peak_before),
            ),
            1 => (u32::from(self.reads_now), self.peak_now),
            _ => (0, NO_RSSI),
        };
        Window {
            reads,
            peak_cdbm: (peak != NO_RSSI).then_some(peak),
        }
    }

    /// True when no read of this stat can fall in a window ending in `slot` or later.
    #[inline]
    pub fn is_spent(&self, slot: u32) -> bool {
        slot.wrapping_sub(self.slot) >= 2
    }
}

/// A challenger zone's own terms for leading: its `arrive-reads` and its `rssi-margin-db`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeadRule {
    /// Reads the challenger needs in the window before it can lead at all.
    pub arrive_reads: u16,
    /// How much stronger its peak must be (hundredths of a dB) when it reads the tag only about as often.
    pub rssi_margin_cdbm: i32,
}

/// The clear-lead rule (see the module doc).
#[inline]
pub fn leads(challenger: Window, home: Window, rule: LeadRule) -> bool {
    if challenger.reads < u32::from(rule.arrive_reads) {
        return false;
    }
    if challenger.reads >= home.reads.saturating_mul(2) {
        return true;
    }
    match (challenger.peak_cdbm, home.peak_cdbm) {
        (Some(c), Some(h)) => {
            u64::from(challenger.reads) * u64::from(COMPARABLE_READS.1)
                >= u64::from(home.reads) * u64::from(COMPARABLE_READS.0)
                && i32::from(c) >= i32::from(h).saturating_add(rule.rssi_margin_cdbm)
        }
        _ => false,
    }
}

/// Among leading challengers, the one that leads most: more reads, then a stronger peak, then the lower zone index.
#[inline]
pub fn better_leader(a: (u16, Window), b: (u16, Window)) -> bool {
    let key = |(zone, w): (u16, Window)| {
        (
            w.reads,
            w.peak_cdbm.unwrap_or(NO_RSSI),
            std::cmp::Reverse(zone),
        )
    };
    key(a) > key(b)
}

/// The zone currently challenging a tag's zone, and since when it has led without a break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenger {
    /// The leading zone.
    pub zone: u16,
    /// The read time at which its current lead began, in microseconds.
    pub since_micros: u64,
}

/// The other zones reading a present tag: kept off the hot tag table, only for tags that bleed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bleed {
    /// Each other zone that read the tag since it arrived (or since its stats were last spent).
    pub others: Vec<(u16, WindowStat)>,
    /// The challenger, while one leads.
    pub challenger: Option<Challenger>,
}

impl Bleed {
    /// Records a read by `zone` (not the tag's current zone).
    pub fn record(&mut self, zone: u16, slot: u32, rssi_cdbm: Option<i16>) {
        match self.others.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, stat)) => stat.record(slot, rssi_cdbm),
            None => self.others.push((zone, WindowStat::first(slot, rssi_cdbm))),
        }
    }

    /// Re-evaluates the lead at a read at `now`; returns the zone to move to once a lead has lasted, with
    /// the home zone watched (`home_watched_until`, `None` while it is not covered) through all of it.
    ///
    /// `lead_rule` and `hysteresis_micros` give each zone's parameters by index.
    pub fn evaluate(
        &mut self,
        home: Window,
        home_watched_until: Option<u64>,
        slot: u32,
        now_micros: u64,
        lead_rule: impl Fn(u16) -> LeadRule,
        hysteresis_micros: impl Fn(u16) -> u64,
    ) -> Option<u16> {
        let Some(watched) = home_watched_until else {
            self.challenger = None;
            return None;
        };
        let mut best: Option<(u16, Window)> = None;
        for &(zone, stat) in &self.others {
            let w = stat.window(slot);
            if leads(w, home, lead_rule(zone)) && best.is_none_or(|b| better_leader((zone, w), b)) {
                best = Some((zone, w));
            }
        }
        let Some((zone, _)) = best else {
            self.challenger = None;
            return None;
        };
        let since = match self.challenger {
            Some(c) if c.zone == zone => c.since_micros,
            _ => now_micros,
        };
        self.challenger = Some(Challenger {
            zone,
            since_micros: since,
        });
        let due = since.saturating_add(hysteresis_micros(zone));
        (now_micros >= due && watched >= due).then_some(zone)
    }

    /// Swaps roles after a move: `to` becomes the tag's zone, `from` (with `from_stat`) one of the others.
    ///
    /// Returns the stat of the zone moved to.
    pub fn swap_home(&mut self, from: u16, from_stat: WindowStat, to: u16) -> WindowStat {
        self.challenger = None;
        let pos = self.others.iter().position(|(z, _)| *z == to);
        let to_stat = match pos {
            Some(i) => self.others.swap_remove(i).1,
            // A move is only decided for a zone in `others`; an empty stat is the honest fallback.
            None => WindowStat::EMPTY,
        };
        self.others.push((from, from_stat));
        to_stat
    }

    /// True when nothing here can influence a future decision: no lead running and every stat spent.
    pub fn is_idle(&self, slot: u32) -> bool {
        self.challenger.is_none() && self.others.iter().all(|(_, s)| s.is_spent(slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(arrive_reads: u16) -> LeadRule {
        LeadRule {
            arrive_reads,
            rssi_margin_cdbm: CLEAR_RSSI_MARGIN_CDBM,
        }
    }

    fn w(reads: u32, peak: Option<i16>) -> Window {
        Window {
            reads,
            peak_cdbm: peak,
        }
    }

    #[test]
    fn window_covers_current_and_previous_slot_only() {
        let mut s = WindowStat::first(10, Some(-6000));
        s.record(10, Some(-5000));
        assert_eq!(s.window(10), w(2, Some(-5000)));
        assert_eq!(s.window(11), w(2, Some(-5000)));
        assert_eq!(s.window(12), w(0, None));
        s.record(11, None);
        assert_eq!(s.window(11), w(3, Some(-5000)));
        assert_eq!(s.window(12), w(1, None));
        s.record(14, Some(-7000));
        assert_eq!(s.window(14), w(1, Some(-7000)));
        assert!(!s.is_spent(15));
        assert!(s.is_spent(16));
    }

    #[test]
    fn stray_reads_never_lead() {
        assert!(!leads(w(1, Some(-3000)), w(0, None), rule(2)));
        assert!(leads(w(2, None), w(0, None), rule(2)));
    }

    #[test]
    fn equal_bleed_never_leads_either_way() {
        let a = w(10, Some(-6000));
        let b = w(9, Some(-6200));
        assert!(!leads(a, b, rule(2)));
        assert!(!leads(b, a, rule(2)));
    }

    #[test]
    fn twice_as_often_or_clearly_stronger_leads() {
        assert!(leads(w(10, None), w(5, None), rule(2)));
        assert!(!leads(w(9, None), w(5, None), rule(2)));
        assert!(leads(w(5, Some(-5000)), w(5, Some(-5600)), rule(2)));
        assert!(!leads(w(5, Some(-5000)), w(5, Some(-5599)), rule(2)));
        assert!(
            !leads(w(3, Some(-4000)), w(5, Some(-7000)), rule(2)),
            "stronger but clearly less often"
        );
        assert!(
            leads(w(9, Some(-5000)), w(10, Some(-7000)), rule(2)),
            "both read it every round: one read less is a blip, not a lost lead"
        );
        assert!(leads(w(3, Some(-5000)), w(4, Some(-7000)), rule(2)));
    }

    #[test]
    fn each_zone_sets_its_own_rssi_margin() {
        let margin_3db = LeadRule {
            arrive_reads: 2,
            rssi_margin_cdbm: 300,
        };
        assert!(leads(w(5, Some(-5000)), w(5, Some(-5300)), margin_3db));
        assert!(!leads(w(5, Some(-5000)), w(5, Some(-5299)), margin_3db));
        assert!(
            !leads(w(5, Some(-5000)), w(5, Some(-5300)), rule(2)),
            "6 dB default"
        );
    }

    #[test]
    fn lead_must_last_for_the_hysteresis() {
        let mut b = Bleed::default();
        let home = w(1, None);
        b.record(1, 0, None);
        b.record(1, 0, None);
        assert_eq!(
            b.evaluate(home, Some(100), 0, 100, |_| rule(2), |_| 50),
            None
        );
        assert_eq!(
            b.evaluate(home, Some(149), 0, 149, |_| rule(2), |_| 50),
            None
        );
        assert_eq!(
            b.evaluate(home, Some(150), 0, 150, |_| rule(2), |_| 50),
            Some(1)
        );
        // A break in the lead restarts the clock.
        assert_eq!(
            b.evaluate(w(5, None), Some(160), 0, 160, |_| rule(2), |_| 50),
            None
        );
        assert_eq!(
            b.evaluate(home, Some(170), 0, 170, |_| rule(2), |_| 50),
            None
        );
        assert_eq!(b.challenger.map(|c| c.since_micros), Some(170));
    }

    #[test]
    fn a_lead_lasts_only_as_far_as_the_home_zone_was_watched() {
        let mut b = Bleed::default();
        let home = w(0, None);
        b.record(1, 0, None);
        b.record(1, 0, None);
        // The home reader was last heard at 90: the lead from 100 proves nothing about it.
        assert_eq!(
            b.evaluate(home, Some(90), 0, 100, |_| rule(2), |_| 50),
            None
        );
        assert_eq!(
            b.evaluate(home, Some(90), 0, 500, |_| rule(2), |_| 50),
            None
        );
        assert_eq!(
            b.evaluate(home, Some(149), 0, 600, |_| rule(2), |_| 50),
            None
        );
        // Heard again past the hysteresis: the lead held while it was watched.
        assert_eq!(
            b.evaluate(home, Some(150), 0, 601, |_| rule(2), |_| 50),
            Some(1)
        );
    }

    #[test]
    fn nothing_leads_out_of_an_uncovered_zone() {
        let mut b = Bleed::default();
        b.record(1, 0, None);
        b.record(1, 0, None);
        assert_eq!(
            b.evaluate(w(0, None), None, 0, 100, |_| rule(2), |_| 0),
            None
        );
        assert!(b.challenger.is_none());
    }
}
