//! Store operations (SPEC §10) as the engine task carries them out: count sessions, the departures
//! ledger behind `stock --departures`, and reading a handheld app's export for `count import`.
//!
//! The engine applies a count or a sale ([`crate::engine::Engine::apply_count`],
//! [`crate::engine::Engine::sell`]); what lives here is what surrounds that: which sessions are
//! open and what they have seen ([`CountDesk`]), how long departures are remembered
//! ([`DepartureLedger`]), and the bounded, line-by-line reading of an import file ([`import_file`]).
//! The engine task (`run/operations.rs`) ties them to the control socket, the store and the uplink.

mod book_assembly;
mod book_csv;
mod book_stock;
mod bounded_lines;
mod count_desk;
mod count_session;
mod departures;
pub mod import_file;
mod reconcile;
mod replenish;
mod zone_roles;

pub use book_assembly::{Assembled, BookAssembly, BookPart};
pub use book_csv::{read_book_csv, BookCsvError, MAX_BOOK_LINE_BYTES};
pub use book_stock::{
    check_label, BookBuilder, BookError, BookSource, BookStock, MAX_BOOK_LABEL_BYTES,
};
pub use count_desk::{CountDesk, DeskError, MAX_CANCELLED_KEPT, MAX_SEEN_EPCS};
pub use count_session::{CountSession, SessionSource};
pub use departures::{DepartureLedger, MAX_DEPARTURES_KEPT};
pub use reconcile::{reconcile, DiscrepancyLine};
pub use replenish::{pick_list, PickLine};
pub use zone_roles::ZoneRoles;
