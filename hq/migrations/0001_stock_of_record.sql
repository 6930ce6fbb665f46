-- tagtally hq: the chain's stock of record (SPEC §11). Applied once, at start, under an
-- advisory lock (hq/src/db/migrate.rs); never edited after release: a change is a new file.

-- One row per store: what the apply rules decide with, locked (FOR UPDATE) by every
-- transaction that touches the store, so instances never apply one store at once.
CREATE TABLE hq_stores (
    store             text PRIMARY KEY,
    -- '' until the store's first epoch is heard of; epochs sort by creation as plain strings.
    epoch             text NOT NULL DEFAULT '',
    -- every seq up to applied_seq is in hq_stock
    applied_seq       bigint NOT NULL DEFAULT 0 CHECK (applied_seq >= 0),
    -- the highest seq the store is known to have committed (deltas, status heartbeats)
    known_seq         bigint NOT NULL DEFAULT 0 CHECK (known_seq >= 0),
    -- the newest status applied, in SPEC §6.3 order (epoch, boot, connection, offline last,
    -- time as sent: RFC 3339 UTC text); its state is `online` (online or disk_full)
    status_epoch      text,
    status_boot       bigint,
    status_connection bigint,
    status_time       text,
    online            boolean NOT NULL DEFAULT false,
    disk_full         boolean NOT NULL DEFAULT false,
    last_heard        timestamptz NOT NULL DEFAULT now(),
    last_snapshot_id  text,
    last_snapshot_seq bigint,
    last_snapshot_at  timestamptz,
    stale_zones       text[] NOT NULL DEFAULT '{}',
    replays_asked     bigint NOT NULL DEFAULT 0,
    snapshots_asked   bigint NOT NULL DEFAULT 0,
    first_heard       timestamptz NOT NULL DEFAULT now()
);

-- The stock: one row per (store, zone, sku) ever counted; 0 once it empties.
CREATE TABLE hq_stock (
    store   text NOT NULL REFERENCES hq_stores ON DELETE CASCADE,
    zone    text NOT NULL,
    sku     text NOT NULL,
    count   bigint NOT NULL CHECK (count >= 0),
    -- the seq (of the store's current epoch) that set this count
    seq     bigint NOT NULL,
    updated timestamptz NOT NULL,
    PRIMARY KEY (store, zone, sku)
);
CREATE INDEX hq_stock_by_sku ON hq_stock (sku);

-- Deltas that arrived ahead of a gap, waiting for it to close.
CREATE TABLE hq_pending (
    store    text NOT NULL REFERENCES hq_stores ON DELETE CASCADE,
    epoch    text NOT NULL,
    seq      bigint NOT NULL,
    -- [[zone, sku, count], ...]
    changes  jsonb NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store, epoch, seq)
);

-- Parts of split snapshots until every part of one snapshot_id is there.
CREATE TABLE hq_snapshot_parts (
    store       text NOT NULL REFERENCES hq_stores ON DELETE CASCADE,
    snapshot_id text NOT NULL,
    part        integer NOT NULL,
    parts       integer NOT NULL,
    epoch       text NOT NULL,
    seq         bigint NOT NULL,
    -- [[zone, sku, count], ...]
    counts      jsonb NOT NULL,
    received    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store, snapshot_id, part)
);

-- Every delta applied, once: the primary key makes a second application of one
-- (store, epoch, seq) fail its transaction. Rows older than an hour are pruned.
CREATE TABLE hq_applied (
    store   text NOT NULL,
    epoch   text NOT NULL,
    seq     bigint NOT NULL,
    applied timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store, epoch, seq)
);
CREATE INDEX hq_applied_by_time ON hq_applied (applied);

-- The open gap of a store (applied_seq + 1 ..= known_seq) and when to ask for it next.
CREATE TABLE hq_gaps (
    store    text PRIMARY KEY REFERENCES hq_stores ON DELETE CASCADE,
    epoch    text NOT NULL,
    from_seq bigint NOT NULL,
    to_seq   bigint NOT NULL,
    opened   timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_ask timestamptz NOT NULL
);
CREATE INDEX hq_gaps_by_next_ask ON hq_gaps (next_ask);

-- Every cmd/replay and cmd/snapshot sent.
CREATE TABLE hq_requests (
    id         bigserial PRIMARY KEY,
    store      text NOT NULL,
    epoch      text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('replay', 'snapshot')),
    from_seq   bigint NOT NULL,
    to_seq     bigint NOT NULL,
    request_id text NOT NULL,
    asked      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hq_requests_by_store ON hq_requests (store, asked);

-- The latest readers/{reader} message of each store's readers.
CREATE TABLE hq_readers (
    store   text NOT NULL REFERENCES hq_stores ON DELETE CASCADE,
    reader  text NOT NULL,
    payload jsonb NOT NULL,
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store, reader)
);
