//! Relationship strategy: how intensively to relate to customers, chosen from the profit
//! margin and the number of customers (the domain guide, section 2).
//!
//! ```
//! use clientele::strategy::{self, LevelConfig, MarginRatio, RelationshipLevel};
//!
//! let config = LevelConfig::default();
//! // A web shop: 8% margin, 120 000 customers.
//! let shop = strategy::select(MarginRatio::from_basis_points(800)?, 120_000, &config);
//! assert_eq!(shop.level(), RelationshipLevel::Basic);
//! assert_eq!(
//!     shop.rationale(),
//!     "low margin (8.0%) and many customers (120 000): basic marketing; reactive is the alternative"
//! );
//! // A machine maker: 45% margin, 30 distributors.
//! let maker = strategy::select(MarginRatio::from_basis_points(4500)?, 30, &config);
//! assert_eq!(maker.level(), RelationshipLevel::Partnership);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Relationship levels
//!
//! [`RelationshipLevel`], from least to most intensive (its `Ord` is this order):
//!
//! | level | what the seller does |
//! |---|---|
//! | basic | sells the product and does nothing more |
//! | reactive | sells the product and invites the customer to call with complaints or questions, which are resolved by contact |
//! | accountable | contacts the customer shortly after the sale to ask whether the product met expectations, for suggestions and for any dissatisfaction; this feedback improves the company |
//! | proactive | contacts customers from time to time with ideas about the product they bought or about new products |
//! | partnership | works continuously with customers to retain them and grow together |
//!
//! # The matrix
//!
//! Most companies use basic marketing when margins are low and customers many, and
//! partnership when margins are high and customers few. [`MATRIX`] is the textbook table
//! (Kotler, *Principles of Marketing*) as data; [`select`] reads it, and this table is
//! [`markdown_matrix`]'s output (a test checks that they agree):
//!
//! | customers ↓ / margin → | high | medium | low |
//! |---|---|---|---|
//! | many | accountable | reactive | basic or reactive |
//! | medium | proactive | accountable | reactive |
//! | few | partnership | proactive | accountable |
//!
//! In the one cell with two levels, [`LevelConfig::prefer`] picks the primary one (basic by
//! default) and the [`Selection`] names the other as its
//! [alternative](Selection::alternative). Along every row a higher margin never lowers the
//! level, and down every column fewer customers never lower it.
//!
//! # Classes and thresholds
//!
//! A [`MarginRatio`] is kept exactly, as margin over revenue in integers (minor units, or
//! basis points over 10 000), and classified [`MarginClass::Low`], `Medium` or `High` by
//! [`MarginThresholds`] (medium from 10%, high from 30% by default). A count of customers is
//! classified [`CustomerVolume::Few`], `Medium` or `Many` by [`VolumeThresholds`] (medium
//! from 100, many from 10 000 by default). Bounds are inclusive and must be strictly
//! increasing; [`LevelConfig`] holds both and the preference, with serde and defaults.
//!
//! # Segments
//!
//! [`select_for_segment`] chooses a level for a segment from a
//! [`SegmentReport`](crate::segment::SegmentReport): its members are the customer count and
//! its average margin over the purchases with a known cost is the margin. A segment without
//! any cost data is [`StrategyError::NoCostData`]; the caller decides what margin to assume,
//! if any, and calls [`select`].
//!
//! # RFM
//!
//! [`rfm`] (also at the crate root, [`crate::rfm`], since segments read it too) scores
//! customers by recency, frequency and monetary value, as quintiles of the population as of a
//! date, and places them in the usual named groups.
//!
//! Everything here is pure: no store, no clock, no I/O.

mod error;
mod level;
mod margin;
pub use crate::rfm;

pub use self::{
    error::StrategyError,
    level::{
        Cell, CustomerVolume, LevelConfig, MATRIX, MarginClass, MarginThresholds, MatrixEntry, Preference,
        RelationshipLevel, Selection, VolumeThresholds, cell, markdown_matrix, select, select_for_segment,
    },
    margin::MarginRatio,
};
