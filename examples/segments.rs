//! Segments: define customer segments in text, check that each is worth targeting, see how
//! they overlap, and find out why one customer is in a segment.
//!
//! A segment must be *large enough* to meet the financial needs of the company and the
//! product, and *reachable by promotional means*. This example takes 20 000 synthetic
//! customers of a retailer selling in Egyptian pounds and walks through the segmentation
//! API step by step:
//!
//! 1. a [`Schema`]: the currency and the custom attributes the segments may use;
//! 2. named segments in the segment language, one of them built on another;
//! 3. a columnar [`Snapshot`] of the customers, evaluated once per segment;
//! 4. a [`SegmentReport`](clientele::segment::SegmentReport) per segment: size, revenue,
//!    margin, reach by channel, and a verdict against an [`AnalyticsConfig`];
//! 5. the pairwise overlap of the segments;
//! 6. what a typo in a segment looks like;
//! 7. one customer's membership, clause by clause.
//!
//! Run it with
//!
//! ```text
//! cargo run --example segments
//! ```
//!
//! The population is generated from a fixed seed and observed at a fixed instant, so the
//! output is the same on every run and every machine.

use clientele::{
    Currency,
    segment::{self, AnalyticsConfig, AttrType, BasisPoints, Bitmap, Schema, Segment, Snapshot},
    synth::Population,
};

/// The segments, by name, in the segment language.
///
/// `last_purchase within 90 days` is a trailing window ending at the evaluation instant, so
/// the same text gives a different answer next month: segments are evaluated *as of* a date.
const SEGMENTS: &[(&str, &str)] = &[
    // Demographics and geography.
    ("young_egypt", r#"age between 18 and 30 and country = "EG""#),
    // Buying habits: spend over the last year, in EGP (the schema's currency).
    ("high_value", "spent(last 365 days) >= 15000.00"),
    // Regular buyers who have gone quiet for three months, but not yet for a year: the
    // customers a win-back campaign should reach before they are lost.
    ("at_risk", "purchases >= 2 and last_purchase within 365 days and not last_purchase within 90 days"),
    // Interests, and a medium: only customers who prefer the web and did not opt out of it.
    ("sports_fans", r#"interests has any ("sports", "football", "fitness") and channels has web"#),
    // A segment built on another: `segment "high_value"` means "in the high_value segment".
    ("loyal_high_value", r#"segment "high_value" and loyalty_member"#),
    // Survey answers, stored as custom attributes declared in the schema.
    ("promoters", "attr.nps >= 9 and attr.survey_done"),
    // Lost customers we cannot reach by email, text or web: a win-back campaign would have
    // to use mass media, which many of them do not prefer either.
    ("lost_offline", "stage = lost and not channels has any (email, sms, web)"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // -------------------------------------------------------------------------------------
    // 1. The population and the schema
    // -------------------------------------------------------------------------------------

    let population = Population::new(7);
    let customers = population.customers(20_000);
    let as_of = population.as_of();
    println!("{} customers, observed as of {as_of}\n", customers.len());

    // Money literals such as `15000.00` are in the schema's currency, and so is the revenue
    // in the reports. Custom attributes must be declared with their type before segments can
    // test them: `attr.nps >= 9` is checked against `nps: int` when it is compiled.
    let mut schema = Schema::new(Currency::new("EGP")?)
        .with_attribute("nps", AttrType::Int)?
        .with_attribute("survey_done", AttrType::Bool)?;

    // -------------------------------------------------------------------------------------
    // 2. Named segments
    // -------------------------------------------------------------------------------------

    // Defining every segment in the schema first lets any of them refer to another by name.
    for (name, text) in SEGMENTS {
        schema.define(name, text)?;
    }
    // Compiling checks fields, types and references once; evaluation is then cheap.
    let mut compiled = Vec::new();
    for (name, text) in SEGMENTS {
        compiled.push((*name, Segment::compile(text, &schema)?));
    }

    // -------------------------------------------------------------------------------------
    // 3. A snapshot, evaluated once per segment
    // -------------------------------------------------------------------------------------

    // A snapshot is a columnar copy of the customers, laid out for evaluating many segments
    // over many customers. Each evaluation gives the members as a bitmap over its rows.
    let snapshot = Snapshot::build(&customers, &schema);
    let mut members: Vec<(&str, Bitmap)> = Vec::new();
    for (name, segment) in &compiled {
        members.push((name, segment.evaluate(&snapshot, as_of)?));
    }

    // -------------------------------------------------------------------------------------
    // 4. Is each segment worth targeting?
    // -------------------------------------------------------------------------------------

    // Our thresholds: at least 500 members, at least 2% of all revenue to date, and at least
    // 80% of members reachable by some channel they prefer and have not opted out of.
    let config = AnalyticsConfig {
        min_members: 500,
        min_revenue_share: BasisPoints::new(200)?,
        min_reach_share: BasisPoints::new(8_000)?,
        preview: 5,
    };
    println!("== Segment reports ==\n");
    for ((name, segment), (_, rows)) in compiled.iter().zip(&members) {
        // `segment::analyze(segment, &snapshot, as_of, &config)` evaluates and analyses in one
        // step; with the members already at hand, `analyze_members` reuses them.
        let report = segment::analyze_members(rows, &snapshot, as_of, &config)?;
        println!("-- {name}: {segment}");
        println!("{report}");
    }

    // -------------------------------------------------------------------------------------
    // 5. How the segments overlap
    // -------------------------------------------------------------------------------------

    // For each pair: the members in both, as a share of each segment, and the Jaccard index
    // (members of both over members of either).
    let named: Vec<(&str, &Bitmap)> = members.iter().map(|(name, rows)| (*name, rows)).collect();
    let table = segment::overlap(&named)?;
    println!("== Overlap ==\n");
    println!("{table}");
    if let Some(pair) = table.pair("loyal_high_value", "high_value") {
        println!(
            "every loyal_high_value member is high_value: {} of {} ({})\n",
            pair.both(),
            pair.first_members(),
            pair.share_of_first()
        );
    }

    // -------------------------------------------------------------------------------------
    // 6. A typo
    // -------------------------------------------------------------------------------------

    // Segment text often comes from people. Errors point at the problem with a caret and
    // suggest the closest field.
    println!("== A misspelled field ==\n");
    match Segment::compile("agee > 30", &schema) {
        Ok(_) => println!("unexpectedly compiled"),
        Err(err) => println!("{err}"),
    }

    // -------------------------------------------------------------------------------------
    // 7. Why is this customer at risk?
    // -------------------------------------------------------------------------------------

    // An explanation shows every clause with its value and the customer's actual field
    // values: the answer to "why did (or didn't) this customer get the campaign?".
    println!("== One customer, explained ==\n");
    let at_risk = compiled.iter().zip(&members).find(|((name, _), _)| *name == "at_risk");
    if let Some(((_, segment), (_, rows))) = at_risk {
        let first = rows.iter().next().and_then(|row| customers.get(row));
        if let Some(customer) = first {
            println!("{}", segment.explain(customer, as_of, &schema)?);
        }
    }
    Ok(())
}
