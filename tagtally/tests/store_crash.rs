//! Crash safety for real: a child process runs engine + store flat out and is SIGKILLed at random moments; every reopen must hold.
//!
//! The test binary re-invokes itself as the child (`TAGTALLY_CRASH_CHILD_DB` set). The child prints each commit
//! (`COMMITTED seq payload-hex END`) only after the store returned, so everything printed is durable by contract; it
//! announces each ack (`ACKING seq END`) before making it, so a delta may be gone only if its ack was announced. After each kill the parent reopens the database and checks: it opens at all (counts equal
//! the recount of the tag state, outbox accounting consistent), the epoch never changes, every printed commit
//! that was not acknowledged is still in the outbox byte for byte, no seq exists twice with different bytes, and
//! seqs resume after the last one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tagtally::engine::{AntennaZone, Engine, EngineConfig, PresenceParams, ZoneConfig};
use tagtally::store::{OutboxItem, Store, StoreOptions, DATABASE_FILE};
use tagtally_reader_drivers::{Micros, ReaderId};

const CHILD_ENV: &str = "TAGTALLY_CRASH_CHILD_DB";
const SEED_ENV: &str = "TAGTALLY_CRASH_CHILD_SEED";
const ROUNDS: u64 = 12;
/// How long the parent waits for the child's next line before calling it hung.
const LINE_TIMEOUT: Duration = Duration::from_secs(60);

fn options() -> StoreOptions {
    StoreOptions::new("crash", 64 * 1024)
}

fn config() -> EngineConfig {
    let presence = PresenceParams {
        arrive_reads: 2,
        arrive_window: Duration::from_secs(2),
        depart_after: Duration::from_secs(3),
        move_hysteresis: Duration::from_secs(1),
        ..PresenceParams::default()
    };
    EngineConfig {
        zones: ["floor", "backroom"]
            .iter()
            .map(|n| ZoneConfig {
                name: (*n).into(),
                presence,
            })
            .collect(),
        antennas: vec![
            AntennaZone {
                reader: ReaderId(0),
                antenna: 1,
                zone: "floor".into(),
            },
            AntennaZone {
                reader: ReaderId(0),
                antenna: 2,
                zone: "backroom".into(),
            },
        ],
        sku_map: vec![],
        max_candidates: None,
        suspect_after: None,
        sentinels: Vec::new(),
    }
}

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The child: restore, then read, flush, commit and ack as fast as it can until killed.
fn child(db: &Path, seed: u64) {
    let opened = Store::open(db, options()).expect("child opens the database");
    let store = opened.store;
    let mut engine = Engine::new(&config().check().unwrap());
    engine
        .restore(opened.tags.iter().map(|t| t.as_restored()))
        .unwrap();
    let mut rng = Rng(seed | 1);
    // Each incarnation lives in its own stretch of time, after the previous one.
    let mut now = 1_776_939_300_000_000 + seed * 10_000_000_000;
    engine.reader_up(ReaderId(0), Micros(now));
    let mut out = std::io::stdout().lock();
    loop {
        for _ in 0..rng.below(400) {
            let serial = rng.below(3000);
            let mut epc = [0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0, 0];
            epc[7] = 0x40 + (serial % 4) as u8;
            epc[9..12].copy_from_slice(&(serial as u32).to_be_bytes()[1..]);
            let antenna = 1 + (rng.below(10) / 8) as u16;
            engine.observe_epc(ReaderId(0), antenna, &epc, Some(-6000), Micros(now));
        }
        now += 50_000 + rng.below(400_000);
        if let Some(delta) = engine.flush(Micros(now)) {
            if let Some(c) = store.commit(&delta).expect("commit") {
                assert_eq!(c.first_seq, c.seq, "a small flush is one seq");
                writeln!(out, "COMMITTED {} {} END", c.seq, hex(&c.payloads[0])).unwrap();
                out.flush().unwrap();
            }
        }
        if rng.below(3) == 0 {
            let oldest = store.unacked().unwrap().find_map(|i| match i.unwrap() {
                OutboxItem::Delta { seq, .. } => Some(seq),
                OutboxItem::Resync(_) => None,
            });
            if let Some(seq) = oldest {
                // Announced first: a kill between the ack's commit and its print must not look like a loss.
                writeln!(out, "ACKING {seq} END").unwrap();
                out.flush().unwrap();
                if store.ack(seq).unwrap() {
                    writeln!(out, "ACKED {seq}").unwrap();
                    out.flush().unwrap();
                }
            }
        }
    }
}

