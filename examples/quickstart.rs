//! Quickstart: one year of a small business, told through the `clientele` API.
//!
//! *Nile Books & Coffee* is a bookshop with a café in Cairo that also sells online. Over 2025
//! three dozen people come through its door: some only browse, some are declined for credit,
//! most buy, a few become regulars, advocates and even partners, and some drift away. We
//! simulate that year day by day, let the lifecycle policy sort customers every month, send a
//! win-back offer to everyone who is lost, and end with the funnel.
//!
//! Read it top to bottom: each step introduces one part of the API. Run it with
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Everything is deterministic, time included (a [`ManualClock`] instead of the system
//! clock, a tiny seeded random generator instead of a random crate), so the output is the
//! same on every run.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    Channel, Clock, CountryCode, CreditStanding, Crm, Currency, Customer, CustomerId, Error, Event, Gender, Loyalty,
    ManualClock, MemoryStore, Money, Purchase, Stage, Transition, Window,
    lifecycle::{LifecyclePolicy, TransitionKind},
    synth::Rng,
};

// -------------------------------------------------------------------------------------------
// The cast: who walks into the shop this year
// -------------------------------------------------------------------------------------------

/// How a person behaves in the simulation. The CRM never sees this: it only sees what they
/// do (join, buy, refer a friend), and works out their stage from that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    /// Comes every week or two, all year.
    Regular,
    /// A regular who brings friends along (their friends are in the roster, referred by them).
    Ambassador,
    /// Drops by every month or so.
    Occasional,
    /// Buys a few times, then stops on `stops_on` (a day of the year). Answers a win-back
    /// offer if `answers_offer`.
    Drifter { stops_on: u32, answers_offer: bool },
    /// Buys in spring and before the holidays only.
    Seasonal,
    /// Asks questions, takes a leaflet, never buys.
    Browser,
    /// Poor credit: the shop declines to open an account for them.
    PoorCredit,
}

/// One person in the roster.
struct Person {
    name: &'static str,
    gender: Gender,
    country: &'static str,
    city: &'static str,
    persona: Persona,
    /// Day of the year (0 = 1 January) they first come in.
    joins_on: u32,
    /// Index in the roster of whoever referred them.
    referred_by: Option<usize>,
}

/// The roster. Kept as data so that it is easy to read and to change.
fn roster() -> Vec<Person> {
    use Gender::{Female as F, Male as M};
    use Persona::*;
    let p = |name, gender, country, city, persona, joins_on, referred_by| Person {
        name,
        gender,
        country,
        city,
        persona,
        joins_on,
        referred_by,
    };
    vec![
        p("Mona Said", F, "EG", "Cairo", Ambassador, 2, None),
        p("Omar Haddad", M, "EG", "Giza", Regular, 3, None),
        p("Sara Mansour", F, "EG", "Cairo", Drifter { stops_on: 60, answers_offer: true }, 5, None),
        p("Youssef Farouk", M, "EG", "Alexandria", Occasional, 8, None),
        p("Laila Nasser", F, "JO", "Amman", Browser, 10, None),
        p("Karim Khalil", M, "EG", "Cairo", PoorCredit, 12, None),
        p("Nour El-Sayed", F, "EG", "Cairo", Regular, 15, None),
        p("Hassan Ali", M, "EG", "Mansoura", Drifter { stops_on: 75, answers_offer: false }, 18, None),
        p("Amira Saleh", F, "EG", "Cairo", Ambassador, 20, None),
        p("Tarek Fahmy", M, "EG", "Giza", Seasonal, 25, None),
        p("Dina Mostafa", F, "EG", "Cairo", Regular, 31, Some(0)),
        p("Khaled Ibrahim", M, "AE", "Dubai", Occasional, 38, None),
        p("Rania Adel", F, "EG", "Cairo", Drifter { stops_on: 120, answers_offer: true }, 41, Some(0)),
        p("Ahmed Zaki", M, "EG", "Alexandria", Browser, 45, None),
        p("Hoda Kamal", F, "EG", "Cairo", Occasional, 52, Some(8)),
        p("Mahmoud Salem", M, "EG", "Tanta", PoorCredit, 58, None),
        p("Yasmin Fouad", F, "MA", "Rabat", Seasonal, 64, None),
        p("Samir Boutros", M, "EG", "Cairo", Regular, 70, Some(8)),
        p("Salma Hegazy", F, "EG", "Giza", Drifter { stops_on: 150, answers_offer: false }, 77, None),
        p("Ibrahim Nour", M, "EG", "Cairo", Occasional, 85, Some(0)),
        p("Farida Lotfy", F, "EG", "Cairo", Regular, 93, None),
        p("Walid Amin", M, "JO", "Irbid", Browser, 101, None),
        p("Heba Tawfik", F, "EG", "Alexandria", Drifter { stops_on: 190, answers_offer: true }, 110, Some(8)),
        p("Sherif Galal", M, "EG", "Cairo", Seasonal, 118, None),
        p("Reem Hassan", F, "EG", "Cairo", Occasional, 126, None),
        p("Adel Shawky", M, "EG", "Port Said", PoorCredit, 135, None),
        p("Mariam Aziz", F, "EG", "Cairo", Regular, 147, Some(0)),
        p("Tamer Hosny", M, "EG", "Giza", Drifter { stops_on: 230, answers_offer: true }, 160, None),
        p("Nada Soliman", F, "LB", "Beirut", Occasional, 172, None),
        p("Ziad Rashed", M, "EG", "Cairo", Browser, 185, None),
        p("Lamia Darwish", F, "EG", "Cairo", Regular, 199, Some(8)),
        p("Bassem Youssef", M, "EG", "Cairo", Occasional, 214, None),
        p("Ola Ragab", F, "EG", "Alexandria", Seasonal, 230, None),
        p("Fady Gerges", M, "EG", "Cairo", Regular, 250, None),
        p("Aya Medhat", F, "EG", "Giza", Occasional, 275, Some(0)),
        p("Hany Morsi", M, "EG", "Cairo", Regular, 300, None),
    ]
}

