//! The store on a disk that runs out of room, deterministically: a redb backend over the real file that
//! refuses to grow it (ENOSPC), to write anything (the header included), or to sync, on demand. Checks the
//! error classification, that a failed write leaves the store readable at its last commit, that the same
//! delta committed again gets the same seq, and that a write which reached the file after all is caught.

use std::fs::OpenOptions;
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use redb::backends::FileBackend;
use redb::{BackendError, Database, StorageBackend};
use tagtally::engine::{CountChange, Delta, Placement, TagChange};
use tagtally::store::{Opener, Store, StoreError, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Epc, Micros};

/// What the file system lets the database do; shared by every handle the store opens.
#[derive(Debug)]
struct Room {
    /// No byte at or beyond this offset can be written, and the file cannot grow past it.
    cap: AtomicU64,
    /// `sync_data` fails with ENOSPC (ext4 with delayed allocation reports a full disk there).
    sync_fails: AtomicBool,
    /// Every write fails with EIO: a dying disk, not a full one.
    broken: AtomicBool,
}

impl Room {
    fn new() -> Arc<Room> {
        Arc::new(Room {
            cap: AtomicU64::new(u64::MAX),
            sync_fails: AtomicBool::new(false),
            broken: AtomicBool::new(false),
        })
    }

    fn cap(&self, bytes: u64) {
        self.cap.store(bytes, Ordering::SeqCst);
    }

    fn unlimited(&self) {
        self.cap(u64::MAX);
        self.sync_fails.store(false, Ordering::SeqCst);
        self.broken.store(false, Ordering::SeqCst);
    }

    fn check(&self, end: u64) -> io::Result<()> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(5));
        }
        if end > self.cap.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(28));
        }
        Ok(())
    }
}

/// The real file backend, with the room of [`Room`].
#[derive(Debug)]
struct Disk {
    file: FileBackend,
    room: Arc<Room>,
}

impl StorageBackend for Disk {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        if len > self.file.len()? {
            self.room.check(len)?;
        }
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        if self.room.sync_fails.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(28));
        }
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.room.check(offset + data.len() as u64)?;
        self.file.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

fn opener(room: &Arc<Room>) -> Opener {
    let room = Arc::clone(room);
    Opener::new(move |path| {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        Database::builder().create_with_backend(Disk {
            file: FileBackend::new(file)?,
            room: Arc::clone(&room),
        })
    })
}

fn options() -> StoreOptions {
    StoreOptions::new("paris-01", 64 << 20)
}

fn open(path: &Path, room: &Arc<Room>) -> Store {
    Store::open_with(path, options(), opener(room))
        .expect("open")
        .store
}

fn epc(n: u32) -> Epc {
    let s = n.to_be_bytes();
    Epc::from_slice(&[
        0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, s[0], s[1], s[2], s[3],
    ])
    .unwrap()
}