/// Notes one line of the child's; true for a commit. The test harness may print its own text before ours on a
/// line, and the kill may cut the last line short: only lines that end in `END` count.
fn record(line: &str, committed: &mut BTreeMap<u64, Vec<u8>>, acked: &mut Vec<u64>) -> bool {
    if !line.ends_with(" END") {
        return false;
    }
    if let Some(at) = line.find("COMMITTED ") {
        let mut parts = line[at..].split_whitespace().skip(1);
        let seq: u64 = parts.next().unwrap().parse().unwrap();
        let payload = unhex(parts.next().unwrap());
        if let Some(before) = committed.insert(seq, payload.clone()) {
            assert_eq!(before, payload, "seq {seq} reused with other content");
        }
        return true;
    }
    if let Some(at) = line.find("ACKING ") {
        let seq = line[at..]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        acked.push(seq);
    }
    false
}

#[test]
fn store_survives_sigkill_at_random_moments() {
    if let Ok(db) = std::env::var(CHILD_ENV) {
        let seed = std::env::var(SEED_ENV).unwrap().parse().unwrap();
        child(Path::new(&db), seed);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut epoch: Option<String> = None;
    let mut committed: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut acked: Vec<u64> = Vec::new();
    let mut total_commits = 0;

    for round in 1..=ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "store_survives_sigkill_at_random_moments",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &db)
            .env(SEED_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill after a random number of commits: the child is always mid-way through its next one.
        let kill_after = 2 + rng.below(40);
        let mut seen = 0;
        while seen < kill_after {
            let line = rx
                .recv_timeout(LINE_TIMEOUT)
                .unwrap_or_else(|e| panic!("round {round}: child silent ({e})"));
            if record(&line, &mut committed, &mut acked) {
                seen += 1;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Lines already in the pipe were durable before the kill too.
        reader.join().unwrap();
        for line in rx.try_iter() {
            record(&line, &mut committed, &mut acked);
        }
        total_commits += seen;

        let opened = Store::open(&db, options())
            .unwrap_or_else(|e| panic!("round {round}: reopen after SIGKILL: {e}"));
        let store = &opened.store;
        match &epoch {
            Some(e) => assert_eq!(store.epoch(), e, "round {round}: epoch changed"),
            None => epoch = Some(store.epoch().to_owned()),
        }
        let printed_last = committed.keys().next_back().copied().unwrap_or(0);
        assert!(
            store.last_seq() >= printed_last,
            "round {round}: last seq {} behind printed {printed_last}",
            store.last_seq()
        );
        let mut resync = None;
        let mut in_outbox = BTreeMap::new();
        for item in store.unacked().unwrap() {
            match item.unwrap() {
                OutboxItem::Resync(r) => resync = Some(r),
                OutboxItem::Delta { seq, payload } => {
                    assert!(seq <= store.last_seq());
                    in_outbox.insert(seq, payload);
                }
            }
        }
        for (seq, payload) in &committed {
            if acked.contains(seq)
                || resync.is_some_and(|r| (r.first_seq..=r.last_seq).contains(seq))
            {
                continue;
            }
            assert_eq!(
                in_outbox.get(seq),
                Some(payload),
                "round {round}: committed seq {seq} lost or changed"
            );
        }
        // Commits the child made but had no time to print are durable too: hold them to the same standard.
        for (seq, payload) in in_outbox {
            let before = committed.entry(seq).or_insert_with(|| payload.clone());
            assert_eq!(*before, payload, "round {round}: seq {seq} changed");
        }
        let mut engine = Engine::new(&config().check().unwrap());
        let restored = engine
            .restore(opened.tags.iter().map(|t| t.as_restored()))
            .unwrap();
        assert_eq!(restored.tags as usize, engine.tags_present());
    }
    assert!(total_commits >= ROUNDS * 2);
}
