-- Schema version 1: customers, their purchases, lifecycle history, tags and attributes.
--
-- The SQLite schema version 1 (src/store/sqlite/migrations/0001_initial.sql) table for table
-- and column for column, in PostgreSQL types: every integer is BIGINT, and every text column
-- is TEXT COLLATE "C", compared byte by byte as in SQLite, whatever the database's locale.
--
-- Encodings (the same as in SQLite; see src/store/rows.rs, which fills them, and
-- src/segment/sql.rs, which reads them):
-- - Ids: the u64 customer id mapped order-preservingly onto i64 (top bit flipped, read as
--   two's complement), so that ids sort as unsigned numbers.
-- - Instants (`*_ns`): nanoseconds since the Unix epoch (UTC). A customer with an instant
--   outside what that holds (before 1677-09-21 or after 2262-04-11) has it clamped and
--   `rust_only = 1`: segment queries evaluate such rows in Rust.
-- - Dates (`*_day`): day numbers, 0001-01-01 being day 1.
-- - `*_fold` and text values: ASCII-lowercased copies, for comparisons that ignore ASCII case.
-- - Channel sets: bitmasks (bit i for the i-th channel of `Channel::ALL`).
-- - `data`: the record as JSON (serde), the source of truth on read; the other columns are
--   copies kept in step with it on every write, for segment queries.

CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    -- Optimistic concurrency: every committed update adds one.
    version BIGINT NOT NULL CHECK (version >= 1),
    -- The customer as JSON (serde), without its purchases and version.
    data TEXT COLLATE "C" NOT NULL,
    rust_only BIGINT NOT NULL CHECK (rust_only IN (0, 1)),
    stage TEXT COLLATE "C" NOT NULL,
    gender TEXT COLLATE "C" NOT NULL,
    credit TEXT COLLATE "C" NOT NULL,
    referrals BIGINT NOT NULL,
    exclusive BIGINT NOT NULL CHECK (exclusive IN (0, 1)),
    birth_day BIGINT,
    country TEXT COLLATE "C",
    region_fold TEXT COLLATE "C",
    city_fold TEXT COLLATE "C",
    income_minor BIGINT,
    income_currency TEXT COLLATE "C",
    loyalty_day BIGINT,
    created_ns BIGINT NOT NULL,
    stage_since_ns BIGINT NOT NULL,
    last_purchase_ns BIGINT,
    reachable BIGINT NOT NULL,
    preferred BIGINT NOT NULL,
    opted_out BIGINT NOT NULL
);

-- Indexes for the common segment fields.
CREATE INDEX customers_stage ON customers (stage);
CREATE INDEX customers_country_city ON customers (country, city_fold);
CREATE INDEX customers_birth_day ON customers (birth_day);
CREATE INDEX customers_last_purchase ON customers (last_purchase_ns);
CREATE INDEX customers_rust_only ON customers (rust_only) WHERE rust_only = 1;

CREATE TABLE purchases (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    -- Recording order within the customer; purchases read back are ordered by time, ties
    -- in this order.
    seq BIGINT NOT NULL,
    at_ns BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    -- The purchase as JSON (serde).
    data TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, seq)
);

-- Windowed counts and sums per customer (`purchases(last 90 days)`, `spent(...)`).
CREATE INDEX purchases_customer_at ON purchases (customer_id, at_ns);

CREATE TABLE transitions (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    -- Commit order within the customer: the history is read back in this order.
    seq BIGINT NOT NULL,
    at_ns BIGINT NOT NULL,
    from_stage TEXT COLLATE "C" NOT NULL,
    to_stage TEXT COLLATE "C" NOT NULL,
    -- The transition as JSON (serde).
    data TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, seq)
);

-- Interests, lifestyle and needs (by list name), and the items of text-list attributes
-- (list `attr:<name>`, ASCII-lowercased).
CREATE TABLE tags (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    list TEXT COLLATE "C" NOT NULL,
    tag TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, list, tag)
);

CREATE INDEX tags_list_tag ON tags (list, tag);

-- Custom attributes, one row each: `kind` is the value's type name; integers, money (minor
-- units, with `currency`), dates (day numbers), booleans (0/1) and text-list sizes in
-- `int_value`; texts (ASCII-lowercased) and decimals in `text_value`.
CREATE TABLE attributes (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    int_value BIGINT,
    text_value TEXT COLLATE "C",
    currency TEXT COLLATE "C",
    PRIMARY KEY (customer_id, name)
);

CREATE INDEX attributes_name_kind ON attributes (name, kind, int_value);