// -------------------------------------------------------------------------------------------
// Step 1: a customer record
// -------------------------------------------------------------------------------------------

/// Builds the CRM record for roster entry `index`. `Customer::new` gives a suspect with just
/// a name; the descriptive fields (profile, interests, channels, loyalty card, credit) are
/// public and can be filled in freely before the customer is stored.
fn customer_for(index: usize, person: &Person, joined: DateTime<Utc>, rng: &mut Rng) -> Result<Customer, Error> {
    let id = customer_id(index);
    let mut c = Customer::new(id, person.name, joined);
    c.profile.gender = person.gender;
    c.profile.birth_date = NaiveDate::from_ymd_opt(
        i32::try_from(rng.between(1958, 2006)).unwrap_or(1990),
        rng.between(1, 12),
        rng.between(1, 28),
    );
    c.profile.location.country = Some(CountryCode::new(person.country)?);
    c.profile.location.city = Some(person.city.to_owned());
    // Interests and channels drive segmentation and campaigns.
    for _ in 0..2 {
        let interest: &&str = rng.choose(&["novels", "history", "poetry", "comics", "cooking", "travel", "science"]);
        c.interests.insert(interest);
    }
    c.channels.preferred.insert(*rng.choose(&[Channel::Email, Channel::Sms, Channel::Web, Channel::InStore]));
    if rng.chance(30) {
        c.channels.opted_out.insert(Channel::Sms);
    }
    // A third of the people sign up for the loyalty card, which records every purchase.
    if rng.chance(33) {
        let joined_card = joined.date_naive();
        c.loyalty = Some(Loyalty { card_id: format!("NBC-{:04}", id.get()), joined: joined_card });
    }
    c.credit = match person.persona {
        Persona::PoorCredit => CreditStanding::Poor,
        _ if rng.chance(50) => CreditStanding::Good,
        _ => CreditStanding::Fair,
    };
    Ok(c)
}

/// Roster entry `index` gets id `index + 1`.
fn customer_id(index: usize) -> CustomerId {
    CustomerId::new(u64::try_from(index).unwrap_or(u64::MAX) + 1)
}

/// The roster index of the person called `name`.
fn index_of(people: &[Person], name: &str) -> Result<usize, String> {
    people.iter().position(|p| p.name == name).ok_or_else(|| format!("{name} is not in the roster"))
}

