//! Contact plans: hand-computed tasks for each relationship level and each lifecycle task,
//! win-back ranked by value, channel choice and opt-outs, unreachable customers, the
//! frequency caps (postponed, then dropped), levels from segments, and properties on random
//! customers and configurations: no task uses an opted-out or non-preferred channel, caps
//! always hold, the same input gives the same plan, and every customer without a usable
//! channel who has a task is reported with exactly the tasks they would have had.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    Channel, ChannelSet, Currency, Customer, CustomerId, LifecycleState, Loyalty, Money, Purchase, Stage,
    segment::{Schema, Segment},
    strategy::{
        Cadence, Caps, ContactPlan, ContactTask, LevelAssignment, LevelOf, PlanConfig, PlanError, PlanRange, Priority,
        PriorityClass,
        RelationshipLevel::{self, Accountable, Basic, Partnership, Proactive, Reactive},
        TaskKind::{self, *},
    },
    synth::Population,
};
use proptest::prelude::*;

const USD: Currency = Currency::USD;

/// 2026-01-01 00:00 UTC, the start of the plans.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// `days` after `t0` (negative: before), at 10:00.
fn at(days: i64) -> DateTime<Utc> {
    t0() + Duration::days(days) + Duration::hours(10)
}

/// The day `days` after 1 January 2026, as text.
fn day(days: i64) -> String {
    (t0() + Duration::days(days)).date_naive().to_string()
}

/// 1 to 14 January 2026.
fn two_weeks() -> PlanRange {
    PlanRange::days(t0().date_naive(), 14).unwrap()
}

fn buy(days: i64, minor: i64) -> Purchase {
    Purchase::new(at(days), Money::new(minor, USD))
}

/// Customer `id` at `stage` since `since` (days from t0), with `purchases`, reachable by
/// email.
fn customer(id: u64, stage: Stage, since: i64, purchases: Vec<Purchase>) -> Customer {
    let resume = stage.is_dormant().then_some(Stage::Repeat);
    let mut c = Customer::new(CustomerId::new(id), format!("Customer {id}"), at(-1_000))
        .with_purchases(purchases)
        .unwrap()
        .with_lifecycle(LifecycleState::at_stage(stage, at(since), resume).unwrap());
    c.channels.preferred.insert(Channel::Email);
    c
}

/// The default configuration in USD, with caps that never bind.
fn loose() -> PlanConfig {
    PlanConfig { caps: Caps { per_day: 100, per_week: 100, per_range: 100 }, currency: USD, ..PlanConfig::default() }
}

fn plan(customers: &[Customer], levels: &impl LevelOf, config: &PlanConfig) -> ContactPlan {
    ContactPlan::build(customers, two_weeks(), levels, config).unwrap()
}

/// The tasks as `(due, customer, kind)`.
fn tasks(tasks: &[ContactTask]) -> Vec<(String, u64, TaskKind)> {
    tasks.iter().map(|t| (t.due().to_string(), t.customer().get(), t.kind())).collect()
}

fn expect(list: &[(i64, u64, TaskKind)]) -> Vec<(String, u64, TaskKind)> {
    list.iter().map(|(d, id, kind)| (day(*d), *id, *kind)).collect()
}

// -------------------------------------------------------------------------------------------
// Levels
// -------------------------------------------------------------------------------------------

/// An advocate (a stage with no task of its own) who bought on days -12, -2, 4 (twice) and 12.
///
/// | level | support_contact | follow_up (3 days after) | product_ideas (14 after day -2, every 28) | new_products (28 after, every 28) |
/// |---|---|---|---|---|
/// | basic | | | | |
/// | reactive | days 4, 12 | | | |
/// | accountable | days 4, 12 | days 1 (from -2), 7 (from 4); 15 is out | | |
/// | proactive | days 4, 12 | days 1, 7 | day 12 | day 26: out |
fn advocate() -> Customer {
    let purchases = vec![buy(-12, 1_000), buy(-2, 2_000), buy(4, 3_000), buy(4, 500), buy(12, 4_000)];
    customer(1, Stage::Advocate, -200, purchases)
}

#[test]
fn basic_gives_nothing_from_the_level() {
    let p = plan(&[advocate()], &Basic, &loose());
    assert!(p.is_empty() && p.dropped().is_empty() && p.unreachable().is_empty());
    assert_eq!(p.customers(), 1);
}

#[test]
fn reactive_gives_the_support_contact_at_each_purchase_in_the_range() {
    let p = plan(&[advocate()], &Reactive, &loose());
    // Two purchases on day 4: one support contact.
    assert_eq!(tasks(p.tasks()), expect(&[(4, 1, SupportContact), (12, 1, SupportContact)]));
    assert_eq!(
        p.tasks()[0].reason(),
        "reactive level: bought 30.00 USD on 2026-01-05; give the support contact for complaints and questions"
    );
    assert_eq!(p.tasks()[0].priority(), Priority::new(PriorityClass::High, 0));
}

