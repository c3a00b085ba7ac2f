//! Strategy: from customer segments to a relationship level each, RFM groups, and the contact
//! tasks of the next two weeks.
//!
//! A company relates to its customers as intensively as its margin and the number of
//! customers allow (Kotler's matrix), and talks to each customer as their stage in the
//! lifecycle asks. This example takes 20 000 synthetic customers of a retailer selling in
//! Egyptian pounds and:
//!
//! 1. prints the relationship-level matrix;
//! 2. recommends a level for each of four segments from its measured margin and size, with
//!    the rationale, falling back to the whole business's margin for a segment without cost
//!    data;
//! 3. counts the customers in each RFM group;
//! 4. plans the contact tasks of the next two weeks, each customer's level coming from the
//!    first segment they are in, and shows a sample of the tasks, the totals per kind and per
//!    channel, and the customers no channel reaches.
//!
//! Run it with
//!
//! ```text
//! cargo run --example strategy
//! ```
//!
//! The population is generated from a fixed seed and observed at a fixed instant, so the
//! output is the same on every run and every machine.

use clientele::{
    Currency,
    segment::{self, AnalyticsConfig, Schema, Segment, Snapshot},
    strategy::{
        self, ContactPlan, LevelAssignment, LevelConfig, MarginRatio, PlanConfig, PlanRange, RelationshipLevel,
        StrategyError, TaskKind,
        rfm::{RfmConfig, RfmScores},
    },
    synth::Population,
};