// -------------------------------------------------------------------------------------------
// Step 2: an observer that acts on transitions
// -------------------------------------------------------------------------------------------

/// Names and the best channel to reach each customer, for the observer's messages.
type Directory = BTreeMap<CustomerId, (String, Channel)>;

/// An [`Observer`](clientele::Observer) is told of every committed transition. This one
/// prepares a win-back offer whenever a customer is marked lost, and queues the customer so
/// the simulation can decide whether they answer it. A closure
/// `Fn(CustomerId, &Transition) + Send + Sync` is an observer too; a struct reads better when
/// it holds state.
struct WinBackOffers {
    directory: Arc<Mutex<Directory>>,
    sent: Arc<Mutex<Vec<CustomerId>>>,
}

impl clientele::Observer for WinBackOffers {
    fn on_transition(&self, id: CustomerId, t: &Transition) {
        if t.to != Stage::Lost {
            return;
        }
        let (name, channel) = match self.directory.lock() {
            Ok(d) => d.get(&id).cloned().unwrap_or_else(|| (id.to_string(), Channel::Mail)),
            Err(_) => (id.to_string(), Channel::Mail),
        };
        println!("    ✉ win-back offer to {name} ({}): \"We miss you! 20% off your next visit\"", by(channel));
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(id);
        }
    }
}

// -------------------------------------------------------------------------------------------
// The year
// -------------------------------------------------------------------------------------------

/// What happened in one month, for the monthly summary line.
#[derive(Default)]
struct Month {
    joined: u32,
    qualified: u32,
    disqualified: u32,
    purchases: u32,
    revenue: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ---------------------------------------------------------------------------------------
    // Step 3: a CRM = a store + a clock + a lifecycle policy
    // ---------------------------------------------------------------------------------------
    //
    // `MemoryStore` is the embedded store. `ManualClock` only moves when told to, which makes
    // a simulation (or a test) reproducible; production code would use the default
    // `SystemClock`. The `LifecyclePolicy` holds the thresholds that move customers
    // automatically. The defaults suit a business whose customers buy a few times a year; a
    // café sees its regulars weekly, so ours is quicker to call someone inactive or lost.
    let year_start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().ok_or("invalid start date")?;
    let year_end = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().ok_or("invalid end date")?;
    let clock = ManualClock::new(year_start);
    let policy = LifecyclePolicy {
        repeat_after_purchases: 2,
        client_after_purchases: 6,
        client_window: Window::days(120),
        advocate_after_referrals: 2,
        inactive_after_days: 45,
        lost_after_days: 90,
    };
    let mut crm = Crm::new(MemoryStore::new()).with_clock(&clock).with_policy(policy)?;

    let directory = Arc::new(Mutex::new(Directory::new()));
    let offers_sent = Arc::new(Mutex::new(Vec::new()));
    crm.observe(WinBackOffers { directory: Arc::clone(&directory), sent: Arc::clone(&offers_sent) });

    // Money is integer minor units of one currency: no floating point touches an amount.
    let egp = Currency::new("EGP")?;
    let event_ticket = Money::parse("250.00", egp)?;

    let people = roster();
    let mut rng = Rng::new(2025);
    // The simulation's own bookkeeping (not CRM data): each person's next visit.
    let mut next_visit: BTreeMap<usize, u32> = BTreeMap::new();
    let mut month = Month::default();

    heading("Nile Books & Coffee: the year 2025 in clientele");