#[test]
fn accountable_adds_a_follow_up_shortly_after_each_purchase() {
    let p = plan(&[advocate()], &Accountable, &loose());
    let want = [(1, 1, FollowUp), (4, 1, SupportContact), (7, 1, FollowUp), (12, 1, SupportContact)];
    assert_eq!(tasks(p.tasks()), expect(&want));
    assert_eq!(
        p.tasks()[0].reason(),
        "accountable level: bought 20.00 USD on 2025-12-30, 3 days before; \
         ask whether the product met expectations, for suggestions and for any dissatisfaction"
    );

    // The follow-up delay is configurable: 10 days after day -2 and day 4.
    let later = PlanConfig { follow_up_after_days: 10, ..loose() };
    let p = plan(&[advocate()], &Accountable, &later);
    let follow_ups: Vec<_> = tasks(p.tasks()).into_iter().filter(|t| t.2 == FollowUp).collect();
    assert_eq!(follow_ups, expect(&[(8, 1, FollowUp)]));
}

#[test]
fn proactive_adds_periodic_ideas_and_new_products() {
    let p = plan(&[advocate()], &Proactive, &loose());
    let want =
        [(1, 1, FollowUp), (4, 1, SupportContact), (7, 1, FollowUp), (12, 1, SupportContact), (12, 1, ProductIdeas)];
    assert_eq!(tasks(p.tasks()), expect(&want));
    let ideas = &p.tasks()[4];
    assert_eq!(ideas.priority().class(), PriorityClass::Low);
    assert_eq!(
        ideas.reason(),
        "proactive level: last purchase on 2025-12-30 (14 days after, then every 28 days); \
         share ideas about the product they bought"
    );

    // A faster cadence: ideas every 5 days from the day after, new products every 7.
    let config =
        PlanConfig { product_ideas: Cadence::new(1, 5).unwrap(), new_products: Cadence::new(0, 7).unwrap(), ..loose() };
    let p = plan(&[advocate()], &Proactive, &config);
    let periodic: Vec<_> = tasks(p.tasks()).into_iter().filter(|t| matches!(t.2, ProductIdeas | NewProducts)).collect();
    // From day -2: ideas on -1, 4, 9, 14; new products on -2, 5, 12.
    assert_eq!(
        periodic,
        expect(&[(4, 1, ProductIdeas), (5, 1, NewProducts), (9, 1, ProductIdeas), (12, 1, NewProducts)])
    );
}

/// A partner who last bought on day -27 (5 December): ideas 14 days after (day -13) and 28
/// later (day 15) fall outside; new products on day 1 (28 after); a joint review on day 3
/// (30 after).
#[test]
fn partnership_adds_scheduled_joint_reviews() {
    let partner = customer(2, Stage::Partner, -300, vec![buy(-27, 100_000)]);
    let p = plan(std::slice::from_ref(&partner), &Partnership, &loose());
    assert_eq!(tasks(p.tasks()), expect(&[(1, 2, NewProducts), (3, 2, JointReview)]));
    assert_eq!(
        p.tasks()[1].reason(),
        "partnership level: last purchase on 2025-12-05 (30 days after, then every 30 days); \
         hold a joint review to retain them and grow together"
    );
    // The review cadence is configurable: every 7 days from the day of the purchase.
    let weekly = PlanConfig { joint_reviews: Cadence::new(0, 7).unwrap(), ..loose() };
    let p = plan(&[partner], &Partnership, &weekly);
    let reviews: Vec<_> = tasks(p.tasks()).into_iter().filter(|t| t.2 == JointReview).collect();
    // Day -27 + 7k: days 1 and 8.
    assert_eq!(reviews, expect(&[(1, 2, JointReview), (8, 2, JointReview)]));
}

#[test]
fn periodic_level_contact_is_for_buying_stages_anchored_on_the_stage_without_purchases() {
    // A client who never bought (imported): anchored on the day they became a client.
    let client = customer(3, Stage::Client, -14, vec![]);
    // A prospect and a lost customer at the partnership level get no periodic level contact.
    let prospect = customer(4, Stage::Prospect, -100, vec![]);
    let lost = customer(5, Stage::Lost, -100, vec![buy(-500, 100)]);
    let config = PlanConfig { referral_request: Cadence::new(100, 100).unwrap(), ..loose() };
    let p = plan(&[client, prospect, lost], &Partnership, &config);
    let level_tasks: Vec<_> =
        tasks(p.tasks()).into_iter().filter(|t| matches!(t.2, ProductIdeas | NewProducts | JointReview)).collect();
    assert_eq!(level_tasks, expect(&[(0, 3, ProductIdeas)]));
    assert_eq!(
        p.tasks_for(CustomerId::new(3)).next().unwrap().reason(),
        "partnership level: client since 2025-12-18, no purchase before (14 days after, then every 28 days); \
         share ideas about the product they bought"
    );
}

