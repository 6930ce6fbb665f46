//! Book stock against the count (SPEC §10): per SKU, the book count, the count over every zone but `exit` zones, the difference, and whether the count may be behind (a stale zone).

use std::collections::HashMap;

use tagtally_config::ZoneRole;

use super::book_stock::BookStock;
use super::zone_roles::ZoneRoles;
use crate::control::StockCount;

/// One SKU whose count differs from the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscrepancyLine {
    /// The SKU.
    pub sku: String,
    /// The book count (0 when counted but not on the books).
    pub book: u64,
    /// Counted over every zone but `exit` zones.
    pub counted: u64,
    /// `counted - book`.
    pub difference: i64,
    /// A zone holding it is stale, or, when no zone holds it, some counted zone is: the count
    /// may be behind the truth.
    pub stale: bool,
}

/// The discrepancies between `book` and `counts` (the committed stock table), largest absolute
/// difference first, then by SKU; SKUs that agree are left out.
pub fn reconcile(
    book: &BookStock,
    counts: &[StockCount],
    roles: &ZoneRoles,
    stale_zones: &[String],
) -> Vec<DiscrepancyLine> {
    let is_stale = |zone: &str| stale_zones.iter().any(|z| z == zone);
    // Per SKU: counted on hand, and whether a stale zone holds it.
    let mut counted: HashMap<&str, (u64, bool)> = HashMap::new();
    for count in counts {
        if roles.role_of(&count.zone) == ZoneRole::Exit {
            continue;
        }
        let entry = counted.entry(count.sku.as_str()).or_default();
        entry.0 += count.count;
        entry.1 |= is_stale(&count.zone);
    }
    let any_counted_zone_stale = stale_zones
        .iter()
        .any(|zone| roles.role_of(zone).counts_as_on_hand());
    let line = |sku: &str, book: u64, (counted, stale): (u64, bool)| {
        let difference = i64::try_from(counted)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(book).unwrap_or(i64::MAX));
        (difference != 0).then(|| DiscrepancyLine {
            sku: sku.to_owned(),
            book,
            counted,
            difference,
            stale: stale || (counted == 0 && any_counted_zone_stale),
        })
    };
    let mut lines: Vec<DiscrepancyLine> = Vec::new();
    for (sku, book_count) in &book.items {
        let here = counted.remove(sku.as_str()).unwrap_or_default();
        lines.extend(line(sku, u64::from(*book_count), here));
    }
    for (sku, here) in counted {
        lines.extend(line(sku, 0, here));
    }
    lines.sort_unstable_by(|a, b| {
        b.difference
            .unsigned_abs()
            .cmp(&a.difference.unsigned_abs())
            .then_with(|| a.sku.cmp(&b.sku))
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::BookSource;
    use tagtally_config::Config;

    fn roles() -> ZoneRoles {
        let config = Config::from_str(
            "store = \"s\"\n[[zone]]\nname = \"floor\"\nrole = \"sales-floor\"\n\
             [[zone]]\nname = \"back\"\nrole = \"stockroom\"\n\
             [[zone]]\nname = \"gate\"\nrole = \"exit\"\n\
             [[reader]]\nname = \"r\"\nkind = \"llrp\"\naddress = \"h\"\nantennas = { 1 = \"floor\" }\n\
             [mqtt]\nurl = \"mqtt://b\"\n",
            "t.toml",
        )
        .unwrap();
        ZoneRoles::from_config(&config)
    }

    fn count(zone: &str, sku: &str, count: u64) -> StockCount {
        StockCount {
            zone: zone.into(),
            sku: sku.into(),
            count,
        }
    }

    fn book(items: &[(&str, u32)]) -> BookStock {
        BookStock {
            id: "b".into(),
            as_of: "t".into(),
            source: BookSource::Import,
            items: items.iter().map(|(s, c)| ((*s).to_owned(), *c)).collect(),
        }
    }

    #[test]
    fn missing_extra_and_unbooked_skus_sorted_by_size_exit_zones_left_out() {
        let book = book(&[("agree", 3), ("missing", 5), ("short", 4), ("gone", 2)]);
        let counts = [
            count("floor", "agree", 1),
            count("back", "agree", 2),
            count("floor", "short", 3),
            count("gate", "short", 1),
            count("gate", "gone", 2),
            count("back", "unbooked", 2),
        ];
        let lines = reconcile(&book, &counts, &roles(), &[]);
        let got: Vec<(&str, u64, u64, i64)> = lines
            .iter()
            .map(|l| (l.sku.as_str(), l.book, l.counted, l.difference))
            .collect();
        assert_eq!(
            got,
            [
                ("missing", 5, 0, -5),
                ("gone", 2, 0, -2),
                ("unbooked", 0, 2, 2),
                ("short", 4, 3, -1),
            ]
        );
        assert!(lines.iter().all(|l| !l.stale));
    }

    #[test]
    fn a_stale_zone_marks_what_it_holds_and_what_nobody_holds() {
        let book = book(&[("in-back", 1), ("nowhere", 1), ("on-floor", 5)]);
        let counts = [count("back", "in-back", 3), count("floor", "on-floor", 1)];
        let lines = reconcile(&book, &counts, &roles(), &["back".to_owned()]);
        let stale: Vec<(&str, bool)> = lines.iter().map(|l| (l.sku.as_str(), l.stale)).collect();
        assert_eq!(
            stale,
            [("on-floor", false), ("in-back", true), ("nowhere", true)]
        );
        // A stale exit zone holds nothing that counts: it makes nothing stale.
        let lines = reconcile(&book, &counts, &roles(), &["gate".to_owned()]);
        assert!(lines.iter().all(|l| !l.stale));
    }
}