    let days_in_year = u32::try_from((year_end - year_start).num_days())?;
    for day in 0..days_in_year {
        let today = year_start + Duration::days(i64::from(day));
        let at = |hour: i64| today + Duration::hours(hour);

        // -----------------------------------------------------------------------------------
        // Step 4: once a month, the lifecycle policy
        // -----------------------------------------------------------------------------------
        //
        // `run_policy` looks at every customer as of a date and applies the automatic moves:
        // idle customers become inactive, then lost; repeat customers who reached the
        // client threshold (or are exclusive) become clients; clients with enough referrals
        // become advocates. Each move is committed atomically and observers hear of it.
        if today.day() == 1 {
            if day > 0 {
                print_totals(&month, egp);
                month = Month::default();
            }
            println!("{}", today.format("%B %Y"));
            clock.set(at(6));
            run_policy(&crm, &people)?;
            // Some lost customers answer the offer and come back within a few weeks.
            let answered: Vec<CustomerId> = offers_sent.lock().map_err(|_| "offer queue poisoned")?.drain(..).collect();
            for id in answered {
                let index = usize::try_from(id.get() - 1)?;
                let answers = match people[index].persona {
                    Persona::Drifter { answers_offer, .. } => answers_offer,
                    Persona::Seasonal => false,
                    _ => rng.chance(50),
                };
                if answers {
                    next_visit.insert(index, day + rng.between(3, 20));
                }
            }
        }

        for (index, person) in people.iter().enumerate() {
            let id = customer_id(index);

            // -------------------------------------------------------------------------------
            // Step 5: new customers, and the sales team qualifying them
            // -------------------------------------------------------------------------------
            if person.joins_on == day {
                clock.set(at(9));
                // `insert` stores the customer at version 1, as a suspect.
                let customer = customer_for(index, person, clock.now(), &mut rng)?;
                let channel = customer.channels.reachable().iter().next().unwrap_or(Channel::Mail);
                directory.lock().map_err(|_| "directory poisoned")?.insert(id, (person.name.to_owned(), channel));
                crm.insert(customer)?;
                month.joined += 1;
                // A referral counts for whoever brought them. It is plain customer data; the
                // client → advocate move follows at the next policy run.
                if let Some(referrer) = person.referred_by {
                    crm.record_referral(customer_id(referrer))?;
                }
                // Qualifying is an event with a guard: credit must not be poor. A refused
                // event is a typed error naming the stage and the event, and changes nothing.
                let note = match person.referred_by {
                    Some(r) => format!("referred by {}", people[r].name),
                    None => "asked about the reading club".to_owned(),
                };
                match crm.apply(id, Event::Qualify, Some(&note)) {
                    Ok(_) => month.qualified += 1,
                    Err(Error::Transition(refused)) => {
                        println!("    ✗ {}: {refused}; declined", person.name);
                        crm.apply(id, Event::Disqualify, Some("low credit"))?;
                        month.disqualified += 1;
                    }
                    Err(other) => return Err(other.into()),
                }
                if !matches!(person.persona, Persona::Browser | Persona::PoorCredit) {
                    next_visit.insert(index, day + rng.between(1, 10));
                }
            }

            // -------------------------------------------------------------------------------
            // Step 6: purchases move customers up the ladder
            // -------------------------------------------------------------------------------
            //
            // `record_purchase` stores the purchase and every stage move it causes, in one
            // atomic write: suspect/prospect → first_time → repeat → client, inactive → back
            // where they were, lost → repeat (a win-back).
            if next_visit.get(&index) == Some(&day) {
                next_visit.remove(&index);
                clock.set(at(i64::from(rng.between(10, 20))));
                let (category, amount) = match rng.between(1, 10) {
                    1..=5 => ("coffee", Money::new(i64::from(rng.between(45, 140)) * 100, egp)),
                    6..=9 => ("books", Money::new(i64::from(rng.between(150, 650)) * 100, egp)),
                    _ => ("events", event_ticket),
                };
                let channel = if rng.chance(75) { Channel::InStore } else { Channel::Web };
                let purchase = Purchase::new(clock.now(), amount).with_category(category).with_channel(channel);
                for t in crm.record_purchase(id, purchase)? {
                    if t.kind == TransitionKind::WinBack || t.kind == TransitionKind::Reactivation {
                        println!("    ↺ {} is back: {} → {} ({})", person.name, t.from, t.to, kind_name(t.kind));
                    }
                }
                month.purchases += 1;
                month.revenue += amount.minor();
                if let Some(gap) = next_gap(person.persona, day, &mut rng) {
                    next_visit.insert(index, day + gap);
                }
            }
        }

        // -----------------------------------------------------------------------------------
        // Step 7: moves the business decides on
        // -----------------------------------------------------------------------------------
        clock.set(at(17));
        match day {
            // Youssef now buys all his books here: `edit` changes descriptive fields atomically
            // (here the exclusivity signal). Exclusivity meets the client threshold, so his next
            // purchase, or the next policy run, whichever comes first, makes him a client.
            120 => {
                crm.edit(customer_id(index_of(&people, "Youssef Farouk")?), |c| c.exclusive = true)?;
                println!("    ★ Youssef Farouk buys only from us now (marked exclusive)");
            }
            // Karim's credit improved: update it, then reconsider him (requalify).
            150 => {
                let index = index_of(&people, "Karim Khalil")?;
                let karim = customer_id(index);
                crm.edit(karim, |c| c.credit = CreditStanding::Good)?;
                crm.apply(karim, Event::Requalify, Some("credit check passed"))?;
                next_visit.insert(index, day + 4);
                println!("    ★ Karim Khalil requalified after a new credit check");
            }
            // Two advocates start working with us. `apply` returns the transition, or an
            // error if the event is not allowed in the customer's stage.
            200 | 240 => {
                let (name, note) = if day == 200 {
                    ("Mona Said", "hosts the monthly book club")
                } else {
                    ("Amira Saleh", "runs our poetry evenings")
                };
                match crm.apply(customer_id(index_of(&people, name)?), Event::EnterPartnership, Some(note)) {
                    Ok(Some(t)) => println!("    ★ {name} becomes a partner ({} → {}): {note}", t.from, t.to),
                    Ok(None) => {}
                    Err(e) => println!("    ✗ no partnership with {name}: {e}"),
                }
            }
            // Tamer stopped coming, but answers the autumn newsletter: an inactive customer who
            // engages again without buying is reactivated to the stage held before.
            320 => {
                let tamer = customer_id(index_of(&people, "Tamer Hosny")?);
                if crm.get(tamer)?.stage() == Stage::Inactive {
                    if let Some(t) = crm.apply(tamer, Event::Reactivate, Some("answered the autumn newsletter"))? {
                        println!("    ↺ Tamer Hosny is back: {} → {} (reactivation, no purchase)", t.from, t.to);
                    }
                }
            }
            // One partnership ends; the partner stays a client.
            330 => {
                let amira = customer_id(index_of(&people, "Amira Saleh")?);
                if let Some(t) = crm.apply(amira, Event::EndPartnership, Some("moved to Alexandria"))? {
                    println!("    ★ Amira Saleh ends the partnership ({} → {})", t.from, t.to);
                }
            }
            _ => {}
        }
    }
    print_totals(&month, egp);
    println!("{}", year_end.format("%B %Y"));
    clock.set(year_end);
    run_policy(&crm, &people)?;