#[test]
fn levels_are_cumulative() {
    let c = advocate();
    let kinds = |level: RelationshipLevel| -> Vec<TaskKind> {
        let mut kinds: Vec<TaskKind> =
            plan(std::slice::from_ref(&c), &level, &loose()).tasks().iter().map(|t| t.kind()).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    };
    for pair in RelationshipLevel::ALL.windows(2) {
        let (lower, higher) = (kinds(pair[0]), kinds(pair[1]));
        assert!(lower.iter().all(|k| higher.contains(k)), "{} ⊄ {}", pair[0], pair[1]);
    }
}

// -------------------------------------------------------------------------------------------
// Lifecycle
// -------------------------------------------------------------------------------------------

/// One customer per stage, at the basic level (so only the stage speaks), with the default
/// cadences:
///
/// | id | stage | since | task | days |
/// |---|---|---|---|---|
/// | 10 | suspect | -20 | | |
/// | 11 | prospect | -11 | nurture (7 after, every 14) | -4, 10 |
/// | 12 | disqualified | -11 | | |
/// | 13 | first_time, first purchase day -1 | -1 | thank_you (1 after) | 0 |
/// | 14 | first_time, first purchase day -30 | -30 | (thanked long ago) | |
/// | 15 | repeat, not a member | -5 | loyalty_invite (7 after, every 60) | 2 |
/// | 16 | repeat, a member | -5 | | |
/// | 17 | client | -30 | referral_request (30 after, every 90) | 0 |
/// | 18 | advocate | -30 | | |
/// | 19 | partner | -30 | | |
/// | 20 | inactive | -22 | reactivate (0 after, every 30) | 8 |
fn stages() -> Vec<Customer> {
    let mut member = customer(16, Stage::Repeat, -5, vec![buy(-40, 100), buy(-5, 100)]);
    member.loyalty = Some(Loyalty { card_id: "LC-16".into(), joined: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap() });
    vec![
        customer(10, Stage::Suspect, -20, vec![]),
        customer(11, Stage::Prospect, -11, vec![]),
        customer(12, Stage::DisqualifiedProspect, -11, vec![]),
        customer(13, Stage::FirstTime, -1, vec![buy(-1, 2_500)]),
        customer(14, Stage::FirstTime, -30, vec![buy(-30, 2_500)]),
        customer(15, Stage::Repeat, -5, vec![buy(-40, 100), buy(-5, 100)]),
        member,
        customer(17, Stage::Client, -30, vec![buy(-30, 100)]),
        customer(18, Stage::Advocate, -30, vec![buy(-30, 100)]),
        customer(19, Stage::Partner, -30, vec![buy(-30, 100)]),
        customer(20, Stage::Inactive, -22, vec![buy(-200, 100)]),
    ]
}

#[test]
fn each_stage_gets_its_task() {
    let p = plan(&stages(), &Basic, &loose());
    let want =
        [(0, 13, ThankYou), (0, 17, ReferralRequest), (2, 15, LoyaltyInvite), (8, 20, Reactivate), (10, 11, Nurture)];
    assert_eq!(tasks(p.tasks()), expect(&want));
    let reasons: Vec<String> = p.tasks().iter().map(ContactTask::reason).collect();
    assert_eq!(
        reasons,
        [
            "first purchase of 25.00 USD on 2025-12-31; thank them for their first purchase",
            "client since 2025-12-02 (30 days after, then every 90 days); ask for referrals",
            "repeat since 2025-12-27 and not a loyalty member (7 days after, then every 60 days); \
             invite them to the loyalty programme",
            "inactive since 2025-12-10 (0 days after, then every 30 days); give them a reason to come back",
            "prospect since 2025-12-21 (7 days after, then every 14 days); nurture towards a first purchase",
        ]
    );
    // On day 0, the high thank-you comes before the normal referral request.
    assert!(p.tasks()[0].priority() > p.tasks()[1].priority());
}

#[test]
fn stage_cadences_are_configurable() {
    let config = PlanConfig {
        nurture: Cadence::new(0, 3).unwrap(),
        thank_after_days: 2,
        loyalty_invite: Cadence::new(0, 60).unwrap(),
        referral_request: Cadence::new(1, 90).unwrap(),
        reactivation: Cadence::new(0, 7).unwrap(),
        ..loose()
    };
    let p = plan(&stages(), &Basic, &config);
    // Nurture from day -11 every 3 days: 1, 4, 7, 10, 13. Thanks 2 days after day -1: 1.
    // Reactivation from day -22 every 7 days: 6, 13. Loyalty from day -5 every 60 days and
    // referrals from day -29 every 90 days: none in the range.
    let want = [
        (1, 13, ThankYou),
        (1, 11, Nurture),
        (4, 11, Nurture),
        (6, 20, Reactivate),
        (7, 11, Nurture),
        (10, 11, Nurture),
        (13, 20, Reactivate),
        (13, 11, Nurture),
    ];
    assert_eq!(tasks(p.tasks()), expect(&want));
}

