//! An embeddable CRM core: typed customer lifecycle, customer data model and pluggable
//! storage, for Rust applications that need to know their customers.
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use clientele::{Clock, Crm, Currency, Customer, CustomerId, ManualClock, MemoryStore, Money, Purchase, Stage};
//!
//! let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap());
//! let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
//!
//! let id = CustomerId::new(1);
//! let mut mona = Customer::new(id, "Mona", clock.now());
//! mona.interests.insert("sports");
//! crm.insert(mona)?;
//!
//! let egp = Currency::new("EGP")?;
//! crm.record_purchase(id, Purchase::new(clock.now(), Money::parse("450.00", egp)?))?;
//! clock.advance(Duration::days(20));
//! crm.record_purchase(id, Purchase::new(clock.now(), Money::parse("120.50", egp)?))?;
//!
//! let mona = crm.get(id)?;
//! assert_eq!(mona.stage(), Stage::Repeat);
//! assert_eq!(mona.purchases().activity().total(egp), Money::parse("570.50", egp)?);
//! assert_eq!(crm.history(id)?.len(), 2); // suspect → first_time → repeat
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`Customer`]: profile (name, birth date, gender, income, location), interests, lifestyle
//!   and needs tags, preferred and opted-out [`Channel`]s, loyalty card, credit standing,
//!   referrals, typed custom [`Attributes`], [purchases](PurchaseHistory) with aggregates
//!   and windowed figures as of any date, and the lifecycle position.
//! - [`lifecycle`]: the stages of the customer development process as a state machine. The
//!   legal moves are one table, [`lifecycle::RULES`], with guards; a
//!   [`LifecyclePolicy`](lifecycle::LifecyclePolicy) moves customers automatically, downgrades
//!   included; [`Funnel`](lifecycle::Funnel) analytics come from the histories.
//! - [`strategy`]: the relationship level (basic, reactive, accountable, proactive,
//!   partnership) for a business or a [`segment`], from its margin and number of customers,
//!   read from the textbook matrix [`strategy::MATRIX`], with a rationale; RFM scores; and
//!   [contact plans](strategy::ContactPlan) that turn levels and lifecycle stages into dated
//!   tasks on the channels customers accept.
//! - [`Store`]: storage through a small, object-safe trait; [`MemoryStore`] is the embedded
//!   default. Writes are [`Change`]s committed atomically with optimistic concurrency.
//! - [`Crm`]: the façade tying a store, a [`Clock`] and the policy together, with
//!   [`Observer`]s told of each committed transition.
//! - [`live`]: live segments. [`LiveStore`] wraps a store and keeps registered segments'
//!   membership exact on every write and as time passes, with entry and exit events.
//!
//! # Usage
//!
//! Money is integer minor units ([`Money`]) and exact decimals ([`Decimal`]); no floating
//! point touches an amount. Time comes from a [`Clock`]: [`SystemClock`] in production,
//! [`ManualClock`] in tests and simulations, so every result is reproducible.
//!
//! # Input safety
//!
//! Data from outside is checked against documented [`limits`] when deserialized and on every
//! store write; a breach is a [`ValidationError`] naming the field, never a panic, and a
//! failed write changes nothing.
//!
//! # Crate features
//!
//! The in-memory store is always compiled; each database store is behind a feature of its
//! own. No feature is on by default.
//!
//! - `sqlite`: `SqliteStore` (in [`store`]), a store in an SQLite file or in memory, with a
//!   versioned schema the crate creates and migrates. It needs `rusqlite` with SQLite
//!   compiled from source (its `bundled` feature, so no system SQLite is needed, but a C
//!   compiler is) and `serde_json` for the customer data column.
//! - `postgres`: `PostgresStore` (in [`store`]), a store in a PostgreSQL database, with a
//!   small connection pool and a versioned schema the crate creates and migrates. It needs the
//!   synchronous `postgres` client (pure Rust; no libpq) and `serde_json`.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod crm;
mod customer;
mod error;
pub mod lifecycle;
pub mod live;
mod money;
pub mod rfm;
pub mod segment;
pub mod store;
pub mod strategy;
pub mod synth;
mod validation;
mod window;

pub use crate::{
    clock::{Clock, ManualClock, SystemClock},
    crm::{Crm, Observer, PolicyReport},
    customer::{
        Activity, AttrValue, Attributes, Channel, ChannelSet, Channels, CountryCode, CreditStanding, Customer,
        CustomerId, Gender, Generation, Location, Loyalty, Profile, Purchase, PurchaseHistory, TagSet, UnknownChannel,
        age_on,
    },
    error::{Error, StoreError},
    lifecycle::{Event, LifecycleState, Stage, Transition},
    live::LiveStore,
    money::{Currency, Decimal, Money, NumberError},
    store::{Change, MemoryStore, Store},
    validation::{ValidationError, limits},
    window::{Window, WindowError, WindowUnit},
};

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use crate::store::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use crate::store::SqliteStore;

/// The README's code blocks, compiled and run as doctests so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