    // ---------------------------------------------------------------------------------------
    // Step 8: where everyone stands, journeys, and the funnel
    // ---------------------------------------------------------------------------------------
    //
    // `funnel()` collects every customer's journey (their transitions, from the store's
    // history) for analytics: stage counts at a date, ladder conversions over a period,
    // median time in each stage, and the win-back rate.
    let funnel = crm.funnel()?;
    println!();
    heading(&format!("Customers by stage on {}", year_end.format("%Y-%m-%d")));
    for (stage, count) in funnel.stage_counts(year_end) {
        println!("{}", format!("  {:<22} {:>3}  {}", stage.name(), count, "▇".repeat(count)).trim_end());
    }

    println!();
    heading("Four journeys");
    // A partner, a customer won back twice, a declined prospect reconsidered, and an
    // exclusive client.
    for name in ["Mona Said", "Sara Mansour", "Karim Khalil", "Youssef Farouk"] {
        let id = customer_id(index_of(&people, name)?);
        let customer = crm.get(id)?;
        let journey = crm.journey(id)?;
        let place = customer.profile.location.city.as_deref().unwrap_or("?");
        println!("{name} ({id}, {place}), joined {}, now {}:", journey.start.format("%Y-%m-%d"), customer.stage());
        for t in &journey.transitions {
            let note = t.note.as_deref().map(|n| format!("\"{n}\"")).unwrap_or_default();
            let line = format!(
                "  {}  {:<34} {:<18} {:<17} {note}",
                t.at.format("%Y-%m-%d"),
                format!("{} → {}", t.from, t.to),
                t.event.name(),
                kind_name(t.kind)
            );
            println!("{}", line.trim_end());
        }
        let spent = customer.purchases().activity().total(egp);
        println!("  {} purchases, {spent} in total", customer.purchases().activity().count());
        println!();
    }