#[test]
fn win_back_is_ranked_by_past_value() {
    // All lost on day -27: a win-back on day 3 (30 days later); values before the range.
    let lost = |id, purchases| customer(id, Stage::Lost, -27, purchases);
    let mut other_currency = lost(35, vec![]);
    other_currency =
        other_currency.with_purchases(vec![Purchase::new(at(-400), Money::new(1_000_000, Currency::EGP))]).unwrap();
    let customers = vec![
        lost(31, vec![buy(-400, 10_000)]),
        lost(32, vec![buy(-400, 50_000), buy(-380, 40_000)]), // 900.00
        lost(33, vec![buy(-400, 90_000)]),                    // 900.00: ties with 32, after it by id
        lost(34, vec![]),
        other_currency, // counts for nothing in USD
        // 500.00 before the range; a purchase in the range does not count towards the value.
        lost(36, vec![buy(-400, 50_000), buy(2, 1_000_000)]),
    ];
    let p = plan(&customers, &Basic, &loose());
    let order: Vec<(u64, u32)> = p.tasks().iter().map(|t| (t.customer().get(), t.priority().rank())).collect();
    assert_eq!(order, [(32, 1), (33, 2), (36, 3), (31, 4), (34, 5), (35, 6)]);
    assert!(p.tasks().iter().all(|t| t.kind() == WinBack && t.due().to_string() == day(3)));
    assert!(p.tasks().windows(2).all(|w| w[0].priority() > w[1].priority()));
    assert_eq!(
        p.tasks()[0].reason(),
        "lost since 2025-12-05, spent 900.00 USD before, rank 1 of 6 lost customers by value \
         (0 days after, then every 30 days); win them back"
    );

    // The rank holds across days: the most valuable is ranked first wherever their task falls.
    let mut customers = customers;
    customers[0] = lost(31, vec![buy(-400, 10_000_000)])
        .with_lifecycle(LifecycleState::at_stage(Stage::Lost, at(-20), Some(Stage::Repeat)).unwrap());
    let p = plan(&customers, &Basic, &loose());
    let first = p.tasks_for(CustomerId::new(31)).next().unwrap();
    assert_eq!((first.due().to_string(), first.priority().rank()), (day(10), 1));
    assert_eq!(p.tasks()[0].priority().rank(), 2);
}

#[test]
fn win_back_value_uses_the_configured_currency() {
    let egp = PlanConfig { currency: Currency::EGP, ..loose() };
    let customers = vec![
        customer(1, Stage::Lost, -27, vec![buy(-400, 10_000_000)]),
        customer(2, Stage::Lost, -27, vec![Purchase::new(at(-400), Money::new(100, Currency::EGP))]),
    ];
    let p = plan(&customers, &Basic, &egp);
    let ranks: Vec<(u64, u32)> = p.tasks().iter().map(|t| (t.customer().get(), t.priority().rank())).collect();
    assert_eq!(ranks, [(2, 1), (1, 2)]);
}

// -------------------------------------------------------------------------------------------
// Channels
// -------------------------------------------------------------------------------------------

fn prospect_with(id: u64, preferred: &[Channel], opted_out: &[Channel]) -> Customer {
    let mut c = customer(id, Stage::Prospect, -11, vec![]);
    c.channels.preferred = preferred.iter().copied().collect();
    c.channels.opted_out = opted_out.iter().copied().collect();
    c
}