/// Tags `first..first + n` arrive on the floor; the floor's count goes from `first` to `first + n`.
fn arrivals(first: u32, n: u32) -> Delta {
    let (zone, sku): (Arc<str>, Arc<str>) = (Arc::from("floor"), Arc::from("80614141123458"));
    Delta {
        time: Micros(1_776_939_300_000_000 + u64::from(first)),
        changes: vec![CountChange {
            zone: zone.clone(),
            sku: sku.clone(),
            delta: i64::from(n),
            count: first + n,
        }],
        tag_changes: (first..first + n)
            .map(|t| TagChange {
                epc: epc(t),
                placement: Some(Placement {
                    zone: zone.clone(),
                    sku: sku.clone(),
                }),
                departure: None,
            })
            .collect(),
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn outbox_seqs(store: &Store) -> Vec<u64> {
    store
        .read_deltas(0, usize::MAX)
        .expect("the outbox reads")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect()
}

fn assert_out_of_space(e: &StoreError) {
    let io = e
        .out_of_space()
        .unwrap_or_else(|| panic!("not classified as out of space: {e}"));
    assert_eq!(io.kind(), io::ErrorKind::StorageFull, "{e}");
}

/// The disk fills up while the database needs to grow: the commit fails as out of space, the store
/// still reads at its last commit, the retry fails the same way while the disk stays full, and once
/// there is room the same delta commits with the seq it would have had. Nothing is lost or doubled.
#[test]
fn a_commit_that_needs_room_fails_cleanly_and_the_retry_gets_the_same_seq() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let room = Room::new();
    let store = open(&path, &room);
    assert_eq!(store.commit(&arrivals(0, 10)).unwrap().unwrap().seq, 1);
    // No room beyond what the file has now: commits go on in the free pages it holds, until it must grow.
    room.cap(file_len(&path));
    let mut tags = 10;
    let (failed, error) = loop {
        let delta = arrivals(tags, 50);
        match store.commit(&delta) {
            Ok(c) => {
                assert_eq!(c.unwrap().seq, store.last_seq());
                tags += 50;
                assert!(tags < 2_000_000, "the file never had to grow");
            }
            Err(e) => break (delta, e),
        }
    };
    assert_out_of_space(&error);
    let last = store.last_seq();
    eprintln!(
        "the file ({} bytes) had to grow at seq {} after {tags} tags: {error}",
        file_len(&path),
        last + 1
    );
    assert!(last >= 2, "no commit went into the free pages");
    assert_eq!(
        outbox_seqs(&store),
        (1..=last).collect::<Vec<_>>(),
        "reads work after the failed commit"
    );

    assert_eq!(
        store.counts().expect("committed counts read"),
        vec![("floor".into(), "80614141123458".into(), tags)],
        "the committed counts, without the failed delta"
    );
    for _ in 0..3 {
        let again = store.commit(&failed).expect_err("still no room");
        assert_out_of_space(&again);
        assert_eq!(store.last_seq(), last, "a failed commit used no seq");
        assert_eq!(outbox_seqs(&store), (1..=last).collect::<Vec<_>>());
    }

    room.unlimited();
    let committed = store.commit(&failed).unwrap().unwrap();
    assert_eq!(
        committed.seq,
        last + 1,
        "the retried delta gets the next seq"
    );
    let text = String::from_utf8(committed.payloads.concat()).unwrap();
    assert!(text.contains(&format!("\"seq\":{}", last + 1)), "{text}");
    drop(store);

    // What a restart finds: every committed tag once, and the outbox of every seq.
    let reopened = Store::open(&path, options()).unwrap();
    assert_eq!(reopened.tags.len() as u32, tags + 50);
    assert_eq!(reopened.store.last_seq(), last + 1);
    assert_eq!(
        outbox_seqs(&reopened.store),
        (1..=last + 1).collect::<Vec<_>>()
    );
}

/// Not even the header can be written: the reopen after the failure fails too, so reads say the store
/// is closed; the next write reopens it once there is room again, and acknowledgements that could not be
/// written then go through.
#[test]
fn when_nothing_can_be_written_the_store_closes_and_the_next_write_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let room = Room::new();
    let store = open(&path, &room);
    store.commit(&arrivals(0, 3)).unwrap();
    store.commit(&arrivals(3, 3)).unwrap();
    room.cap(0);
    assert_out_of_space(&store.ack_all(&[1]).expect_err("no room for the ack"));
    assert!(
        matches!(store.read_deltas(0, 10), Err(StoreError::Closed { .. })),
        "reads while closed"
    );
    assert_out_of_space(&store.commit(&arrivals(6, 3)).expect_err("still no room"));
    assert_eq!(store.outbox_stats().deltas, 2);

    room.unlimited();
    assert_eq!(store.ack_all(&[1]).unwrap(), 1);
    assert_eq!(outbox_seqs(&store), vec![2]);
    assert_eq!(store.commit(&arrivals(6, 3)).unwrap().unwrap().seq, 3);
}

/// The disk reports full only when syncing (delayed allocation): the commit's bytes reached the file
/// although the commit failed. The reopen must notice that the file is past the commit the store
/// knew, rather than let the same delta be committed twice under two seqs.
#[test]
fn a_failed_commit_that_reached_the_file_is_caught_as_diverged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let room = Room::new();
    let store = open(&path, &room);
    store.commit(&arrivals(0, 3)).unwrap();
    room.sync_fails.store(true, Ordering::SeqCst);
    assert_out_of_space(&store.commit(&arrivals(3, 3)).expect_err("sync fails"));
    room.unlimited();
    let e = store
        .commit(&arrivals(3, 3))
        .expect_err("the file is past the store's last commit");
    assert!(matches!(e, StoreError::Diverged { .. }), "{e}");
    assert!(e.out_of_space().is_none());
    assert!(e.to_string().contains("restart"), "{e}");
}

/// A write error that is not about room (EIO) is not classified as out of space: the daemon stops on it.
#[test]
fn an_io_error_that_is_not_about_room_is_not_out_of_space() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let room = Room::new();
    let store = open(&path, &room);
    store.commit(&arrivals(0, 3)).unwrap();
    room.broken.store(true, Ordering::SeqCst);
    let e = store.commit(&arrivals(3, 3)).expect_err("eio");
    assert!(e.out_of_space().is_none(), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert_eq!(store.last_seq(), 1);
}
