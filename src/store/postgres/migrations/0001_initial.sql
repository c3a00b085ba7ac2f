-- Schema version 1: customers, their purchases and their lifecycle history.
--
-- The same tables and columns as the SQLite store's version 1, in PostgreSQL types: every
-- integer is BIGINT, every text column compares byte-wise (COLLATE "C", as SQLite does).
-- Ids: `customers.id` holds the u64 customer id mapped order-preservingly onto i64 (the id
-- with its top bit flipped, read as two's complement), so that ids sort as unsigned numbers.
-- Instants are microseconds since the Unix epoch (UTC); dates are ISO `YYYY-MM-DD` text.

CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    -- Optimistic concurrency: every committed update adds one.
    version BIGINT NOT NULL CHECK (version >= 1),
    -- The customer as JSON (serde), without its purchases and version.
    data TEXT COLLATE "C" NOT NULL,
    -- Copies of common segment fields, kept in step with `data` on every write, for the
    -- segment pushdown to come.
    stage TEXT COLLATE "C" NOT NULL,
    country TEXT COLLATE "C",
    city TEXT COLLATE "C",
    birth_date TEXT COLLATE "C",
    last_purchase_at BIGINT
);

CREATE INDEX customers_stage ON customers (stage);
CREATE INDEX customers_country_city ON customers (country, city);
CREATE INDEX customers_birth_date ON customers (birth_date);
CREATE INDEX customers_last_purchase_at ON customers (last_purchase_at);

CREATE TABLE purchases (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    -- Recording order within the customer; purchases read back are ordered by time, ties
    -- in this order.
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    -- The purchase as JSON (serde).
    data TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, seq)
);

CREATE INDEX purchases_at ON purchases (at);

CREATE TABLE transitions (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    -- Commit order within the customer: the history is read back in this order.
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    from_stage TEXT COLLATE "C" NOT NULL,
    to_stage TEXT COLLATE "C" NOT NULL,
    -- The transition as JSON (serde).
    data TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, seq)
);