#[test]
fn the_first_preferred_channel_in_the_configured_order_is_used() {
    use Channel::*;
    let config = PlanConfig { channels: vec![Sms, Email, Phone], ..loose() };
    let customers = [
        prospect_with(1, &[Email, Sms], &[]),
        prospect_with(2, &[Email, Sms], &[Sms]),
        prospect_with(3, &[Phone, Web], &[]),
        prospect_with(4, &[Web, Tv], &[]),
        prospect_with(5, &[Email], &[Email]),
        prospect_with(6, &[], &[]),
    ];
    let p = plan(&customers, &Basic, &config);
    let channels: Vec<(u64, Option<Channel>)> = p.tasks().iter().map(|t| (t.customer().get(), t.channel())).collect();
    assert_eq!(channels, [(1, Some(Sms)), (2, Some(Email)), (3, Some(Phone))]);
    let unreachable: Vec<(u64, ChannelSet, usize)> =
        p.unreachable().iter().map(|u| (u.customer().get(), u.reachable(), u.tasks().len())).collect();
    assert_eq!(
        unreachable,
        [(4, [Web, Tv].into_iter().collect(), 1), (5, ChannelSet::EMPTY, 1), (6, ChannelSet::EMPTY, 1)]
    );
    let missed = &p.unreachable()[0].tasks()[0];
    assert_eq!((missed.due().to_string(), missed.kind(), missed.channel()), (day(10), Nurture, None));
    assert!(missed.to_string().contains("by no channel (unreachable)"));

    // Listing a channel twice changes nothing; an empty list reaches nobody.
    let twice = PlanConfig { channels: vec![Sms, Email, Sms, Phone], ..config.clone() };
    assert_eq!(plan(&customers, &Basic, &twice), p);
    let none = PlanConfig { channels: vec![], ..config };
    let p = plan(&customers, &Basic, &none);
    assert!(p.is_empty());
    assert_eq!(p.unreachable().len(), 6);
}

#[test]
fn unreachable_customers_without_tasks_are_not_listed() {
    let suspect = {
        let mut c = customer(1, Stage::Suspect, -5, vec![]);
        c.channels.preferred = ChannelSet::EMPTY;
        c
    };
    let p = plan(&[suspect], &Partnership, &loose());
    assert!(p.unreachable().is_empty() && p.is_empty());
}

// -------------------------------------------------------------------------------------------
// Caps
// -------------------------------------------------------------------------------------------

/// The accountable advocate has four high tasks: follow-ups on days 1 and 7, support contacts
/// on days 4 and 12. With at most 2 in any 7 days, the follow-up of day 7 (days 1 and 4
/// already in days 1–7) moves to day 8; the contact of day 12 fits (only day 8 in 6–12).
#[test]
fn caps_postpone_then_drop_deterministically() {
    let config = PlanConfig { currency: USD, ..PlanConfig::default() }; // 1 a day, 2 a week, 4 a range
    let p = plan(&[advocate()], &Accountable, &config);
    let want = [(1, 1, FollowUp), (4, 1, SupportContact), (8, 1, FollowUp), (12, 1, SupportContact)];
    assert_eq!(tasks(p.tasks()), expect(&want));
    let postponed = &p.tasks()[2];
    assert_eq!(postponed.postponed_from().map(|d| d.to_string()), Some(day(7)));
    assert_eq!(postponed.scheduled().to_string(), day(7));
    assert!(postponed.reason().ends_with("3 days before; ask whether the product met expectations, for suggestions and for any dissatisfaction (postponed from 2026-01-08 by the frequency caps)"));
    assert!(p.dropped().is_empty());

    // No postponing: the follow-up is dropped, on the day the rules gave it.
    let strict = PlanConfig { max_postpone_days: 0, ..config.clone() };
    let p = plan(&[advocate()], &Accountable, &strict);
    assert_eq!(tasks(p.tasks()), expect(&[(1, 1, FollowUp), (4, 1, SupportContact), (12, 1, SupportContact)]));
    assert_eq!(tasks(p.dropped()), expect(&[(7, 1, FollowUp)]));

    // Three a range: the least urgent placement comes last and is dropped; ties among high
    // tasks go to the earlier day.
    let three = PlanConfig { caps: Caps { per_range: 3, ..config.caps }, ..config.clone() };
    let p = plan(&[advocate()], &Accountable, &three);
    assert_eq!(tasks(p.tasks()), expect(&[(1, 1, FollowUp), (4, 1, SupportContact), (8, 1, FollowUp)]));
    assert_eq!(tasks(p.dropped()), expect(&[(12, 1, SupportContact)]));
}

#[test]
fn a_less_urgent_task_never_displaces_a_more_urgent_one() {
    // A repeat customer, not a member, at the proactive level: the loyalty invitation
    // (normal) and ideas about the product (low) both fall on day 2.
    let c = customer(1, Stage::Repeat, -5, vec![buy(-12, 100)]);
    let config = PlanConfig {
        caps: Caps { per_day: 1, per_week: 7, per_range: 10 },
        product_ideas: Cadence::new(14, 28).unwrap(),
        max_postpone_days: 1,
        currency: USD,
        ..PlanConfig::default()
    };
    let p = plan(std::slice::from_ref(&c), &Proactive, &config);
    assert_eq!(tasks(p.tasks()), expect(&[(2, 1, LoyaltyInvite), (3, 1, ProductIdeas)]));
    assert_eq!(p.tasks()[1].postponed_from().map(|d| d.to_string()), Some(day(2)));

    // Postponing stops at the end of the range.
    let late = PlanConfig {
        loyalty_invite: Cadence::new(18, 60).unwrap(),
        product_ideas: Cadence::new(25, 28).unwrap(),
        ..config
    };
    let p = plan(&[c], &Proactive, &late);
    assert_eq!(tasks(p.tasks()), expect(&[(13, 1, LoyaltyInvite)]));
    assert_eq!(tasks(p.dropped()), expect(&[(13, 1, ProductIdeas)]));
}

