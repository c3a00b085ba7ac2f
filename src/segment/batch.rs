//! Batch evaluation over a [`Snapshot`]: the bound predicate is planned once into column
//! kernels, then evaluated block by block into a [`Bitmap`], on one thread or several.
//!
//! Each leaf kernel is a tight loop over one or two primitive columns that packs 64 results
//! into a word; `and`/`or`/`not` combine whole words and skip the remaining operands of a
//! block once its result is decided.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    ast::Activity,
    bitmap::Bitmap,
    eval::text_matches,
    ir::{
        BoolField, ChannelField, DateField, InstantField, IntField, Leaf, MoneyField, Pred, Presence, Range, RfmPart,
        TagField, TextField,
    },
    snapshot::{
        AttrColumn, DictColumn, NO_CODE, NO_DATE, Snapshot, TagColumn, TimeKey, Times, count_upto, country_code,
        day_number,
    },
};
use crate::{customer::Generation, money::Decimal};

/// Rows per block: 32 words, small enough for every buffer of a block to stay in L1.
const BLOCK_WORDS: usize = 32;
const BLOCK_ROWS: usize = BLOCK_WORDS * 64;

/// A planned predicate over one snapshot's columns.
enum Kernel<'s> {
    Const(bool),
    And(Vec<Kernel<'s>>),
    Or(Vec<Kernel<'s>>),
    Not(Box<Kernel<'s>>),
    /// A result computed once for all rows (tags).
    Rows(Vec<u64>),
    /// `mask >> col[row] & 1`.
    Mask(&'s [u8], u32),
    I32(&'s [i32], i32, i32),
    I64(&'s [i64], i64, i64),
    /// Exact instant keys (see [`Times`]) in `[lo, hi]`.
    I128(&'s [i128], i128, i128),
    OptI64(&'s [Option<i64>], i64, i64),
    OptDecimal(&'s [Option<Decimal>], Range<Decimal>),
    OptBool(&'s [Option<bool>], bool),
    Bool(&'s [bool], bool),
    /// A date column that is present (not [`NO_DATE`]) or, with `false`, absent.
    DatePresent(&'s [i32], bool),
    NonEmpty(&'s [bool]),
    Country(&'s [u16], Box<[u64; 11]>),
    /// Dictionary codes whose value matches.
    Dict(&'s [u32], Vec<bool>),
    DictPresent(&'s [u32]),
    /// Channel bits: `(preferred, opted out to remove)`, mask, and all-or-any.
    Channels(&'s [u16], Option<&'s [u16]>, u16, bool),
    Purchases(Purchases<'s, i64>),
    PurchasesExact(Purchases<'s, i128>),
}

/// A purchase-derived test over the window `(start, as_of]`, with instants as the snapshot's
/// [`TimeKey`]s: `start` and `as_of` are the greatest keys at or before them.
struct Purchases<'s, K> {
    snap: &'s Snapshot,
    times: &'s [K],
    start: Option<K>,
    as_of: K,
    test: PurchaseTest<K>,
}

/// What a purchase kernel tests, with instants before they become keys.
#[derive(Clone, Copy)]
enum Wanted {
    Count(i64, i64),
    Spent(i64, i64),
    /// The first (`true`) or last purchase up to `as_of` is in the range.
    Instant(bool, Range<DateTime<Utc>>),
}

#[derive(Clone, Copy)]
enum PurchaseTest<K> {
    /// The number in the window is in `[lo, hi]`.
    Count(i64, i64),
    /// The spend in the window is in `[lo, hi]`.
    Spent(i64, i64),
    /// The first (`true`) or last purchase up to `as_of` is in `[lo, hi]`.
    Instant(bool, K, K),
}

/// Inclusive integer bounds of a range (an empty range gives `lo > hi`).
fn int_bounds(r: &Range<i64>) -> (i64, i64) {
    let lo = r.lo.map_or(i64::MIN, |(v, incl)| if incl { v } else { v.saturating_add(1) });
    let hi = r.hi.map_or(i64::MAX, |(v, incl)| if incl { v } else { v.saturating_sub(1) });
    if matches!(r.lo, Some((v, false)) if v == i64::MAX) || matches!(r.hi, Some((v, false)) if v == i64::MIN) {
        return (1, 0);
    }
    (lo, hi)
}

/// Inclusive day-number bounds of a date range; missing dates ([`NO_DATE`]) never fall in.
fn day_bounds(r: &Range<NaiveDate>) -> (i32, i32) {
    let lo = r.lo.map_or(NO_DATE + 1, |(d, incl)| day_number(d).saturating_add(i32::from(!incl)));
    let hi = r.hi.map_or(i32::MAX, |(d, incl)| day_number(d).saturating_sub(i32::from(!incl)));
    (lo.max(NO_DATE + 1), hi)
}

/// Inclusive [`TimeKey`] bounds of an instant range.
fn time_bounds<K: TimeKey>(r: &Range<DateTime<Utc>>) -> (K, K) {
    let lo = r.lo.map_or(K::MIN, |(t, incl)| K::lower(t, incl));
    let hi = r.hi.map_or(K::MAX, |(t, incl)| K::upper(t, incl));
    (lo, hi)
}

/// Rows whose tag column holds any (or all) of `tags`, as whole-snapshot words.
fn tag_rows(col: &TagColumn, tags: &[String], all: bool, len: usize) -> Vec<u64> {
    let words = len.div_ceil(64);
    let posting = |t: &String| {
        let mut w = vec![0u64; words];
        for &row in col.postings.get(t).map_or(&[][..], Vec::as_slice) {
            w[row as usize / 64] |= 1 << (row % 64);
        }
        w
    };
    let mut out = if all { vec![u64::MAX; words] } else { vec![0; words] };
    for t in tags {
        let p = posting(t);
        for (o, x) in out.iter_mut().zip(&p) {
            if all { *o &= x } else { *o |= x }
        }
    }
    Bitmap::from_words(out, len).words().to_vec()
}

/// The birth-day ranges of the generations in `mask`.
fn generation_days(mask: u8) -> Vec<(i32, i32)> {
    Generation::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .filter_map(|(_, g)| {
            let (first, last) = g.birth_years();
            Some((
                day_number(NaiveDate::from_ymd_opt(first, 1, 1)?),
                day_number(NaiveDate::from_ymd_opt(last, 12, 31)?),
            ))
        })
        .collect()
}

fn dict_matching(col: &DictColumn, f: impl Fn(&str) -> bool) -> Vec<bool> {
    col.values.iter().map(|v| f(v)).collect()
}

/// Plans a bound predicate over `snap`'s columns.
fn plan<'s>(p: &Pred, snap: &'s Snapshot, as_of: DateTime<Utc>) -> Kernel<'s> {
    match p {
        Pred::Const(b) => Kernel::Const(*b),
        Pred::And(items) => {
            // Cheap column tests first: the purchase kernels, which search each row's purchases,
            // then only run on the rows still in (see `fill`). `and` has no side effects, so
            // the order does not change the answer.
            let mut kernels: Vec<Kernel<'s>> = items.iter().map(|i| plan(i, snap, as_of)).collect();
            kernels.sort_by_key(|k| matches!(k, Kernel::Purchases(_)));
            Kernel::And(kernels)
        }
        Pred::Or(items) => Kernel::Or(items.iter().map(|i| plan(i, snap, as_of)).collect()),
        Pred::Not(inner) => Kernel::Not(Box::new(plan(inner, snap, as_of))),
        Pred::Leaf(leaf) => plan_leaf(leaf, snap, as_of),
    }
}

/// A purchase kernel over the window `(start, as_of]`, in the keys of the snapshot's layout.
fn purchases(snap: &Snapshot, start: Option<DateTime<Utc>>, as_of: DateTime<Utc>, test: Wanted) -> Kernel<'_> {
    fn make<'s, K: TimeKey>(
        snap: &'s Snapshot,
        times: &'s [K],
        start: Option<DateTime<Utc>>,
        as_of: DateTime<Utc>,
        test: Wanted,
    ) -> Purchases<'s, K> {
        let test = match test {
            Wanted::Count(lo, hi) => PurchaseTest::Count(lo, hi),
            Wanted::Spent(lo, hi) => PurchaseTest::Spent(lo, hi),
            Wanted::Instant(first, r) => {
                let (lo, hi) = time_bounds(&r);
                PurchaseTest::Instant(first, lo, hi)
            }
        };
        let upper = |t: DateTime<Utc>| K::upper(t, true);
        Purchases { snap, times, start: start.map(upper), as_of: upper(as_of), test }
    }
    match &snap.times {
        Times::Nanos(cols) => Kernel::Purchases(make(snap, &cols.purchase_at, start, as_of, test)),
        Times::Exact(cols) => Kernel::PurchasesExact(make(snap, &cols.purchase_at, start, as_of, test)),
    }
}

fn attr<'s>(snap: &'s Snapshot, name: &str) -> Option<&'s AttrColumn> {
    snap.attributes.get(name)
}

fn plan_leaf<'s>(leaf: &Leaf, snap: &'s Snapshot, as_of: DateTime<Utc>) -> Kernel<'s> {
    let none = Kernel::Const(false);
    match leaf {
        Leaf::Stage(m) => Kernel::Mask(&snap.stage, u32::from(*m)),
        Leaf::Gender(m) => Kernel::Mask(&snap.gender, u32::from(*m)),
        Leaf::Credit(m) => Kernel::Mask(&snap.credit, u32::from(*m)),
        // Group column values are positions plus one, 0 for none.
        Leaf::RfmGroup(m) => Kernel::Mask(&snap.rfm[3], u32::from(*m) << 1),
        Leaf::Generation(m) => {
            Kernel::Or(generation_days(*m).into_iter().map(|(lo, hi)| Kernel::I32(&snap.birth, lo, hi)).collect())
        }
        Leaf::Int(f, r) => {
            let (lo, hi) = int_bounds(r);
            match f {
                IntField::Referrals => Kernel::I64(&snap.referrals, lo, hi),
                IntField::Rfm(part) => {
                    // Scores are 1 to 5 (0 for none): the range as a mask of scores.
                    let mask = (1..=5i64).filter(|v| lo <= *v && *v <= hi).fold(0u32, |m, v| m | 1 << v);
                    let col = match part {
                        RfmPart::R => &snap.rfm[0],
                        RfmPart::F => &snap.rfm[1],
                        RfmPart::M => &snap.rfm[2],
                    };
                    Kernel::Mask(col, mask)
                }
                IntField::Purchases => purchases(snap, None, as_of, Wanted::Count(lo, hi)),
                IntField::Attr(n) => match attr(snap, n) {
                    Some(AttrColumn::Int(col)) => Kernel::OptI64(col, lo, hi),
                    _ => none,
                },
            }
        }
        Leaf::Money(f, r) => {
            let (lo, hi) = int_bounds(r);
            match f {
                MoneyField::Spent => purchases(snap, None, as_of, Wanted::Spent(lo, hi)),
                MoneyField::Income => Kernel::OptI64(&snap.income, lo, hi),
                MoneyField::Attr(n) => match attr(snap, n) {
                    Some(AttrColumn::Money(col)) => Kernel::OptI64(col, lo, hi),
                    _ => none,
                },
            }
        }
        Leaf::Decimal(n, r) => match attr(snap, n) {
            Some(AttrColumn::Decimal(col)) => Kernel::OptDecimal(col, *r),
            _ => none,
        },
        Leaf::Date(f, r) => {
            let (lo, hi) = day_bounds(r);
            match f {
                DateField::BirthDate => Kernel::I32(&snap.birth, lo, hi),
                DateField::LoyaltyJoined => Kernel::I32(&snap.loyalty_joined, lo, hi),
                DateField::Attr(n) => match attr(snap, n) {
                    Some(AttrColumn::Date(col)) => Kernel::I32(col, lo, hi),
                    _ => none,
                },
            }
        }
        Leaf::Instant(f, r) => match (f, &snap.times) {
            (InstantField::FirstPurchase, _) => purchases(snap, None, as_of, Wanted::Instant(true, *r)),
            (InstantField::LastPurchase, _) => purchases(snap, None, as_of, Wanted::Instant(false, *r)),
            (InstantField::CreatedAt, Times::Nanos(cols)) => {
                let (lo, hi) = time_bounds(r);
                Kernel::I64(&cols.created_at, lo, hi)
            }
            (InstantField::StageSince, Times::Nanos(cols)) => {
                let (lo, hi) = time_bounds(r);
                Kernel::I64(&cols.stage_since, lo, hi)
            }
            (InstantField::CreatedAt, Times::Exact(cols)) => {
                let (lo, hi) = time_bounds(r);
                Kernel::I128(&cols.created_at, lo, hi)
            }
            (InstantField::StageSince, Times::Exact(cols)) => {
                let (lo, hi) = time_bounds(r);
                Kernel::I128(&cols.stage_since, lo, hi)
            }
        },
        Leaf::ActivitySince(a, start, at, r) => {
            let (lo, hi) = int_bounds(r);
            let test = match a {
                Activity::Purchases => Wanted::Count(lo, hi),
                Activity::Spent => Wanted::Spent(lo, hi),
            };
            purchases(snap, *start, *at, test)
        }
        // Relative leaves are fixed by binding before planning; plan the bound form.
        Leaf::Age(_) | Leaf::InstantWithin(..) | Leaf::DateWithin(..) | Leaf::Activity(..) => {
            plan(&super::eval::bind(&Pred::Leaf(leaf.clone()), as_of), snap, as_of)
        }
        Leaf::Text(f, op, patterns) => {
            let col = match f {
                TextField::Region => &snap.region,
                TextField::City => &snap.city,
                TextField::Attr(n) => match attr(snap, n) {
                    Some(AttrColumn::Text(col)) => col,
                    _ => return none,
                },
            };
            Kernel::Dict(&col.codes, dict_matching(col, |v| text_matches(v, *op, patterns)))
        }
        Leaf::Country(codes) => {
            let mut table = Box::new([0u64; 11]);
            for c in codes {
                let k = usize::from(country_code(*c));
                table[k / 64] |= 1 << (k % 64);
            }
            Kernel::Country(&snap.country, table)
        }
        Leaf::Tags(f, all, tags) => {
            let col = match f {
                TagField::Interests => &snap.interests,
                TagField::Lifestyle => &snap.lifestyle,
                TagField::Needs => &snap.needs,
                TagField::Attr(n) => match attr(snap, n) {
                    Some(AttrColumn::TextList(col)) => col,
                    _ => return none,
                },
            };
            Kernel::Rows(tag_rows(col, tags, *all, snap.len()))
        }
        Leaf::Channels(f, all, mask) => match f {
            ChannelField::Reachable => Kernel::Channels(&snap.preferred, Some(&snap.opted_out), *mask, *all),
            ChannelField::Preferred => Kernel::Channels(&snap.preferred, None, *mask, *all),
            ChannelField::OptedOut => Kernel::Channels(&snap.opted_out, None, *mask, *all),
        },
        Leaf::Bool(f, want) => match f {
            BoolField::LoyaltyMember => Kernel::DatePresent(&snap.loyalty_joined, *want),
            BoolField::Exclusive => Kernel::Bool(&snap.exclusive, *want),
            BoolField::Attr(n) => match attr(snap, n) {
                Some(AttrColumn::Bool(col)) => Kernel::OptBool(col, *want),
                _ => none,
            },
        },
        Leaf::IsSet(p) => match p {
            Presence::Generation => Kernel::Or(
                generation_days(0b1_1111).into_iter().map(|(lo, hi)| Kernel::I32(&snap.birth, lo, hi)).collect(),
            ),
            Presence::BirthDate => Kernel::DatePresent(&snap.birth, true),
            // An age exists from the birth date on.
            Presence::Age => Kernel::I32(&snap.birth, NO_DATE + 1, day_number(as_of.date_naive())),
            Presence::Country => {
                Kernel::Not(Box::new(Kernel::Country(&snap.country, Box::new([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))))
            }
            Presence::Region => Kernel::DictPresent(&snap.region.codes),
            Presence::City => Kernel::DictPresent(&snap.city.codes),
            Presence::Interests => Kernel::NonEmpty(&snap.interests.nonempty),
            Presence::Lifestyle => Kernel::NonEmpty(&snap.lifestyle.nonempty),
            Presence::Needs => Kernel::NonEmpty(&snap.needs.nonempty),
            Presence::Channels(f) => plan_leaf(&Leaf::Channels(*f, false, u16::MAX), snap, as_of),
            Presence::LoyaltyJoined => Kernel::DatePresent(&snap.loyalty_joined, true),
            Presence::AnyPurchase => purchases(snap, None, as_of, Wanted::Count(1, i64::MAX)),
            Presence::Rfm => Kernel::Mask(&snap.rfm[3], !1),
            Presence::Income => Kernel::OptI64(&snap.income, i64::MIN, i64::MAX),
            Presence::Attr(n, _) => match attr(snap, n) {
                Some(AttrColumn::Bool(c)) => Kernel::Or(vec![Kernel::OptBool(c, true), Kernel::OptBool(c, false)]),
                Some(AttrColumn::Int(c) | AttrColumn::Money(c)) => Kernel::OptI64(c, i64::MIN, i64::MAX),
                Some(AttrColumn::Decimal(c)) => Kernel::OptDecimal(c, Range { lo: None, hi: None }),
                Some(AttrColumn::Text(c)) => Kernel::DictPresent(&c.codes),
                Some(AttrColumn::Date(c)) => Kernel::DatePresent(c, true),
                Some(AttrColumn::TextList(c)) => Kernel::NonEmpty(&c.nonempty),
                None => none,
            },
        },
    }
}

/// Packs `cond(col[j])` for the rows of one block into words.
#[inline]
fn map_bits<T: Copy>(col: &[T], out: &mut [u64], cond: impl Fn(T) -> bool) {
    for (word, chunk) in out.iter_mut().zip(col.chunks(64)) {
        let mut acc = 0u64;
        for (j, &v) in chunk.iter().enumerate() {
            acc |= u64::from(cond(v)) << j;
        }
        *word = acc;
    }
}

/// Packs `cond(row)` for the rows `row0..row0 + n` into words.
#[inline]
fn row_bits(row0: usize, n: usize, out: &mut [u64], cond: impl Fn(usize) -> bool) {
    for (w, word) in out.iter_mut().enumerate() {
        let base = row0 + w * 64;
        let m = n.saturating_sub(w * 64).min(64);
        let mut acc = 0u64;
        for j in 0..m {
            acc |= u64::from(cond(base + j)) << j;
        }
        *word = acc;
    }
}

impl<K: TimeKey> Purchases<'_, K> {
    /// The row's purchases up to `as_of`, and those in the window, as global index ranges.
    #[inline]
    fn window(&self, row: usize) -> (usize, usize, usize) {
        let (start, end) = self.snap.purchases_of(row);
        let times = &self.times[start..end];
        let upto = count_upto(times, self.as_of);
        let from = match self.start {
            None => 0,
            Some(s) => times[..upto].partition_point(|&t| t <= s),
        };
        (start, start + from, start + upto)
    }

    #[inline]
    fn test(&self, row: usize) -> bool {
        let (first, from, upto) = self.window(row);
        match self.test {
            PurchaseTest::Count(lo, hi) => {
                let n = i64::try_from(upto - from).unwrap_or(i64::MAX);
                lo <= n && n <= hi
            }
            PurchaseTest::Spent(lo, hi) => {
                let s = self.snap.spent_between(row, from, upto);
                lo <= s && s <= hi
            }
            PurchaseTest::Instant(is_first, lo, hi) => {
                if upto == first {
                    return false;
                }
                let t = self.times[if is_first { first } else { upto - 1 }];
                lo <= t && t <= hi
            }
        }
    }
}

/// Evaluates `k` for rows `row0..row0 + n` (`row0` a multiple of 64) into `out`
/// (`n.div_ceil(64)` words, bits past `n` zero).
fn fill(k: &Kernel<'_>, row0: usize, n: usize, out: &mut [u64]) {
    let end = row0 + n;
    match k {
        Kernel::Const(b) => {
            out.fill(if *b { u64::MAX } else { 0 });
            clear_tail(out, n);
        }
        Kernel::And(items) => {
            let mut tmp = [0u64; BLOCK_WORDS];
            let tmp = &mut tmp[..out.len()];
            let mut first = true;
            for item in items {
                if first {
                    fill(item, row0, n, out);
                    first = false;
                    continue;
                }
                if out.iter().all(|w| *w == 0) {
                    return;
                }
                if let Kernel::Purchases(p) = item {
                    // Test only the rows still in.
                    refine(out, row0, |row| p.test(row));
                    continue;
                }
                fill(item, row0, n, tmp);
                out.iter_mut().zip(tmp.iter()).for_each(|(o, t)| *o &= t);
            }
        }
        Kernel::Or(items) => {
            let mut tmp = [0u64; BLOCK_WORDS];
            let tmp = &mut tmp[..out.len()];
            out.fill(0);
            for item in items {
                fill(item, row0, n, tmp);
                out.iter_mut().zip(tmp.iter()).for_each(|(o, t)| *o |= t);
                if full(out, n) {
                    return;
                }
            }
        }
        Kernel::Not(inner) => {
            fill(inner, row0, n, out);
            out.iter_mut().for_each(|w| *w = !*w);
            clear_tail(out, n);
        }
        Kernel::Rows(words) => out.copy_from_slice(&words[row0 / 64..row0 / 64 + out.len()]),
        Kernel::Mask(col, mask) => map_bits(&col[row0..end], out, |v| (mask >> v) & 1 != 0),
        Kernel::I32(col, lo, hi) => map_bits(&col[row0..end], out, |v| *lo <= v && v <= *hi),
        Kernel::I64(col, lo, hi) => map_bits(&col[row0..end], out, |v| *lo <= v && v <= *hi),
        Kernel::I128(col, lo, hi) => map_bits(&col[row0..end], out, |v| *lo <= v && v <= *hi),
        Kernel::OptI64(col, lo, hi) => map_bits(&col[row0..end], out, |v| v.is_some_and(|v| *lo <= v && v <= *hi)),
        Kernel::OptDecimal(col, r) => map_bits(&col[row0..end], out, |v| v.is_some_and(|v| r.contains(v))),
        Kernel::OptBool(col, want) => map_bits(&col[row0..end], out, |v| v == Some(*want)),
        Kernel::Bool(col, want) => map_bits(&col[row0..end], out, |v| v == *want),
        Kernel::DatePresent(col, want) => map_bits(&col[row0..end], out, |v| (v != NO_DATE) == *want),
        Kernel::NonEmpty(col) => map_bits(&col[row0..end], out, |v| v),
        Kernel::Country(col, table) => {
            map_bits(&col[row0..end], out, |v| table[usize::from(v) / 64] >> (v % 64) & 1 != 0)
        }
        Kernel::Dict(codes, matching) => {
            map_bits(&codes[row0..end], out, |c| c != NO_CODE && matching.get(c as usize).copied().unwrap_or(false))
        }
        Kernel::DictPresent(codes) => map_bits(&codes[row0..end], out, |c| c != NO_CODE),
        Kernel::Channels(pref, opt, mask, all) => {
            let pref = &pref[row0..end];
            for (w, word) in out.iter_mut().enumerate() {
                let lo = w * 64;
                let hi = (lo + 64).min(n);
                let mut acc = 0u64;
                for j in lo..hi {
                    let bits = pref[j] & !opt.map_or(0, |o| o[row0 + j]);
                    let hit = if *all { bits & mask == *mask } else { bits & mask != 0 };
                    acc |= u64::from(hit) << (j - lo);
                }
                *word = acc;
            }
        }
        Kernel::Purchases(p) => row_bits(row0, n, out, |row| p.test(row)),
        Kernel::PurchasesExact(p) => row_bits(row0, n, out, |row| p.test(row)),
    }
}

/// Keeps the set bits of `out` whose rows pass `test`, testing no other row.
#[inline]
fn refine(out: &mut [u64], row0: usize, test: impl Fn(usize) -> bool) {
    for (w, word) in out.iter_mut().enumerate() {
        let mut bits = *word;
        let mut keep = 0u64;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            if test(row0 + w * 64 + j) {
                keep |= 1 << j;
            }
            bits &= bits - 1;
        }
        *word = keep;
    }
}

fn clear_tail(out: &mut [u64], n: usize) {
    let used = n % 64;
    if used != 0 {
        if let Some(last) = out.get_mut(n / 64) {
            *last &= (1u64 << used) - 1;
        }
    }
}

/// Whether every row of the block is set.
fn full(out: &[u64], n: usize) -> bool {
    let whole = n / 64;
    out[..whole].iter().all(|w| *w == u64::MAX) && (n % 64 == 0 || out[whole] == (1u64 << (n % 64)) - 1)
}

/// Evaluates the bound predicate `p` over every row of `snap`, on `threads` threads.
pub(crate) fn evaluate(p: &Pred, snap: &Snapshot, as_of: DateTime<Utc>, threads: usize) -> Bitmap {
    let kernel = plan(p, snap, as_of);
    let len = snap.len();
    let mut words = vec![0u64; len.div_ceil(64)];
    let blocks = len.div_ceil(BLOCK_ROWS);
    let threads = threads.clamp(1, blocks.max(1));
    let blocks_per_thread = blocks.div_ceil(threads);
    let run = |first_block: usize, out: &mut [u64]| {
        for (b, chunk) in out.chunks_mut(BLOCK_WORDS).enumerate() {
            let row0 = (first_block + b) * BLOCK_ROWS;
            let n = (len - row0).min(BLOCK_ROWS);
            fill(&kernel, row0, n, chunk);
        }
    };
    if threads == 1 {
        run(0, &mut words);
    } else {
        std::thread::scope(|scope| {
            for (t, part) in words.chunks_mut(blocks_per_thread * BLOCK_WORDS).enumerate() {
                let run = &run;
                scope.spawn(move || run(t * blocks_per_thread, part));
            }
        });
    }
    Bitmap::from_words(words, len)
}
