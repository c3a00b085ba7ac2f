//! A compiled segment and its evaluators.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{
    Bitmap, Snapshot,
    ast::Expr,
    batch,
    check::check,
    closure,
    error::SegmentError,
    eval::{Ctx, bind, eval},
    ir::Pred,
    reads::Reads,
    schema::Schema,
    sql,
};
use crate::{customer::Customer, money::Currency};

use super::error::ErrorKind;

/// A checked, compiled segment: compile once, evaluate many times.
///
/// # Example
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use clientele::{CountryCode, Customer, CustomerId, segment::{Schema, Segment}};
///
/// let segment = Segment::compile(r#"age between 25 and 40 and country = "EG""#, &Schema::default())?;
///
/// let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
/// let mut mona = Customer::new(CustomerId::new(1), "Mona", now);
/// mona.profile.birth_date = NaiveDate::from_ymd_opt(1995, 3, 14);
/// mona.profile.location.country = Some(CountryCode::new("EG")?);
/// assert!(segment.matches(&mona, now));
///
/// // For many customers as of one instant, bind once.
/// let matcher = segment.at(now);
/// assert!(matcher.matches(&mona));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    expr: Expr,
    pred: Pred,
    currency: Currency,
    rfm: Option<std::sync::Arc<crate::rfm::RfmScores>>,
    /// What `pred` reads (computed once).
    reads: Reads,
}

impl Segment {
    /// Parses and checks `text` against `schema` (and its limits).
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] that renders with the source line and a caret under the problem.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Schema, Segment};
    /// let err = Segment::compile(r#"age = "old""#, &Schema::default()).unwrap_err();
    /// assert!(err.to_string().starts_with("error: `age` is a whole number, but the value is text"));
    /// ```
    pub fn compile(text: &str, schema: &Schema) -> Result<Segment, SegmentError> {
        let source = std::sync::Arc::from(text);
        let expr = Expr::parse_with(text, schema.limits())?;
        Segment::from_expr(expr, schema).map_err(|e| e.with_source(&source))
    }

    /// Checks a tree (from JSON or the builder) against `schema`.
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] naming the problem.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Schema, Segment};
    /// let expr: Expr = serde_json::from_str(r#"{"condition": {"operand": {"field": "loyalty_member"}, "test": "is_true"}}"#)?;
    /// let segment = Segment::from_expr(expr, &Schema::default())?;
    /// assert_eq!(segment.to_string(), "loyalty_member");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_expr(expr: Expr, schema: &Schema) -> Result<Segment, SegmentError> {
        let pred = check(&expr, schema)?;
        let reads = pred.reads();
        Ok(Segment { expr, pred, currency: schema.currency(), rfm: schema.rfm().cloned(), reads })
    }

    /// The syntax tree it was compiled from.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Expr, Schema, Segment};
    /// let s = Segment::compile("AGE >= 18", &Schema::default())?;
    /// assert_eq!(s.expr(), &"age >= 18".parse::<Expr>()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Whether `customer` is in the segment as of `as_of`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
    /// let s = Segment::compile("stage = suspect", &Schema::default())?;
    /// assert!(s.matches(&Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH), DateTime::UNIX_EPOCH));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn matches(&self, customer: &Customer, as_of: DateTime<Utc>) -> bool {
        eval(&self.pred, customer, &self.ctx(as_of))
    }

    /// The segment as a SQL `WHERE` fragment for `dialect`, with every time-relative test
    /// fixed at `as_of`: what the SQL stores run to evaluate a segment in the database.
    ///
    /// Parts with no SQL form (RFM scores, decimal attributes) or too complex for the
    /// database's parser are left for Rust: the fragment then selects a superset of the
    /// members and says so ([`SqlFilter::is_exact`](sql::SqlFilter::is_exact)). See the
    /// [`sql`] module for the semantics and the table layout it reads.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use clientele::segment::{Schema, Segment, sql::{Dialect, SqlParam}};
    /// let s = Segment::compile("purchases(last 30 days) >= 2", &Schema::default())?;
    /// let f = s.to_sql(Dialect::Sqlite, Utc.with_ymd_and_hms(2026, 1, 31, 0, 0, 0).unwrap());
    /// assert_eq!(
    ///     f.sql(),
    ///     "(SELECT COUNT(*) FROM purchases p WHERE p.customer_id = c.id AND p.at_ns >= ?1 AND p.at_ns <= ?2) >= ?3"
    /// );
    /// assert_eq!(f.params()[2], SqlParam::Int(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_sql(&self, dialect: sql::Dialect, as_of: DateTime<Utc>) -> sql::SqlFilter {
        sql::filter(&bind(&self.pred, as_of), dialect, as_of, self.currency)
    }

    /// The segment fixed at `as_of`, for evaluating many customers: time-relative tests
    /// (ages, trailing windows) are turned into fixed bounds once.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
    /// let s = Segment::compile("created_at within 7 days", &Schema::default())?;
    /// let m = s.at(DateTime::UNIX_EPOCH);
    /// assert!(m.matches(&Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at(&self, as_of: DateTime<Utc>) -> Matcher {
        let ctx = self.ctx(as_of);
        let pred = bind(&self.pred, as_of);
        Matcher { row: closure::compile(&pred, ctx.clone()), ctx }
    }
}