#[test]
fn caps_apply_to_unreachable_customers_too() {
    let mut c = advocate();
    c.channels.preferred = ChannelSet::EMPTY;
    let config = PlanConfig { max_postpone_days: 0, currency: USD, ..PlanConfig::default() };
    let p = plan(&[c], &Accountable, &config);
    assert!(p.is_empty());
    assert_eq!(
        tasks(p.unreachable()[0].tasks()),
        expect(&[(1, 1, FollowUp), (4, 1, SupportContact), (12, 1, SupportContact)])
    );
    assert_eq!(tasks(p.dropped()), expect(&[(7, 1, FollowUp)]));
    assert_eq!(p.dropped()[0].channel(), None);
}

// -------------------------------------------------------------------------------------------
// Levels from segments, errors, order
// -------------------------------------------------------------------------------------------

#[test]
fn levels_come_from_the_first_matching_segment() {
    let schema = Schema::new(USD);
    let levels = LevelAssignment::new(Basic)
        .with(Segment::compile("spent >= 500.00", &schema).unwrap(), Accountable)
        .with(Segment::compile("purchases >= 1", &schema).unwrap(), Reactive);
    let rich = customer(1, Stage::Advocate, -100, vec![buy(-2, 60_000)]);
    let poor = customer(2, Stage::Advocate, -100, vec![buy(-2, 100)]);
    let none = customer(3, Stage::Advocate, -100, vec![]);
    let matcher = levels.at(two_weeks().as_of());
    for (c, level) in [(&rich, Accountable), (&poor, Reactive), (&none, Basic)] {
        assert_eq!(levels.level(c, two_weeks().as_of()), level);
        assert_eq!(matcher.level_of(c), level);
    }
    let p = plan(&[rich, poor, none], &matcher, &loose());
    // Only the accountable customer is followed up; purchases before the range give no
    // support contact.
    assert_eq!(tasks(p.tasks()), expect(&[(1, 1, FollowUp)]));

    // A closure works as well.
    let by_id = |c: &Customer| if c.id().get() == 2 { Accountable } else { Basic };
    let p =
        ContactPlan::build(&[customer(2, Stage::Advocate, -100, vec![buy(-2, 100)])], two_weeks(), &by_id, &loose())
            .unwrap();
    assert_eq!(tasks(p.tasks()), expect(&[(1, 2, FollowUp)]));
}

#[test]
fn duplicate_customers_and_bad_ranges_are_errors() {
    let c = advocate();
    let err = ContactPlan::build([&c, &c], two_weeks(), &Basic, &loose()).unwrap_err();
    assert_eq!(err, PlanError::DuplicateCustomer(CustomerId::new(1)));
    assert_eq!(err.to_string(), "customer #1 is given more than once");

    let first = t0().date_naive();
    assert!(matches!(PlanRange::days(first, 367), Err(PlanError::RangeTooLong { days: 367, max: 366 })));
    assert_eq!(
        PlanRange::days(first, 400).unwrap_err().to_string(),
        "the plan's range covers 400 days, more than the 366 allowed"
    );
    assert!(PlanRange::days(NaiveDate::MAX, 2).is_err());
    assert_eq!(Cadence::new(1, 0), Err(PlanError::ZeroCadence));
    assert!("nope".parse::<TaskKind>().unwrap_err().to_string().starts_with("unknown task kind `nope`"));
}