    heading("Funnel for 2025");
    println!("Ladder conversions (entered the first stage in 2025, reached the second by year end):");
    for (from, to, ratio) in funnel.ladder_conversions(year_start, year_end) {
        println!("  {:<24} {ratio}", format!("{from} → {to}"));
    }
    println!("Median time in stage (finished stays):");
    for (stage, median) in funnel.median_time_in_stage(year_end) {
        println!("  {:<22} {}", stage.name(), in_days(median));
    }
    println!("Win-back rate (lost in 2025, won back by year end): {}", funnel.win_back_rate(year_start, year_end));
    Ok(())
}

/// Days until the person's next visit, or `None` if they stop coming.
fn next_gap(persona: Persona, day: u32, rng: &mut Rng) -> Option<u32> {
    let gap = match persona {
        Persona::Regular | Persona::Ambassador => rng.between(5, 16),
        Persona::Occasional => rng.between(20, 50),
        Persona::Drifter { stops_on, .. } if day < stops_on => rng.between(8, 25),
        // After they stopped, a drifter who came back (answering an offer) visits once more.
        Persona::Drifter { .. } => return None,
        // Spring (days 59 to 150, March to May) and the holidays (from day 319, mid-November):
        // every week or two. Out of season, the next visit opens the next season.
        Persona::Seasonal => match day + rng.between(6, 14) {
            next @ (59..=150 | 319..) => next - day,
            0..=58 => 59 + rng.between(0, 6) - day,
            _ => 319 + rng.between(0, 10) - day,
        },
        Persona::Browser | Persona::PoorCredit => return None,
    };
    Some(gap)
}

/// Runs the policy as of the clock's now and prints what it moved. The observer prints its
/// offers while the run commits each move.
fn run_policy(crm: &Crm<MemoryStore, &ManualClock>, people: &[Person]) -> Result<(), Error> {
    let report = crm.run_policy(crm.clock().now())?;
    let moves: Vec<String> =
        report.transitions.iter().map(|(id, t)| format!("{} {} → {}", short_name(people, *id), t.from, t.to)).collect();
    if !moves.is_empty() {
        println!("    policy run: {}", moves.join(", "));
    }
    // Customers the policy could not move are listed, not fatal. None are expected here.
    for (id, why) in &report.skipped {
        println!("    policy skipped {id}: {why}");
    }
    Ok(())
}

fn print_totals(m: &Month, currency: Currency) {
    println!(
        "    = joined {}, qualified {}, declined {}; {} purchases, {}",
        m.joined,
        m.qualified,
        m.disqualified,
        m.purchases,
        Money::new(m.revenue, currency)
    );
}

fn heading(title: &str) {
    println!("{title}\n{}", "-".repeat(title.chars().count()));
}

/// How an offer reaches someone who prefers `channel`.
fn by(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "by email",
        Channel::Sms => "by text message",
        Channel::Web => "as a web notification",
        Channel::InStore => "as a voucher at the till",
        _ => "by post",
    }
}

/// A first name for compact lines.
fn short_name(people: &[Person], id: CustomerId) -> &'static str {
    let index = usize::try_from(id.get().saturating_sub(1)).unwrap_or(usize::MAX);
    people.get(index).and_then(|p| p.name.split(' ').next()).unwrap_or("?")
}

/// A duration in days, or in hours when shorter than a day.
fn in_days(d: Duration) -> String {
    match d.num_days() {
        0 => format!("{} hours", d.num_hours()),
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

fn kind_name(kind: TransitionKind) -> &'static str {
    match kind {
        TransitionKind::Progress => "progress",
        TransitionKind::Downgrade => "downgrade",
        TransitionKind::Disqualification => "disqualification",
        TransitionKind::Requalification => "requalification",
        TransitionKind::Reactivation => "reactivation",
        TransitionKind::WinBack => "win-back",
        _ => "other",
    }
}