impl Segment {
    /// The members among all rows of `snapshot` as of `as_of`, on this thread: the same
    /// answer as [`matches`](Self::matches) for each customer, computed column by column.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::CurrencyMismatch`] if the snapshot was built for another currency than
    /// the schema the segment was compiled against.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment, Snapshot}};
    /// let schema = Schema::default();
    /// let mut customers: Vec<Customer> = (1..=100).map(|i| Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH)).collect();
    /// customers[7].referrals = 3;
    /// let snap = Snapshot::build(&customers, &schema);
    /// let members = Segment::compile("referrals >= 2", &schema)?.evaluate(&snap, DateTime::UNIX_EPOCH)?;
    /// assert_eq!(members.iter().collect::<Vec<_>>(), [7]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate(&self, snapshot: &Snapshot, as_of: DateTime<Utc>) -> Result<Bitmap, SegmentError> {
        self.evaluate_parallel(snapshot, as_of, 1)
    }

    /// As [`evaluate`](Self::evaluate), splitting the rows over `threads` threads (scoped
    /// threads of the standard library; 1 runs on the calling thread).
    ///
    /// # Errors
    ///
    /// As [`evaluate`](Self::evaluate).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment, Snapshot}};
    /// let schema = Schema::default();
    /// let customers: Vec<Customer> = (1..=10_000).map(|i| Customer::new(CustomerId::new(i), "x", DateTime::UNIX_EPOCH)).collect();
    /// let snap = Snapshot::build(&customers, &schema);
    /// let s = Segment::compile("stage = suspect", &schema)?;
    /// assert_eq!(s.evaluate_parallel(&snap, DateTime::UNIX_EPOCH, 4)?.count(), 10_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate_parallel(
        &self,
        snapshot: &Snapshot,
        as_of: DateTime<Utc>,
        threads: usize,
    ) -> Result<Bitmap, SegmentError> {
        if snapshot.currency() != self.currency {
            let kind = ErrorKind::CurrencyMismatch { segment: self.currency, snapshot: snapshot.currency() };
            return Err(SegmentError::new(kind, None));
        }
        Ok(batch::evaluate(&bind(&self.pred, as_of), snapshot, as_of, threads))
    }
}

impl Segment {
    /// Why `customer` is or is not in the segment as of `as_of`: every clause as written,
    /// with its value and the customer's actual values. `schema` must be the one the segment
    /// was compiled against (it resolves named segments and attributes).
    ///
    /// # Errors
    ///
    /// A [`SegmentError`] if `schema` no longer accepts the segment (e.g. a named segment it
    /// refers to was redefined into something invalid).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
    ///
    /// let schema = Schema::default();
    /// let segment = Segment::compile("referrals >= 2 or loyalty_member", &schema)?;
    /// let mut c = Customer::new(CustomerId::new(7), "Ada", DateTime::UNIX_EPOCH);
    /// c.referrals = 3;
    ///
    /// let why = segment.explain(&c, DateTime::UNIX_EPOCH, &schema)?;
    /// assert!(why.matched);
    /// let actual: Vec<_> = why.root.children.iter().map(|k| (k.value, k.actual.as_deref())).collect();
    /// assert_eq!(actual, [(true, Some("referrals = 3")), (false, Some("loyalty_member = false"))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`Explanation`](super::Explanation) shows the tree as text.
    pub fn explain(
        &self,
        customer: &Customer,
        as_of: DateTime<Utc>,
        schema: &Schema,
    ) -> Result<super::Explanation, SegmentError> {
        super::explain::explain(&self.expr, customer, as_of, schema)
    }
}