#[test]
fn config_and_range_round_trip_through_json() {
    let config = PlanConfig { channels: vec![Channel::Phone], currency: Currency::EGP, ..PlanConfig::default() };
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<PlanConfig>(&json).unwrap(), config);
    assert_eq!(serde_json::from_str::<PlanConfig>("{}").unwrap(), PlanConfig::default());

    let range = two_weeks();
    let json = serde_json::to_string(&range).unwrap();
    assert_eq!(json, r#"{"first":"2026-01-01","last":"2026-01-14"}"#);
    assert_eq!(serde_json::from_str::<PlanRange>(&json).unwrap(), range);
    assert!(serde_json::from_str::<PlanRange>(r#"{"first":"2026-01-14","last":"2026-01-01"}"#).is_err());

    let p = plan(&stages(), &Basic, &loose());
    let value: serde_json::Value = serde_json::to_value(&p).unwrap();
    assert_eq!(value["tasks"][0]["kind"], "thank_you");
    assert_eq!(value["tasks"][0]["priority"]["class"], "high");
    assert_eq!(value["tasks"][0]["channel"], "email");
    assert_eq!(value["tasks"][0]["reason"], p.tasks()[0].reason());
    assert_eq!(value["customers"], 11);
}

#[test]
fn a_plan_over_synthetic_customers_is_ordered_and_counted() {
    let population = Population::new(3);
    let customers = population.customers(3_000);
    let range = PlanRange::days(population.as_of().date_naive() - Duration::days(7), 21).unwrap();
    let config = PlanConfig { currency: population.currency(), ..PlanConfig::default() };
    let p = ContactPlan::build(&customers, range, &Partnership, &config).unwrap();
    assert!(!p.is_empty() && !p.unreachable().is_empty());
    assert!(p.tasks().windows(2).all(|w| order_key(&w[0]) < order_key(&w[1])), "tasks in plan order");
    assert_eq!(p.count_by_kind().map(|(_, n)| n).sum::<usize>(), p.len());
    assert_eq!(p.count_by_channel().map(|(_, n)| n).sum::<usize>(), p.len());
    let missing: Vec<TaskKind> = p.count_by_kind().filter(|(_, n)| *n == 0).map(|(k, _)| k).collect();
    assert_eq!(missing, [], "three weeks around the population's date give every kind of task");
    let days: usize = (0..21).map(|d| p.tasks_on(range.first() + Duration::days(d)).len()).sum();
    assert_eq!(days, p.len());
}

fn order_key(t: &ContactTask) -> (NaiveDate, std::cmp::Reverse<Priority>, CustomerId, TaskKind, Option<NaiveDate>) {
    (t.due(), std::cmp::Reverse(t.priority()), t.customer(), t.kind(), t.postponed_from())
}

// -------------------------------------------------------------------------------------------
// Properties
// -------------------------------------------------------------------------------------------

/// One random customer: stage, stage start, purchases (day, minor units), preferred and
/// opted-out channel bits, loyalty membership, level.
type Spec = (usize, i64, Vec<(i64, i64)>, u16, u16, bool, usize);

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..Stage::ALL.len(),
        -120i64..14,
        proptest::collection::vec((-120i64..20, 0i64..100_000), 0..6),
        0u16..512,
        0u16..512,
        any::<bool>(),
        0..RelationshipLevel::ALL.len(),
    )
}

fn channels_of(bits: u16) -> ChannelSet {
    Channel::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, c)| c).collect()
}

fn build_customers(specs: &[Spec]) -> (Vec<Customer>, Vec<RelationshipLevel>) {
    specs
        .iter()
        .zip(1u64..)
        .map(|((stage, since, purchases, preferred, opted_out, member, level), id)| {
            let purchases = purchases.iter().map(|(d, minor)| buy(*d, *minor)).collect();
            let mut c = customer(id, Stage::ALL[*stage], *since, purchases);
            c.channels.preferred = channels_of(*preferred);
            c.channels.opted_out = channels_of(*opted_out);
            if *member {
                c.loyalty =
                    Some(Loyalty { card_id: format!("LC-{id}"), joined: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() });
            }
            (c, RelationshipLevel::ALL[*level])
        })
        .unzip()
}

fn config() -> impl Strategy<Value = PlanConfig> {
    let cadence = (0u32..20, 1u32..20).prop_map(|(first, every)| Cadence::new(first, every).unwrap());
    (
        proptest::sample::subsequence(Channel::ALL.to_vec(), 0..=Channel::ALL.len()).prop_shuffle(),
        (0u32..4, 0u32..6, 0u32..8),
        0u32..5,
        (0u32..10, 0u32..5),
        proptest::collection::vec(cadence, 8),
    )
        .prop_map(|(channels, (per_day, per_week, per_range), max_postpone_days, (follow, thank), c)| PlanConfig {
            channels,
            caps: Caps { per_day, per_week, per_range },
            max_postpone_days,
            follow_up_after_days: follow,
            thank_after_days: thank,
            product_ideas: c[0],
            new_products: c[1],
            joint_reviews: c[2],
            nurture: c[3],
            loyalty_invite: c[4],
            referral_request: c[5],
            reactivation: c[6],
            win_back: c[7],
            currency: USD,
        })
}

/// Every task of `plan`, reachable or not, with its customer.
fn all_placed(plan: &ContactPlan) -> Vec<&ContactTask> {
    plan.tasks().iter().chain(plan.unreachable().iter().flat_map(|u| u.tasks())).collect()
}

