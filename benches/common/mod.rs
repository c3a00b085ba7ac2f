//! What the benchmarks share: the three predicates of the segmentation issue, so that every
//! benchmark measures the same P1, P2 and P3.

use clientele::synth::Population;

/// P1: demographics and geography.
pub const P1: &str = r#"age between 25 and 40 and country = "EG""#;

/// P2: lifecycle stage, purchase windows and loyalty.
pub const P2: &str = "(stage in (repeat, client, advocate) and purchases(last 90 days) >= 3 \
    and last_purchase within 30 days) or (loyalty_member and spent(last 365 days) > 1000.00)";

/// P3: interests, channels, a list of the synthetic population's ten cities, and a negation.
pub fn p3() -> String {
    let cities: Vec<String> = Population::ten_cities().iter().map(|c| format!("{c:?}")).collect();
    format!(
        "interests has \"sports\" and channels has web and city in ({}) and not gender = unknown",
        cities.join(", ")
    )
}