impl Segment {
    /// The earliest instant after `t` at which the segment's value for `customer` can change
    /// with no write, time passing only; `None` when it never can (or only after the last
    /// representable instant).
    ///
    /// Membership is the same at every instant in `[t, horizon)`: `matches(customer, u) ==
    /// matches(customer, t)` for all `t <= u < horizon`. For a single condition the horizon
    /// is exact (the value at the horizon differs); for `and`/`or` it may be an instant at
    /// which the value turns out the same, after which one asks again. The rules per
    /// operator and the boundary conventions are in the [module docs](super#time-and-horizons).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use clientele::{Currency, Customer, CustomerId, Money, Purchase, segment::{Schema, Segment}};
    ///
    /// let t = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 30).unwrap();
    /// let bought = t - Duration::days(10);
    /// let c = Customer::new(CustomerId::new(1), "Ada", bought - Duration::days(1))
    ///     .with_purchases(vec![Purchase::new(bought, Money::new(1_000, Currency::EGP))])?;
    ///
    /// let schema = Schema::new(Currency::EGP);
    /// let recent = Segment::compile("last_purchase within 30 days", &schema)?;
    /// // In the window (start, t] until the start reaches the purchase, 30 days after it.
    /// let h = recent.horizon(&c, t).unwrap();
    /// assert_eq!(h, bought + Duration::days(30));
    /// assert!(recent.matches(&c, h - Duration::nanoseconds(1)) && !recent.matches(&c, h));
    ///
    /// // Nothing about time here: never.
    /// assert_eq!(Segment::compile("referrals > 2", &schema)?.horizon(&c, t), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn horizon(&self, customer: &Customer, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.reads.is_time_dependent() {
            return None;
        }
        self.pred.horizon(customer, &self.ctx(t))
    }

    /// The first instant after `t` at which the segment's value for `customer` actually
    /// differs from `value`, its value at `t`; `None` when it never does (or only after the
    /// last representable instant).
    ///
    /// The caller guarantees `value == self.matches(customer, t)`. The answer is what asking
    /// [`horizon`](Self::horizon) again while the value at it turns out the same gives:
    ///
    /// ```text
    /// let mut h = segment.horizon(c, t)?;
    /// while segment.matches(c, h) == value {
    ///     h = segment.horizon(c, h)?;
    /// }
    /// Some(h)
    /// ```
    ///
    /// but cheaper: the value is not evaluated again, and since every level of the
    /// computation is exact, nothing is confirmed afterwards; compound segments only evaluate
    /// the children that can decide them at the instants where they could change.
    pub(crate) fn next_change(&self, customer: &Customer, t: DateTime<Utc>, value: bool) -> Option<DateTime<Utc>> {
        if !self.reads.is_time_dependent() {
            return None;
        }
        self.pred.next_change(value, customer, &self.ctx(t))
    }

    /// The parts of a customer the segment reads, and whether it depends on time: a write
    /// whose [`Reads::changed`] does not intersect it cannot change the customer's
    /// membership, at any instant. Named segments it refers to are included.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::segment::{Reads, Schema, Segment};
    /// let mut schema = Schema::default();
    /// schema.define("adults", "age >= 18")?;
    /// let s = Segment::compile(r#"segment "adults" and city = "Cairo""#, &schema)?;
    /// assert_eq!(s.reads(), Reads::BIRTH_DATE | Reads::LOCATION | Reads::TIME);
    /// assert!(s.reads().profile() && !s.reads().purchases());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reads(&self) -> Reads {
        self.reads
    }
}

impl Segment {
    fn ctx(&self, as_of: DateTime<Utc>) -> Ctx {
        Ctx { as_of, currency: self.currency, rfm: self.rfm.clone() }
    }
}

impl fmt::Display for Segment {
    /// The canonical text of the segment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

/// A [`Segment`] fixed at one instant and compiled for fast row evaluation. See
/// [`Segment::at`].
///
/// # Example
///
/// ```
/// use chrono::{DateTime, Duration};
/// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
///
/// let t0 = DateTime::UNIX_EPOCH;
/// let customers: Vec<Customer> = [0, 40, 80]
///     .into_iter()
///     .zip(1..)
///     .map(|(day, id)| Customer::new(CustomerId::new(id), "x", t0 + Duration::days(day)))
///     .collect();
/// let segment = Segment::compile("created_at within 30 days", &Schema::default())?;
/// let matcher = segment.at(t0 + Duration::days(90));
/// let recent: Vec<CustomerId> = customers.iter().filter(|c| matcher.matches(c)).map(Customer::id).collect();
/// assert_eq!(recent, [CustomerId::new(3)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Matcher {
    row: closure::RowFn,
    ctx: Ctx,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher").field("as_of", &self.ctx.as_of).finish_non_exhaustive()
    }
}

impl Matcher {
    /// Whether `customer` is in the segment at the matcher's instant.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, segment::{Schema, Segment}};
    /// let matcher = Segment::compile("referrals > 0", &Schema::default())?.at(DateTime::UNIX_EPOCH);
    /// let mut c = Customer::new(CustomerId::new(1), "x", DateTime::UNIX_EPOCH);
    /// assert!(!matcher.matches(&c));
    /// c.referrals = 1;
    /// assert!(matcher.matches(&c));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn matches(&self, customer: &Customer) -> bool {
        (self.row)(customer)
    }

    /// The instant it evaluates at.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::segment::{Schema, Segment};
    /// let s = Segment::compile("age >= 18", &Schema::default())?;
    /// assert_eq!(s.at(DateTime::UNIX_EPOCH).as_of(), DateTime::UNIX_EPOCH);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_of(&self) -> DateTime<Utc> {
        self.ctx.as_of
    }
}