/// `(scheduled day, kind, due)` of a task: what stays the same when only the channel changes.
fn shape(t: &ContactTask) -> (NaiveDate, TaskKind, NaiveDate, Priority) {
    (t.scheduled(), t.kind(), t.due(), t.priority())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn plans_keep_their_promises(specs in proptest::collection::vec(spec(), 0..25), config in config(), start in -10i64..10, len in 1u32..30, seed in any::<u64>()) {
        let (customers, levels) = build_customers(&specs);
        let level_of = |c: &Customer| levels[usize::try_from(c.id().get() - 1).unwrap()];
        let range = PlanRange::days((t0() + Duration::days(start)).date_naive(), len).unwrap();
        let plan = ContactPlan::build(&customers, range, &level_of, &config).unwrap();
        let by_id = |id: CustomerId| &customers[usize::try_from(id.get() - 1).unwrap()];

        // Channels: never opted out, always preferred and configured, and the first such.
        for t in plan.tasks() {
            let c = by_id(t.customer());
            let channel = t.channel().unwrap();
            prop_assert!(c.channels.preferred.contains(channel), "{t}");
            prop_assert!(!c.channels.opted_out.contains(channel), "{t}");
            prop_assert_eq!(config.channels.iter().find(|ch| c.channels.reachable_by(**ch)), Some(&channel));
        }
        for u in plan.unreachable() {
            let c = by_id(u.customer());
            prop_assert!(config.channels.iter().all(|ch| !c.channels.reachable_by(*ch)));
            prop_assert_eq!(u.reachable(), c.channels.reachable());
            prop_assert!(u.tasks().iter().all(|t| t.channel().is_none() && t.customer() == u.customer()));
        }

        // Caps, per customer, over every placed task; days within the range; postponement bounded.
        let placed = all_placed(&plan);
        for c in &customers {
            let days: Vec<NaiveDate> = placed.iter().filter(|t| t.customer() == c.id()).map(|t| t.due()).collect();
            prop_assert!(days.len() <= config.caps.per_range as usize);
            for d in &days {
                prop_assert!(days.iter().filter(|e| *e == d).count() <= config.caps.per_day as usize);
                let week = days.iter().filter(|e| **e >= *d && **e <= *d + Duration::days(6)).count();
                prop_assert!(week <= config.caps.per_week as usize, "{} tasks in the week from {d}", week);
            }
        }
        for t in &placed {
            prop_assert!(range.contains(t.due()) && range.contains(t.scheduled()));
            prop_assert!(t.scheduled() <= t.due());
            prop_assert!(t.due() - t.scheduled() <= Duration::days(i64::from(config.max_postpone_days)));
        }
        prop_assert!(plan.dropped().iter().all(|t| range.contains(t.due()) && t.postponed_from().is_none()));

        // Order.
        prop_assert!(plan.tasks().windows(2).all(|w| order_key(&w[0]) < order_key(&w[1])));
        prop_assert!(plan.dropped().windows(2).all(|w| order_key(&w[0]) < order_key(&w[1])));
        prop_assert!(plan.unreachable().windows(2).all(|w| w[0].customer() < w[1].customer()));

        // The same input, in any order, gives the same plan.
        let mut shuffled: Vec<&Customer> = customers.iter().collect();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, usize::try_from(state >> 33).unwrap() % (i + 1));
        }
        let again = ContactPlan::build(shuffled, range, &level_of, &config).unwrap();
        prop_assert_eq!(&again, &plan);

        // Unreachable customers are those without a usable channel who would have had a task,
        // with exactly the tasks (and drops) a reachable twin gets.
        let mut twins = customers.clone();
        for c in &mut twins {
            c.channels.preferred = Channel::ALL.into_iter().collect();
            c.channels.opted_out = ChannelSet::EMPTY;
        }
        let everyone = PlanConfig { channels: Channel::ALL.to_vec(), ..config.clone() };
        let twin = ContactPlan::build(&twins, range, &level_of, &everyone).unwrap();
        for c in &customers {
            let usable = config.channels.iter().any(|ch| c.channels.reachable_by(*ch));
            let twin_tasks: Vec<_> = twin.tasks_for(c.id()).map(shape).collect();
            let twin_dropped: Vec<_> = twin.dropped().iter().filter(|t| t.customer() == c.id()).map(shape).collect();
            let dropped: Vec<_> = plan.dropped().iter().filter(|t| t.customer() == c.id()).map(shape).collect();
            prop_assert_eq!(&dropped, &twin_dropped);
            let listed = plan.unreachable().iter().find(|u| u.customer() == c.id());
            if usable {
                prop_assert!(listed.is_none());
                prop_assert_eq!(plan.tasks_for(c.id()).map(shape).collect::<Vec<_>>(), twin_tasks);
            } else {
                prop_assert_eq!(listed.is_some(), !twin_tasks.is_empty() || !twin_dropped.is_empty());
                if let Some(u) = listed {
                    prop_assert_eq!(u.tasks().iter().map(shape).collect::<Vec<_>>(), twin_tasks);
                }
                prop_assert_eq!(plan.tasks_for(c.id()).count(), 0);
            }
        }
    }
}