/// The segments, most specific first: a customer's level comes from the first one they are
/// in.
const SEGMENTS: &[(&str, &str)] = &[
    // A handful of exclusive, high-spending advocates and partners: few customers.
    ("ambassadors", "exclusive and stage in (advocate, partner) and spent >= 20000.00"),
    // Customers who spent a lot over the last year.
    ("high_value", "spent(last 365 days) >= 15000.00"),
    // Everyone else who bought: many customers.
    ("buyers", "purchases >= 1"),
    // Prospects have bought nothing, so no cost tells their margin.
    ("prospects", "stage = prospect"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let population = Population::new(7);
    let customers = population.customers(20_000);
    let as_of = population.as_of();
    let egp = Currency::EGP;
    println!("{} customers, observed as of {as_of}\n", customers.len());

    // -------------------------------------------------------------------------------------
    // 1. The matrix
    // -------------------------------------------------------------------------------------

    println!("== Relationship levels by margin and number of customers ==\n");
    println!("{}", strategy::markdown_matrix());

    // -------------------------------------------------------------------------------------
    // 2. A level per segment
    // -------------------------------------------------------------------------------------

    // Each segment's margin is measured from the purchases whose cost is known, and its size
    // is its number of members; both go through the matrix with the default thresholds
    // (medium margin from 10%, high from 30%; medium volume from 100, many from 10 000).
    let schema = Schema::new(egp);
    let snapshot = Snapshot::build(&customers, &schema);
    let analytics = AnalyticsConfig::default();
    let config = LevelConfig::default();

    // The whole business's margin, for segments that have no cost data of their own.
    let everyone = segment::analyze(&Segment::compile("true", &schema)?, &snapshot, as_of, &analytics)?;
    let business_margin = everyone.margin().map(MarginRatio::try_from).transpose()?;

    println!("== A level per segment ==\n");
    let mut levels = LevelAssignment::new(RelationshipLevel::Basic);
    for (name, text) in SEGMENTS {
        let segment = Segment::compile(text, &schema)?;
        let report = segment::analyze(&segment, &snapshot, as_of, &analytics)?;
        println!("{name} ({text}): {} members", report.members());
        let selection = match strategy::select_for_segment(&report, &config) {
            Ok(selection) => selection,
            // No member's purchase has a known cost: the caller decides which margin to
            // assume. Here, the business's own.
            Err(StrategyError::NoCostData { members }) => {
                let Some(margin) = business_margin else {
                    println!("  no cost data here or anywhere: left at the default level\n");
                    continue;
                };
                println!("  no cost data: assuming the business's margin ({margin})");
                strategy::select(margin, u64::try_from(members)?, &config)
            }
            Err(other) => return Err(other.into()),
        };
        println!("  {}: {}\n", selection.level(), selection.rationale());
        levels.push(segment, selection.level());
    }
    println!("customers in no segment: {}\n", levels.default_level());

    // -------------------------------------------------------------------------------------
    // 3. RFM groups
    // -------------------------------------------------------------------------------------

    let scores = RfmScores::compute(&customers, as_of, &RfmConfig { currency: egp, ..RfmConfig::default() })?;
    println!("== RFM groups ({} scored, {} without purchases) ==\n", scores.len(), scores.unscored());
    for (group, count) in scores.group_counts() {
        println!("  {:<20} {count:>6}", group.name());
    }
    println!();

    // -------------------------------------------------------------------------------------
    // 4. The next two weeks of contact tasks
    // -------------------------------------------------------------------------------------

    // Levels and tasks read the customers as of the start of the range. The default plan
    // uses email, sms, phone, web and mail in that order of preference, never a channel the
    // customer opted out of or does not prefer, and gives one customer at most one task a
    // day, two a week and four in the range, postponing (up to three days) or dropping the
    // less urgent ones.
    let range = PlanRange::days(as_of.date_naive(), 14)?;
    let plan_config = PlanConfig { currency: egp, ..PlanConfig::default() };
    let plan = ContactPlan::build(&customers, range, &levels.at(range.as_of()), &plan_config)?;

    println!("== Contact plan, {range} ==\n");
    println!("The first tasks of the first day:");
    for task in plan.tasks_on(range.first()).iter().take(5) {
        println!("  {task}");
    }
    println!("\nOne task of each kind:");
    for kind in TaskKind::ALL {
        if let Some(task) = plan.tasks().iter().find(|t| t.kind() == kind) {
            println!("  {task}");
        }
    }
    // Win-back tasks are ranked by the lost customer's value: rank 1 spent the most.
    let mut win_backs: Vec<_> = plan.tasks().iter().filter(|t| t.kind() == TaskKind::WinBack).collect();
    win_backs.sort_by_key(|t| t.priority().rank());
    println!("\nThe most valuable lost customers to win back in these two weeks:");
    for task in win_backs.iter().take(3) {
        println!("  {task}");
    }
    if let Some(task) = plan.dropped().first() {
        println!("\nA task dropped by the caps:\n  {task}");
    }

    // The synthetic purchases all come before the range, so no support contact (given on
    // the day of a purchase) falls in it; follow-ups come from the last days of December.
    println!("\nTasks per kind:");
    for (kind, count) in plan.count_by_kind() {
        println!("  {:<18} {count:>6}", kind.name());
    }
    println!("\nTasks per channel:");
    for (channel, count) in plan.count_by_channel().filter(|(_, n)| *n > 0) {
        println!("  {:<18} {count:>6}", channel.name());
    }
    let postponed = plan.tasks().iter().filter(|t| t.postponed_from().is_some()).count();
    let missed: usize = plan.unreachable().iter().map(|u| u.tasks().len()).sum();
    println!(
        "\n{} tasks for {} customers; {postponed} postponed and {} dropped by the caps",
        plan.len(),
        plan.customers(),
        plan.dropped().len()
    );
    println!(
        "{} customers reachable by no channel of the plan, with {missed} tasks between them",
        plan.unreachable().len()
    );
    if let Some(first) = plan.unreachable().first() {
        let prefers: Vec<&str> = first.reachable().iter().map(|c| c.name()).collect();
        let prefers = if prefers.is_empty() { "nothing".to_string() } else { prefers.join(", ") };
        println!("  e.g. {} (reachable only by {prefers}), who would have had:", first.customer());
        for task in first.tasks() {
            println!("    {task}");
        }
    }
    Ok(())
}
