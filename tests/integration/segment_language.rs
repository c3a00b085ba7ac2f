//! The segment language: text and JSON round trips, parser details, compiler-style error
//! rendering (fixtures in `tests/data/segment-errors/`), limits against hostile input, the
//! evaluation semantics, and agreement of the unbound and bound evaluators.
//!
//! Expected values are worked out by hand from the documented rules (the module docs of
//! `clientele::segment`, the field list in `Schema::fields`, `Window`, `TagSet`, `age_on`).

#![allow(clippy::unwrap_used, reason = "tests may unwrap; see clippy.toml")]

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    AttrValue, Change, Channel, Clock, CountryCode, CreditStanding, Crm, Currency, Customer, CustomerId, Decimal,
    Gender, LifecycleState, Loyalty, ManualClock, MemoryStore, Money, Purchase, Stage, Window,
    lifecycle::Lifecycle,
    segment::{
        Activity, AttrType, CmpOp, Condition, ErrorKind, Expr, Limits, Literal, Operand, Schema, Segment, SegmentError,
        Span, Spanned, Test,
    },
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Shared helpers.
// ---------------------------------------------------------------------------------------------

fn parse(text: &str) -> Expr {
    text.parse().unwrap_or_else(|e| panic!("{text:?} should parse:\n{e}"))
}

fn parse_err(text: &str) -> SegmentError {
    match text.parse::<Expr>() {
        Ok(e) => panic!("{text:?} should not parse, but gave {e:?}"),
        Err(e) => e,
    }
}

fn cond(operand: Operand, test: Test) -> Expr {
    Expr::Condition(Condition::new(operand, test))
}

/// `name` on its own, as a yes/no test.
fn flag(name: &str) -> Expr {
    cond(Operand::field(name), Test::IsTrue)
}

fn cmp(name: &str, op: CmpOp, value: Literal) -> Expr {
    cond(Operand::field(name), Test::Compare { op, value: value.into() })
}

fn int(n: i64) -> Literal {
    Literal::Int(n)
}

fn txt(s: &str) -> Literal {
    Literal::Text(s.into())
}

fn sym(s: &str) -> Literal {
    Literal::Symbol(s.into())
}

fn dec(mantissa: i64, scale: i32) -> Literal {
    Literal::Decimal(Decimal::new(mantissa, scale).unwrap())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// A customer with nothing but a name, created on 1 January 2025.
fn bare_customer() -> Customer {
    Customer::new(CustomerId::new(1), "Mona", at(2025, 1, 1, 9, 0, 0))
}

fn expected(expected: &str, found: &str) -> ErrorKind {
    ErrorKind::Expected { expected: expected.into(), found: found.into() }
}

/// Asserts that `text` fails to parse with `kind` at bytes `start..end`.
#[track_caller]
fn assert_parse_error(text: &str, kind: ErrorKind, start: usize, end: usize) {
    let err = parse_err(text);
    assert_eq!((err.kind(), err.span()), (&kind, Some(Span::new(start, end))), "{text:?}:\n{err}");
}

// ---------------------------------------------------------------------------------------------
// Round trips: text and JSON.
// ---------------------------------------------------------------------------------------------

/// The parser's reserved words (`parser::RESERVED`): never names or symbols.
const RESERVED: &[&str] = &[
    "and", "or", "not", "true", "false", "in", "between", "has", "contains", "starts", "ends", "is", "within",
    "before", "after", "segment",
];

/// Lowercase identifiers that are not reserved words, short ones mostly, up to the 64-byte
/// name limit sometimes, and the words the grammar uses after other keywords (`any`, `all`,
/// `with`, `set`, `last`, `days`, `attr`, `purchases`) on purpose.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z_][a-z0-9_]{0,10}",
        1 => "[a-z_][a-z0-9_]{63}",
        2 => prop::sample::select(vec![
            "any", "all", "with", "set", "last", "day", "days", "weeks", "month", "attr", "purchases", "spent", "age",
            "_", "x1",
        ])
        .prop_map(String::from),
    ]
    .prop_filter("not a reserved word", |s| !RESERVED.contains(&s.as_str()))
}

/// Text with the characters that need escapes, control characters, and any Unicode scalar.
fn text() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        3 => any::<char>(),
        3 => prop::char::range('a', 'z'),
        4 => prop::sample::select(vec![
            '"', '\\', '\n', '\r', '\t', '\0', '\u{7f}', '\u{1b}', '\u{85}', '\u{1F600}', 'é', '{', '}', 'u',
        ]),
    ];
    prop::collection::vec(ch, 0..10).prop_map(|cs| cs.into_iter().collect())
}

fn decimal() -> impl Strategy<Value = Decimal> {
    let mantissa = prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -1000i64..1000];
    (mantissa, 0i32..=18).prop_map(|(m, s)| Decimal::new(m, s).unwrap())
}

fn date_in_range() -> impl Strategy<Value = NaiveDate> {
    // Day 1 of the common era is 0001-01-01; day 3 652 059 is 9999-12-31.
    prop_oneof![1i32..=3_652_059, Just(1), Just(3_652_059)]
        .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap())
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -100i64..100].prop_map(Literal::Int),
        decimal().prop_map(Literal::Decimal),
        text().prop_map(Literal::Text),
        date_in_range().prop_map(Literal::Date),
        ident().prop_map(Literal::Symbol),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn lit() -> impl Strategy<Value = Spanned<Literal>> {
    literal().prop_map(Spanned::from)
}

fn lits() -> impl Strategy<Value = Vec<Spanned<Literal>>> {
    prop::collection::vec(lit(), 1..4)
}

fn window() -> impl Strategy<Value = Window> {
    let n = prop_oneof![0u32..400, any::<u32>()];
    prop_oneof![n.clone().prop_map(Window::days), (0u32..1000).prop_map(Window::weeks), n.prop_map(Window::months),]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge])
}

fn test_strategy() -> impl Strategy<Value = Test> {
    prop_oneof![
        (cmp_op(), lit()).prop_map(|(op, value)| Test::Compare { op, value }),
        (any::<bool>(), lits()).prop_map(|(negated, values)| Test::In { negated, values }),
        (any::<bool>(), lit(), lit()).prop_map(|(negated, low, high)| Test::Between { negated, low, high }),
        lit().prop_map(Test::Has),
        lits().prop_map(Test::HasAny),
        lits().prop_map(Test::HasAll),
        lit().prop_map(Test::Contains),
        lit().prop_map(Test::StartsWith),
        lit().prop_map(Test::EndsWith),
        any::<bool>().prop_map(|negated| Test::IsSet { negated }),
        window().prop_map(Test::Within),
        lit().prop_map(Test::Before),
        lit().prop_map(Test::After),
        Just(Test::IsTrue),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    let function = prop::sample::select(vec![Activity::Purchases, Activity::Spent]);
    prop_oneof![
        ident().prop_map(Operand::field),
        ident().prop_map(Operand::attr),
        (function, window()).prop_map(|(f, w)| Operand::activity(f, w)),
    ]
}

/// Any valid tree within the default limits.
fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(Expr::Const),
        1 => text().prop_map(Expr::segment),
        4 => (operand(), test_strategy()).prop_map(|(o, t)| Expr::Condition(Condition::new(o, t))),
    ];
    leaf.prop_recursive(5, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(Expr::negate),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printing_is_canonical_and_parses_back(ast in expr()) {
        prop_assert!(ast.validate(&Limits::default()).is_ok(), "the strategy makes valid trees: {ast:?}");
        let text = ast.to_string();
        let back = match text.parse::<Expr>() {
            Ok(e) => e,
            Err(e) => return Err(TestCaseError::fail(format!("{text:?} does not parse back:\n{e}"))),
        };
        prop_assert_eq!(&back, &ast, "text: {}", text);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn json_reads_back_the_same_tree(ast in expr()) {
        let json = serde_json::to_string(&ast).unwrap();
        let back: Expr = match serde_json::from_str(&json) {
            Ok(e) => e,
            Err(e) => return Err(TestCaseError::fail(format!("{json} does not read back: {e}"))),
        };
        prop_assert_eq!(back, ast);
    }
}

// ---------------------------------------------------------------------------------------------
// Parser details.
// ---------------------------------------------------------------------------------------------

#[test]
fn keywords_ignore_case_and_names_are_lowercased() {
    let shouted = parse(r#"AGE > 3 AND Not Loyalty_Member OR City BETWEEN "A" AND "b""#);
    let expected = Expr::Or(vec![
        Expr::And(vec![cmp("age", CmpOp::Gt, int(3)), Expr::negate(flag("loyalty_member"))]),
        cond(Operand::field("city"), Test::Between { negated: false, low: txt("A").into(), high: txt("b").into() }),
    ]);
    assert_eq!(shouted, expected);
    assert_eq!(shouted.to_string(), r#"age > 3 and not loyalty_member or city between "A" and "b""#);

    // Symbols are names too; strings keep their case.
    assert_eq!(
        parse("Stage IN (VIP, Gen_Z)"),
        cond(
            Operand::field("stage"),
            Test::In { negated: false, values: vec![sym("vip").into(), sym("gen_z").into()] }
        )
    );
    assert_eq!(parse(r#"city = "CaIrO""#), cmp("city", CmpOp::Eq, txt("CaIrO")));
    assert_eq!(parse("ATTR.NPS IS NOT SET"), cond(Operand::attr("nps"), Test::IsSet { negated: true }));
    assert_eq!(
        parse("Purchases(LAST 3 Days) >= 1"),
        cond(
            Operand::activity(Activity::Purchases, Window::days(3)),
            Test::Compare { op: CmpOp::Ge, value: int(1).into() }
        )
    );
    assert_eq!(
        parse("x = TRUE or FALSE"),
        Expr::Or(vec![cmp("x", CmpOp::Eq, Literal::Bool(true)), Expr::Const(false)])
    );
    assert_eq!(parse(r#"SEGMENT "VIP""#), Expr::segment("VIP"));
    assert_eq!(
        parse("city STARTS WITH \"a\" and city Ends With \"b\""),
        Expr::And(vec![
            cond(Operand::field("city"), Test::StartsWith(txt("a").into())),
            cond(Operand::field("city"), Test::EndsWith(txt("b").into())),
        ])
    );
    assert_eq!(
        parse("x NOT IN (1) and y WITHIN 2 WEEKS"),
        Expr::And(vec![
            cond(Operand::field("x"), Test::In { negated: true, values: vec![int(1).into()] }),
            cond(Operand::field("y"), Test::Within(Window::days(14))),
        ])
    );
}

#[test]
fn reserved_words_are_never_names() {
    for word in RESERVED {
        assert!(format!("{word} = 1").parse::<Expr>().is_err(), "{word} as a field");
        assert!(format!("attr.{word} = 1").parse::<Expr>().is_err(), "{word} as an attribute");
        let as_value = format!("x = {word}").parse::<Expr>();
        match *word {
            "true" | "false" => assert_eq!(as_value.unwrap(), cmp("x", CmpOp::Eq, Literal::Bool(*word == "true"))),
            _ => assert!(as_value.is_err(), "{word} as a symbol"),
        }
        // A reserved word inside a longer name is an ordinary name.
        assert_eq!(
            parse(&format!("{word}_x = {word}_y")),
            cmp(&format!("{word}_x"), CmpOp::Eq, sym(&format!("{word}_y")))
        );
    }
    // Words the grammar reads only after other keywords are ordinary names elsewhere.
    for word in ["any", "all", "with", "set", "last", "days", "attr", "purchases", "spent"] {
        assert_eq!(parse(&format!("{word} = {word}")), cmp(word, CmpOp::Eq, sym(word)));
    }
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    let (a, b, c) = (flag("a"), flag("b"), flag("c"));
    assert_eq!(parse("a or b and c"), Expr::Or(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])]));
    assert_eq!(parse("a and b or c"), Expr::Or(vec![Expr::And(vec![a.clone(), b.clone()]), c.clone()]));
    assert_eq!(parse("not a and b"), Expr::And(vec![Expr::negate(a.clone()), b.clone()]));
    assert_eq!(parse("not a or b"), Expr::Or(vec![Expr::negate(a.clone()), b.clone()]));
    assert_eq!(
        parse("a or not b and c"),
        Expr::Or(vec![a.clone(), Expr::And(vec![Expr::negate(b.clone()), c.clone()])])
    );
    assert_eq!(
        parse("not (a or b) and c"),
        Expr::And(vec![Expr::negate(Expr::Or(vec![a.clone(), b.clone()])), c.clone()])
    );
    assert_eq!(parse("not not a"), Expr::negate(Expr::negate(a.clone())));
    // Chains are flat; parentheses that group `and` inside `and` stay as nesting.
    assert_eq!(parse("a and b and c"), Expr::And(vec![a.clone(), b.clone(), c.clone()]));
    assert_eq!(parse("a and (b and c)"), Expr::And(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])]));
    assert_eq!(parse("((a))"), a);
    // The printer puts back exactly the parentheses precedence needs.
    for text in ["(a or b) and c", "a and (b and c)", "not (a and b) or (c or a)", "not not (a or b)", "a or b and c"] {
        assert_eq!(parse(text).to_string(), text);
    }
    assert_eq!(parse("((a)) OR (b AND c)").to_string(), "a or b and c");
}

#[test]
fn between_takes_its_own_and_inside_and_chains() {
    let between = |name: &str, negated, lo, hi| {
        cond(Operand::field(name), Test::Between { negated, low: int(lo).into(), high: int(hi).into() })
    };
    assert_eq!(
        parse(r#"age between 18 and 30 and country = "EG""#),
        Expr::And(vec![between("age", false, 18, 30), cmp("country", CmpOp::Eq, txt("EG"))])
    );
    assert_eq!(
        parse("age not between 1 and 2 and x between 3 and 4 or y"),
        Expr::Or(vec![Expr::And(vec![between("age", true, 1, 2), between("x", false, 3, 4)]), flag("y")])
    );
    assert_eq!(parse("a and age between 1 and 2"), Expr::And(vec![flag("a"), between("age", false, 1, 2)]));
    assert_parse_error(
        "age between 18 and",
        expected("a value (a string, number, date or name)", "the end of the text"),
        18,
        18,
    );
    assert_parse_error("age between 18 or 30", expected("`and`", "`or`"), 15, 17);
}

#[test]
fn has_any_and_has_all_need_a_list_right_after() {
    let on = |test| cond(Operand::field("interests"), test);
    assert_eq!(parse(r#"interests has any ("a", "b")"#), on(Test::HasAny(vec![txt("a").into(), txt("b").into()])));
    assert_eq!(parse(r#"interests has all("a")"#), on(Test::HasAll(vec![txt("a").into()])));
    assert_eq!(parse("interests has any_thing"), on(Test::Has(sym("any_thing").into())));
    assert_eq!(parse("interests has any"), on(Test::Has(sym("any").into())));
    assert_eq!(parse(r#"interests has "any""#), on(Test::Has(txt("any").into())));
    assert_eq!(parse("interests has all and b"), Expr::And(vec![on(Test::Has(sym("all").into())), flag("b")]));
    assert_eq!(parse("(interests has any)"), on(Test::Has(sym("any").into())));
    assert_parse_error("interests has any ()", expected("a value (a string, number, date or name)", "`)`"), 19, 20);
}

#[test]
fn string_escapes() {
    assert_eq!(
        parse(r#"city = "a\"b\\c\nd\te\rf\u{1F600}\u{41}\u{0}""#),
        cmp("city", CmpOp::Eq, txt("a\"b\\c\nd\te\rf\u{1F600}A\0"))
    );
    // Characters stand for themselves, line breaks included.
    assert_eq!(parse("city = \"line\nnext\""), cmp("city", CmpOp::Eq, txt("line\nnext")));
    assert_eq!(parse(r#"city = "القاهرة""#), cmp("city", CmpOp::Eq, txt("القاهرة")));
    // The printer escapes what needs it, and control characters as `\u{..}`.
    assert_eq!(
        cmp("city", CmpOp::Eq, txt("q\"b\\n\nt\tr\r\u{1}\u{7f}é😀")).to_string(),
        r#"city = "q\"b\\n\nt\tr\r\u{1}\u{7f}é😀""#
    );

    let bad = |shown: &str| ErrorKind::BadEscape(shown.into());
    assert_parse_error(r#"city = "a\qb""#, bad(r"\q"), 9, 11);
    assert_parse_error(r#"city = "\u{zz}""#, bad(r"\u{zz}"), 8, 10);
    assert_parse_error(r#"city = "\u{}""#, bad(r"\u"), 8, 10);
    assert_parse_error(r#"city = "\u41""#, bad(r"\u"), 8, 10);
    assert_parse_error(r#"city = "\u{110000}""#, bad(r"\u{110000}"), 8, 10);
    assert_parse_error(r#"city = "\u{D800}""#, bad(r"\u{D800}"), 8, 10);
    assert_parse_error(r#"city = "\u{+41}""#, bad(r"\u{+41}"), 8, 10);
    assert_parse_error(r#"city = "\u{-41}""#, bad(r"\u{-41}"), 8, 10);
    assert_parse_error(r#"city = "\u{1234567}""#, bad(r"\u"), 8, 10);
    assert_parse_error(r#"city = "abc"#, ErrorKind::UnterminatedString, 7, 11);
    assert_parse_error(r#"city = "abc\"#, ErrorKind::UnterminatedString, 7, 12);
    assert_parse_error(r#"city = "abc\""#, ErrorKind::UnterminatedString, 7, 13);
}

#[test]
fn dates_are_iso_calendar_days() {
    assert_eq!(parse("birth_date = 2000-02-29"), cmp("birth_date", CmpOp::Eq, Literal::Date(date(2000, 2, 29))));
    assert_eq!(
        parse("birth_date between 0001-01-01 and 9999-12-31"),
        cond(
            Operand::field("birth_date"),
            Test::Between {
                negated: false,
                low: Literal::Date(date(1, 1, 1)).into(),
                high: Literal::Date(date(9999, 12, 31)).into()
            }
        )
    );
    assert_eq!(
        parse("x before 2026-01-05 or x after 2026-01-05"),
        Expr::Or(vec![
            cond(Operand::field("x"), Test::Before(Literal::Date(date(2026, 1, 5)).into())),
            cond(Operand::field("x"), Test::After(Literal::Date(date(2026, 1, 5)).into())),
        ])
    );
    // Eight digits are a number, not a date.
    assert_eq!(parse("x = 20260105"), cmp("x", CmpOp::Eq, int(20_260_105)));
    let bad = |shown: &str| ErrorKind::BadDate(shown.into());
    assert_parse_error("birth_date = 2026-02-30", bad("2026-02-30"), 13, 23);
    assert_parse_error("birth_date = 2025-02-29", bad("2025-02-29"), 13, 23);
    assert_parse_error("birth_date = 2026-13-01", bad("2026-13-01"), 13, 23);
    assert_parse_error("birth_date = 2026-1-01", bad("2026-1-01"), 13, 22);
    assert_parse_error("birth_date = 2026-01-01x", bad("2026-01-01x"), 13, 24);
    assert_parse_error("birth_date = 2026-", bad("2026-"), 13, 18);
}

#[test]
fn numbers_whole_decimal_and_negative() {
    assert_eq!(parse("nps > -3"), cmp("nps", CmpOp::Gt, int(-3)));
    assert_eq!(parse("score < -0.50"), cmp("score", CmpOp::Lt, dec(-50, 2)));
    assert_eq!(parse("x = 1.5"), cmp("x", CmpOp::Eq, dec(15, 1)));
    assert_eq!(parse("x = 007"), cmp("x", CmpOp::Eq, int(7)));
    assert_eq!(parse("x = -9223372036854775808"), cmp("x", CmpOp::Eq, int(i64::MIN)));
    assert_eq!(parse("x = 9223372036854775807"), cmp("x", CmpOp::Eq, int(i64::MAX)));
    assert_eq!(
        parse("x in (-1,-2)"),
        cond(Operand::field("x"), Test::In { negated: false, values: vec![int(-1).into(), int(-2).into()] })
    );
    // A whole decimal prints with `.0` so that it reads back as a decimal, even the largest.
    assert_eq!(cmp("x", CmpOp::Eq, dec(5, 0)).to_string(), "x = 5.0");
    assert_eq!(parse("x = 9223372036854775807.0"), cmp("x", CmpOp::Eq, dec(i64::MAX, 0)));
    assert_eq!(parse("x = -9223372036854775808.00"), cmp("x", CmpOp::Eq, dec(i64::MIN, 0)));

    let bad = |shown: &str| ErrorKind::BadNumber(shown.into());
    assert_parse_error("x = 9223372036854775808", bad("9223372036854775808"), 4, 23);
    assert_parse_error("x = 92233720368547758.08", bad("92233720368547758.08"), 4, 24);
    assert_parse_error("score = 1.2.3", bad("1.2.3"), 8, 13);
    assert_parse_error("x = 1.", bad("1."), 4, 6);
    assert_parse_error("x = 12abc", bad("12abc"), 4, 9);
    assert_parse_error("x = - 3", ErrorKind::UnexpectedChar('-'), 4, 5);
    assert_parse_error("x = .5", expected("a value (a string, number, date or name)", "`.`"), 4, 5);
}

#[test]
fn syntax_errors_name_what_was_expected_and_where() {
    let value = "a value (a string, number, date or name)";
    let end = "the end of the text";
    assert_parse_error("age >= ", expected(value, end), 7, 7);
    assert_parse_error(
        "age > 3)",
        expected("`and`, `or` or the end of the text (this `)` closes nothing)", "`)`"),
        7,
        8,
    );
    assert_parse_error("age > 3 age", expected("`and`, `or` or the end of the text", "`age`"), 8, 11);
    assert_parse_error("(age > 3", expected("`)`", end), 8, 8);
    assert_parse_error("age > 3 @", ErrorKind::UnexpectedChar('@'), 8, 9);
    assert_parse_error("age ! 3", ErrorKind::UnexpectedChar('!'), 4, 5);
    // Spans are bytes; `∧` takes three.
    assert_parse_error("age > 3 ∧ x", ErrorKind::UnexpectedChar('∧'), 8, 11);
    let operand = "a field, `segment \"name\"`, `true`, `false`, `not` or `(`";
    assert_parse_error("and x", expected(operand, "`and`"), 0, 3);
    assert_parse_error("not", expected(operand, end), 3, 3);
    assert_parse_error("a and or b", expected(operand, "`or`"), 6, 8);
    assert_parse_error("x = and", expected(value, "`and`"), 4, 7);
    assert_parse_error("x = 1 = 2", expected("`and`, `or` or the end of the text", "`=`"), 6, 7);
    assert_parse_error("segment vip", expected("a segment name in quotes", "`vip`"), 8, 11);
    assert_parse_error(
        "purchases(last 3 fortnights) > 1",
        expected("`days`, `weeks` or `months`", "`fortnights`"),
        17,
        27,
    );
    assert_parse_error("purchases(3 days) > 1", expected("`last`", "`3`"), 10, 11);
    assert_parse_error("purchases(last 3 days > 1", expected("`)`", "`>`"), 22, 23);
    assert_parse_error("spent(last days) > 1", expected("a whole number of days, weeks or months", "`days`"), 11, 15);
    assert_parse_error(
        "purchases(last -1 days) > 1",
        ErrorKind::BadNumber("-1 (a count from 0 to 4294967295)".into()),
        15,
        17,
    );
    assert_parse_error(
        "x within 4294967296 days",
        ErrorKind::BadNumber("4294967296 (a count from 0 to 4294967295)".into()),
        9,
        19,
    );
    assert_parse_error("age is sett", expected("`set`", "`sett`"), 7, 11);
    assert_parse_error(r#"city starts "x""#, expected("`with`", "a string"), 12, 15);
    assert_parse_error(
        "age 42",
        expected("an operator (`=`, `in`, `between`, `has`, `contains`, `is set`, `within`, ...)", "`42`"),
        4,
        6,
    );
    assert_parse_error("x in ()", expected(value, "`)`"), 6, 7);
    assert_parse_error("x in (1 2)", expected("`,` or `)`", "`2`"), 8, 9);
    assert_parse_error("x in 1", expected("`(`", "`1`"), 5, 6);
    assert_parse_error("attr.", expected("an attribute name after `attr.`", end), 5, 5);
    assert_parse_error("attr.not = 1", expected("an attribute name after `attr.`", "`not`"), 5, 8);
    assert_parse_error("x = in", expected(value, "`in`"), 4, 6);
    // An error at offset 0 with no width (empty text) has no position to show.
    let empty = parse_err("");
    assert_eq!(empty.kind(), &expected(operand, end));
    assert_eq!(empty.to_string(), format!("error: expected {operand}, found the end of the text\n"));
}

#[test]
fn line_and_column_count_lines_and_characters() {
    assert_eq!(parse_err("age > 1 and\n  @").line_column(), Some((2, 3)));
    assert_eq!(parse_err("city = \"é\" and\n\n ∧").line_column(), Some((3, 2)));
    assert_eq!(parse_err("city = \"ééé\" @").line_column(), Some((1, 14)));
    let too_long = Expr::parse_with("true", &Limits { max_text_bytes: 3, ..Limits::default() }).unwrap_err();
    assert_eq!(too_long.kind(), &ErrorKind::TooLong { len: 4, max: 3 });
    assert_eq!((too_long.span(), too_long.line_column()), (None, None));
    assert_eq!(too_long.to_string(), "error: segment text is 4 bytes, at most 3 allowed\n");
}

// ---------------------------------------------------------------------------------------------
// Errors render like a compiler's: fixtures in tests/data/segment-errors/.
// ---------------------------------------------------------------------------------------------

/// The schema the error fixtures compile against.
fn fixture_schema() -> Schema {
    let mut schema = Schema::new(Currency::EGP)
        .with_attribute("nps", AttrType::Int)
        .and_then(|s| s.with_attribute("survey_done", AttrType::Bool))
        .and_then(|s| s.with_attribute("tier", AttrType::Text))
        .and_then(|s| s.with_attribute("score", AttrType::Decimal))
        .and_then(|s| s.with_attribute("joined_promo", AttrType::Date))
        .and_then(|s| s.with_attribute("langs", AttrType::TextList))
        .and_then(|s| s.with_attribute("credit_limit", AttrType::Money))
        .unwrap();
    schema.define("vip", "spent(last 365 days) > 5000.00").unwrap();
    schema.define("young", "age < 30").unwrap();
    schema.define("loop_a", r#"segment "loop_b""#).unwrap();
    schema.define("loop_b", r#"country = "EG" and segment "loop_a""#).unwrap();
    // Definitions are only parsed; this one fails when a segment using it is compiled.
    schema.define("stale", "agee > 3").unwrap();
    schema
}

#[test]
fn error_fixtures_render_exactly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/segment-errors");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "txt"));
    paths.sort();
    assert!(paths.len() >= 20, "fixtures missing from {}", dir.display());
    let schema = fixture_schema();
    let mut failures = Vec::new();
    for path in &paths {
        let file = std::fs::read_to_string(path).unwrap();
        let (input, want) = file.split_once("\n---\n").unwrap_or_else(|| panic!("{}: no `---` line", path.display()));
        let got = match Segment::compile(input, &schema) {
            Ok(s) => format!("compiled: {s}\n"),
            Err(e) => e.to_string(),
        };
        if got != want {
            failures.push(format!("{}:\n--- expected\n{want}--- got\n{got}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures differ:\n{}", failures.len(), paths.len(), failures.join("\n"));
}

#[test]
fn errors_without_source_text_show_the_message_only() {
    // A tree read from JSON has no spans: no position to show.
    let json = r#"{"condition":{"operand":{"field":"agee"},"test":{"compare":{"op":"gt","value":{"int":3}}}}}"#;
    let err = Segment::from_expr(serde_json::from_str(json).unwrap(), &fixture_schema()).unwrap_err();
    assert_eq!((err.span(), err.line_column()), (None, None));
    assert_eq!(err.to_string(), "error: unknown field `agee` (did you mean `age`?)\n");
    // A parsed tree keeps its spans, but only `Segment::compile` has the text to show.
    let err = Segment::from_expr(parse("age > 3 or agee > 3"), &fixture_schema()).unwrap_err();
    assert_eq!((err.span(), err.line_column()), (Some(Span::new(11, 15)), None));
    assert_eq!(err.to_string(), "error: unknown field `agee` (did you mean `age`?)\n");
    // An error in a definition shows the definition.
    let mut schema = Schema::default();
    let err = schema.define("broken", "age >\n  and").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error: expected a value (a string, number, date or name), found `and`\n --> 2:3\n  |\n2 |   and\n  |   ^^^\n"
    );
    // Names: 64 bytes at most, in text as in JSON.
    let long = format!("{} > 1", "a".repeat(65));
    let err = Segment::compile(&long, &Schema::default()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::BadName("a".repeat(64)));
    assert_eq!(err.span(), Some(Span::new(0, 65)));
}

// ---------------------------------------------------------------------------------------------
// Limits and hostile input.
// ---------------------------------------------------------------------------------------------

/// Default limits, but no cap on the text's length: to reach the other guards with huge text.
fn unlimited_text() -> Limits {
    Limits { max_text_bytes: usize::MAX, ..Limits::default() }
}

fn json_err(json: &str) -> String {
    match serde_json::from_str::<Expr>(json) {
        Ok(e) => panic!("{json:.200} should be refused, but gave {e:.200?}"),
        Err(e) => e.to_string(),
    }
}

/// Runs `f` on a thread with a small stack: hostile nesting must be refused long before it
/// could use much of it.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(1024 * 1024).spawn(f).unwrap().join().unwrap();
}

#[test]
fn text_over_the_length_limit_is_refused_whole() {
    let mut at_limit = "true or ".repeat(2047) + "true";
    at_limit.push_str(&" ".repeat(16 * 1024 - at_limit.len()));
    assert_eq!(at_limit.len(), 16_384);
    assert!(at_limit.parse::<Expr>().is_ok());
    let over = at_limit + " ";
    let err = parse_err(&over);
    assert_eq!(err.kind(), &ErrorKind::TooLong { len: 16_385, max: 16_384 });
    assert_eq!(err.span(), None);
    assert_eq!(err.to_string(), "error: segment text is 16385 bytes, at most 16384 allowed\n");

    let parens = "(".repeat(100_000) + "true" + &")".repeat(100_000);
    assert_eq!(parse_err(&parens).kind(), &ErrorKind::TooLong { len: 200_004, max: 16_384 });
    let nots = "not ".repeat(100_000) + "true";
    assert_eq!(parse_err(&nots).kind(), &ErrorKind::TooLong { len: 400_004, max: 16_384 });
    // A 10 MB string literal cannot fit in the text.
    let literal = format!(r#"city = "{}""#, "x".repeat(10_000_000));
    assert_eq!(parse_err(&literal).kind(), &ErrorKind::TooLong { len: 10_000_009, max: 16_384 });
    let err = Segment::compile(&literal, &fixture_schema()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooLong { len: 10_000_009, max: 16_384 });
}

#[test]
fn hostile_nesting_is_an_error_not_a_stack_overflow() {
    on_small_stack(|| {
        let limits = unlimited_text();
        let parens = "(".repeat(100_000) + "true" + &")".repeat(100_000);
        let err = Expr::parse_with(&parens, &limits).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooDeep { max: 64 });
        assert!(err.span().is_some_and(|s| s.end <= 100), "{:?}", err.span());
        let nots = "not ".repeat(100_000) + "true";
        assert_eq!(Expr::parse_with(&nots, &limits).unwrap_err().kind(), &ErrorKind::TooDeep { max: 64 });
        let mixed = "not (".repeat(50_000) + "true" + &")".repeat(50_000);
        assert_eq!(Expr::parse_with(&mixed, &limits).unwrap_err().kind(), &ErrorKind::TooDeep { max: 64 });
        // A 10 MB literal in text allowed to be that long stops at the literal limit.
        let literal = format!(r#"city = "{}""#, "x".repeat(10_000_000));
        let err = Expr::parse_with(&literal, &limits).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::LiteralTooLong { len: 10_000_000, max: 1024 });
        assert_eq!(err.span(), Some(Span::new(7, literal.len())));
    });
}

#[test]
fn nesting_up_to_the_limit_is_fine_in_text_and_json_alike() {
    for n in [63, 64, 65] {
        let text = "not ".repeat(n) + "true";
        let mut tree = Expr::Const(true);
        for _ in 0..n {
            tree = Expr::negate(tree);
        }
        let json = "{\"not\":".repeat(n) + "{\"const\":true}" + &"}".repeat(n);
        assert_eq!(serde_json::to_string(&tree).unwrap(), json);
        let from_text = text.parse::<Expr>();
        let from_json = serde_json::from_str::<Expr>(&json);
        if n <= 64 {
            assert_eq!(from_text.unwrap(), tree);
            assert_eq!(from_json.unwrap(), tree);
        } else {
            assert_eq!(from_text.unwrap_err().kind(), &ErrorKind::TooDeep { max: 64 });
            assert!(from_json.unwrap_err().to_string().contains("segment nests deeper than 64 levels"));
        }
        let parens = "(".repeat(n) + "true" + &")".repeat(n);
        assert_eq!(parens.parse::<Expr>().is_ok(), n <= 64, "{n} parentheses");
    }
}

#[test]
fn hostile_json_is_refused_without_overflowing_the_stack() {
    on_small_stack(|| {
        let deep_not = "{\"not\":".repeat(100_000) + "{\"const\":true}" + &"}".repeat(100_000);
        assert!(json_err(&deep_not).contains("segment nests deeper than 64 levels"));
        // `and` lists nest two JSON levels each, so serde_json's own limit (128 levels) may
        // answer first; either way it is an error.
        let deep_and = "{\"and\":[{\"const\":true},".repeat(100_000) + "{\"const\":true}" + &"]}".repeat(100_000);
        json_err(&deep_and);
        json_err(&"{\"or\":[".repeat(100_000));
        // Under a smaller limit, the guard's own message.
        let limits = Limits { max_depth: 10, ..Limits::default() };
        let nested = |n: usize| "{\"and\":[{\"const\":true},".repeat(n) + "{\"const\":true}" + &"]}".repeat(n);
        let read = |json: &str| Expr::deserialize_with(&mut serde_json::Deserializer::from_str(json), &limits);
        assert!(read(&nested(10)).is_ok());
        assert!(read(&nested(11)).unwrap_err().to_string().contains("segment nests deeper than 10 levels"));
    });
}

#[test]
fn json_form_is_the_documented_one() {
    let tree = Expr::And(vec![
        cmp("city", CmpOp::Eq, txt("x")),
        cond(Operand::attr("nps"), Test::IsTrue),
        cond(Operand::activity(Activity::Spent, Window::days(365)), Test::IsSet { negated: false }),
        Expr::negate(Expr::segment("vip")),
    ]);
    let json = concat!(
        r#"{"and":["#,
        r#"{"condition":{"operand":{"field":"city"},"test":{"compare":{"op":"eq","value":{"text":"x"}}}}},"#,
        r#"{"condition":{"operand":{"attr":"nps"},"test":"is_true"}},"#,
        r#"{"condition":{"operand":{"activity":{"function":"spent","window":"365 days"}},"test":{"is_set":{"negated":false}}}},"#,
        r#"{"not":{"segment":"vip"}}"#,
        "]}"
    );
    assert_eq!(serde_json::to_string(&tree).unwrap(), json);
    assert_eq!(serde_json::from_str::<Expr>(json).unwrap(), tree);
}

/// `innermost` inside `wraps` groups alternating `and` and `or`, each `flag OP (...)`: nothing
/// flattens, so the tree is `wraps` groups deep.
fn alternating_groups(innermost: &str, flag: &str, wraps: usize) -> String {
    let mut text = innermost.to_owned();
    for depth in 0..wraps {
        let op = if depth % 2 == 0 { "and" } else { "or" };
        text = format!("{flag} {op} ({text})");
    }
    text
}

/// `levels` nested groups (`levels - 1` parentheses), alternating `and` and `or`.
fn nested_groups(levels: usize) -> Expr {
    parse(&alternating_groups("a", "b", levels - 1))
}

#[test]
fn json_reads_back_nesting_up_to_serde_jsons_own_limit() {
    let deepest = nested_groups(64);
    assert!(deepest.validate(&Limits::default()).is_ok(), "64 levels are within the default limits");
    let one_less = nested_groups(63);
    assert_eq!(serde_json::from_str::<Expr>(&serde_json::to_string(&one_less).unwrap()).unwrap(), one_less);
    // FIXME: at exactly 64 levels each `and`/`or` is an object plus an array, which reaches
    // serde_json's own recursion limit (128) before ours; such a tree prints and parses as
    // text but does not read back from serde_json. Not fixable here without serde_json's
    // `unbounded_depth` feature in the embedding application (or a lower default depth).
    let err = serde_json::from_str::<Expr>(&serde_json::to_string(&deepest).unwrap()).unwrap_err();
    assert!(err.to_string().contains("recursion limit exceeded"), "{err}");
    assert_eq!(parse(&deepest.to_string()), deepest);
}

#[test]
fn spans_are_not_part_of_a_trees_value() {
    use std::hash::BuildHasher;
    // Regression: activity operands compared their spans, so a parsed tree differed from the
    // same tree built in Rust or read from JSON.
    let parsed = parse("x or  purchases(last 3 days) >= 1");
    let built = Expr::Or(vec![
        flag("x"),
        cond(
            Operand::activity(Activity::Purchases, Window::days(3)),
            Test::Compare { op: CmpOp::Ge, value: int(1).into() },
        ),
    ]);
    assert_eq!(parsed, built);
    let hasher = std::collections::hash_map::RandomState::new();
    assert_eq!(hasher.hash_one(&parsed), hasher.hash_one(&built));
    let Expr::Or(items) = &parsed else { panic!("{parsed:?}") };
    let Expr::Condition(c) = &items[1] else { panic!("{parsed:?}") };
    assert_eq!(c.operand.span(), Span::new(6, 28), "spans are kept for messages");
    assert_ne!(
        Operand::activity(Activity::Purchases, Window::days(3)),
        Operand::activity(Activity::Spent, Window::days(3))
    );
    assert_ne!(
        Operand::activity(Activity::Spent, Window::days(3)),
        Operand::activity(Activity::Spent, Window::months(3))
    );
    assert_ne!(Operand::field("x"), Operand::attr("x"));
}

#[test]
fn json_breaking_the_rules_is_refused() {
    let long = Expr::Condition(Condition::new(
        Operand::field("city"),
        Test::Compare { op: CmpOp::Eq, value: txt(&"x".repeat(10_000_000)).into() },
    ));
    let err = json_err(&serde_json::to_string(&long).unwrap());
    assert!(err.contains("text literal is 10000000 bytes, at most 1024 allowed"), "{err}");
    let long_name = serde_json::to_string(&Expr::segment("n".repeat(1025))).unwrap();
    assert!(json_err(&long_name).contains("text literal is 1025 bytes, at most 1024 allowed"));

    for (json, message) in [
        (r#"{"and":[{"const":true}]}"#, "expected at least two operands for `and`, found 1"),
        (r#"{"or":[]}"#, "expected at least two operands for `or`, found 0"),
        (
            r#"{"condition":{"operand":{"field":"x"},"test":{"in":{"negated":false,"values":[]}}}}"#,
            "expected at least one value in the list, found none",
        ),
        (r#"{"condition":{"operand":{"field":"Age"},"test":"is_true"}}"#, "`Age` is not a valid name"),
        (r#"{"condition":{"operand":{"attr":"and"},"test":"is_true"}}"#, "`and` is not a valid name"),
        (r#"{"condition":{"operand":{"field":"1x"},"test":"is_true"}}"#, "`1x` is not a valid name"),
        (r#"{"condition":{"operand":{"field":"x"},"test":{"has":{"symbol":"a b"}}}}"#, "`a b` is not a valid name"),
        (
            r#"{"condition":{"operand":{"field":"x"},"test":{"before":{"date":"0000-12-31"}}}}"#,
            "date 0000-12-31 is outside the years 1 to 9999",
        ),
        (r#"{"const":true,"not":{"const":true}}"#, "unexpected key `not`: an expression has exactly one key"),
        (r#"{"xor":[]}"#, "unknown variant `xor`"),
        (r#"{}"#, "invalid length 0"),
        (r#"[]"#, "invalid type"),
        (
            r#"{"condition":{"operand":{"activity":{"function":"spent","window":"ninety days"}},"test":"is_true"}}"#,
            "`ninety days` is not a window",
        ),
    ] {
        let err = json_err(json);
        assert!(err.contains(message), "{json}: {err}");
    }
    // The same rule for trees built in Rust.
    let one = Expr::And(vec![Expr::Const(true)]);
    let kind = expected("at least two operands for `and`", "1");
    assert_eq!(one.validate(&Limits::default()).unwrap_err().kind(), &kind);
    assert_eq!(Segment::from_expr(one, &Schema::default()).unwrap_err().kind(), &kind);
}

#[test]
fn json_that_is_not_utf8_is_refused() {
    assert!(serde_json::from_slice::<Expr>(b"{\"segment\":\"vip\"}").is_ok());
    for bytes in [
        &b"{\"segment\":\"v\xffp\"}"[..],
        b"{\"segment\":\"\xc3\"}",
        b"{\"condition\":{\"operand\":{\"field\":\"c\xe9ity\"},\"test\":\"is_true\"}}",
        b"{\"const\":true}\xff",
        b"\xfe\xff{\"const\":true}",
    ] {
        assert!(serde_json::from_slice::<Expr>(bytes).is_err(), "{bytes:?}");
    }
}

fn list_text(n: usize) -> String {
    format!("x in ({})", vec!["1"; n].join(","))
}

#[test]
fn lists_are_held_to_max_list_len() {
    assert!(list_text(1024).parse::<Expr>().is_ok());
    // The 1025th value starts after `x in (` and 1024 times `1,`.
    assert_parse_error(&list_text(1025), ErrorKind::ListTooLong { len: 1025, max: 1024 }, 2054, 2055);
    let any = format!("interests has any ({})", vec!["\"a\""; 1025].join(","));
    assert_eq!(parse_err(&any).kind(), &ErrorKind::ListTooLong { len: 1025, max: 1024 });
    let all = format!("interests has all ({})", vec!["\"a\""; 1025].join(","));
    assert_eq!(parse_err(&all).kind(), &ErrorKind::ListTooLong { len: 1025, max: 1024 });

    let wide = Limits { max_list_len: 2000, ..Limits::default() };
    let tree = Expr::parse_with(&list_text(1025), &wide).unwrap();
    assert!(json_err(&serde_json::to_string(&tree).unwrap()).contains("list has 1025 items, at most 1024 allowed"));
    assert_eq!(tree.validate(&Limits::default()).unwrap_err().kind(), &ErrorKind::ListTooLong { len: 1025, max: 1024 });

    let two = Limits { max_list_len: 2, ..Limits::default() };
    assert!(Expr::parse_with(&list_text(2), &two).is_ok());
    assert_eq!(Expr::parse_with(&list_text(3), &two).unwrap_err().kind(), &ErrorKind::ListTooLong { len: 3, max: 2 });
}

/// Four `in` lists joined by `or`, with `extra` more values in the last: one `or`, four
/// conditions and 4 091 + `extra` values make 4 096 + `extra` nodes.
fn nodes_text(extra: usize) -> String {
    [1024, 1024, 1024, 1019 + extra].map(list_text).join(" or ")
}

#[test]
fn node_count_is_held_to_max_nodes() {
    assert!(nodes_text(0).len() < 16_384);
    let exact = parse(&nodes_text(0));
    assert!(exact.validate(&Limits::default()).is_ok());
    assert_eq!(serde_json::from_str::<Expr>(&serde_json::to_string(&exact).unwrap()).unwrap(), exact);

    assert_eq!(parse_err(&nodes_text(1)).kind(), &ErrorKind::TooManyNodes { max: 4096 });
    let over = Expr::parse_with(&nodes_text(1), &Limits { max_nodes: 5000, ..Limits::default() }).unwrap();
    assert!(json_err(&serde_json::to_string(&over).unwrap()).contains("segment has more than 4096 nodes"));
    assert_eq!(over.validate(&Limits::default()).unwrap_err().kind(), &ErrorKind::TooManyNodes { max: 4096 });

    // `true or ...` with 11 constants: 12 nodes.
    let small = Limits { max_nodes: 11, ..Limits::default() };
    let consts = ["true"; 11].join(" or ");
    assert_eq!(Expr::parse_with(&consts, &Limits { max_nodes: 12, ..small.clone() }).unwrap().to_string(), consts);
    assert_eq!(Expr::parse_with(&consts, &small).unwrap_err().kind(), &ErrorKind::TooManyNodes { max: 11 });
}

/// A schema with `s0` = `true` and `sN` = `segment "sN-1"` up to `s{top}`.
fn chain_schema(schema: Schema, top: usize) -> Schema {
    let mut schema = schema;
    schema.define("s0", "true").unwrap();
    for i in 1..=top {
        schema.define(&format!("s{i}"), &format!("segment \"s{}\"", i - 1)).unwrap();
    }
    schema
}

#[test]
fn reference_chains_are_held_to_max_reference_depth() {
    let schema = chain_schema(Schema::default(), 20);
    // `segment "s15"` expands 16 references (s15 down to s0): the most allowed.
    let ok = Segment::compile(r#"segment "s15""#, &schema).unwrap();
    assert!(ok.matches(&bare_customer(), at(2026, 1, 1, 0, 0, 0)));
    let err = Segment::compile(r#"segment "s16""#, &schema).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ReferencesTooDeep { max: 16 });
    assert_eq!(
        err.to_string(),
        "error: segment references nest deeper than 16\n --> 1:9\n  |\n1 | segment \"s16\"\n  |         ^^^^^\n"
    );

    let shallow =
        chain_schema(Schema::default().with_limits(Limits { max_reference_depth: 2, ..Limits::default() }), 5);
    assert!(Segment::compile(r#"segment "s1""#, &shallow).is_ok());
    assert_eq!(
        Segment::compile(r#"segment "s2""#, &shallow).unwrap_err().kind(),
        &ErrorKind::ReferencesTooDeep { max: 2 }
    );
}

#[test]
fn deepest_legal_segments_compile_and_evaluate_on_a_default_thread_stack() {
    // 17 definitions, each 64 groups deep (alternating `and`/`or`, so they hardly flatten), each
    // referring to the next: the deepest predicate the default limits allow (16 references
    // of 64 levels). Checked on 2 MiB, the default stack of a spawned thread, even in debug
    // builds; this used to need more than 4 MiB.
    let mut schema = Schema::default();
    let mut inner = "true".to_owned();
    for level in 0..17 {
        let text = format!("exclusive and ({})", alternating_groups(&inner, "loyalty_member", 63));
        schema.define(&format!("deep{level}"), &text).unwrap();
        inner = format!("segment \"deep{level}\"");
    }
    assert_eq!(
        Segment::compile(r#"segment "deep16""#, &schema).unwrap_err().kind(),
        &ErrorKind::ReferencesTooDeep { max: 16 }
    );
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let segment = Segment::compile(r#"segment "deep15""#, &schema).unwrap();
            let t = at(2026, 1, 1, 0, 0, 0);
            let mut c = bare_customer();
            assert!(!segment.matches(&c, t));
            c.exclusive = true;
            // Every `and` also needs `loyalty_member`.
            assert!(!segment.matches(&c, t));
            assert!(!segment.at(t).matches(&c));
            c.loyalty = Some(Loyalty { card_id: "L1".into(), joined: date(2025, 1, 1) });
            assert!(segment.matches(&c, t));
            assert!(segment.at(t).matches(&c));
            assert_eq!(segment.clone(), segment);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn custom_limits_are_honoured_everywhere() {
    let tight = Limits {
        max_text_bytes: 40,
        max_depth: 2,
        max_nodes: 8,
        max_list_len: 2,
        max_literal_bytes: 3,
        max_reference_depth: 1,
    };
    let parse_with = |text: &str| Expr::parse_with(text, &tight);
    assert!(parse_with(r#"city = "abc""#).is_ok());
    assert!(parse_with(r#"city = "é""#).is_ok());
    // Bytes, not characters, after unescaping.
    assert_eq!(parse_with(r#"city = "abcd""#).unwrap_err().kind(), &ErrorKind::LiteralTooLong { len: 4, max: 3 });
    assert_eq!(parse_with(r#"city = "\u{1F600}""#).unwrap_err().kind(), &ErrorKind::LiteralTooLong { len: 4, max: 3 });
    assert_eq!(parse_with(r#"city = "abcd""#).unwrap_err().span(), Some(Span::new(7, 13)));
    assert_eq!(parse_with(r#"segment "abcd""#).unwrap_err().kind(), &ErrorKind::LiteralTooLong { len: 4, max: 3 });
    assert_eq!(parse_with(&"x".repeat(41)).unwrap_err().kind(), &ErrorKind::TooLong { len: 41, max: 40 });
    assert!(parse_with("not not true").is_ok());
    assert_eq!(parse_with("not not not true").unwrap_err().kind(), &ErrorKind::TooDeep { max: 2 });
    assert_eq!(parse_with("((true))").unwrap(), Expr::Const(true));
    assert_eq!(parse_with("(((true)))").unwrap_err().kind(), &ErrorKind::TooDeep { max: 2 });
    assert_eq!(parse_with("x in (1, 2, 3)").unwrap_err().kind(), &ErrorKind::ListTooLong { len: 3, max: 2 });
    // Nine nodes: three conditions, five values, one `or`.
    assert_eq!(
        parse_with("x in (1,2) or y in (1,2) or z = 1").unwrap_err().kind(),
        &ErrorKind::TooManyNodes { max: 8 }
    );
    assert!(parse_with("x in (1,2) or y in (1,2) or z").is_ok());

    let read = |json: &str| Expr::deserialize_with(&mut serde_json::Deserializer::from_str(json), &tight);
    assert!(read(r#"{"not":{"not":{"const":true}}}"#).is_ok());
    assert!(read(r#"{"not":{"not":{"not":{"const":true}}}}"#).unwrap_err().to_string().contains("deeper than 2"));
    assert!(read(r#"{"segment":"abcd"}"#).unwrap_err().to_string().contains("text literal is 4 bytes, at most 3"));

    let mut schema = Schema::default().with_limits(tight.clone());
    assert_eq!(schema.define("x", "not not not true").unwrap_err().kind(), &ErrorKind::TooDeep { max: 2 });
    assert_eq!(schema.define("long", "true").unwrap_err().kind(), &ErrorKind::LiteralTooLong { len: 4, max: 3 });
    schema.define("a", "true").unwrap();
    schema.define("b", r#"segment "a""#).unwrap();
    assert_eq!(Segment::compile("(((true)))", &schema).unwrap_err().kind(), &ErrorKind::TooDeep { max: 2 });
    assert!(Segment::compile(r#"segment "a""#, &schema).is_ok());
    assert_eq!(
        Segment::compile(r#"segment "b""#, &schema).unwrap_err().kind(),
        &ErrorKind::ReferencesTooDeep { max: 1 }
    );
    // A tree from elsewhere meets the schema's limits when it is compiled.
    let deep = Expr::negate(Expr::negate(Expr::negate(Expr::Const(true))));
    assert_eq!(Segment::from_expr(deep, &schema).unwrap_err().kind(), &ErrorKind::TooDeep { max: 2 });
}

// ---------------------------------------------------------------------------------------------
// Evaluation semantics.
// ---------------------------------------------------------------------------------------------

fn egp(amount: &str) -> Money {
    Money::parse(amount, Currency::EGP).unwrap()
}

fn usd(amount: &str) -> Money {
    Money::parse(amount, Currency::USD).unwrap()
}

/// `c` with `purchases` recorded through a [`Change`], in the given order.
fn with_purchases(c: Customer, purchases: &[(DateTime<Utc>, Money)]) -> Customer {
    let mut change = Change::new(c);
    let far_future = at(2100, 1, 1, 0, 0, 0);
    for (when, amount) in purchases {
        change.record_purchase(&Lifecycle::default(), Purchase::new(*when, *amount), far_future).unwrap();
    }
    change.into_parts().0
}

/// Checks every `(segment text, expected)` for `c` as of `t` against `schema`, with both the
/// unbound and the bound evaluator, and reports every miss at once.
#[track_caller]
fn check_with(schema: &Schema, c: &Customer, t: DateTime<Utc>, cases: &[(&str, bool)]) {
    let mut misses = Vec::new();
    for &(text, want) in cases {
        let segment = Segment::compile(text, schema).unwrap_or_else(|e| panic!("{text}:\n{e}"));
        let (unbound, bound) = (segment.matches(c, t), segment.at(t).matches(c));
        if (unbound, bound) != (want, want) {
            misses.push(format!("  {text}: expected {want}, matches {unbound}, at(t).matches {bound}"));
        }
    }
    assert!(misses.is_empty(), "as of {t}:\n{}", misses.join("\n"));
}

#[track_caller]
fn check(c: &Customer, t: DateTime<Utc>, cases: &[(&str, bool)]) {
    check_with(&fixture_schema(), c, t, cases);
}

/// The evaluation instant of most semantic tests.
fn now() -> DateTime<Utc> {
    at(2026, 3, 1, 12, 0, 0)
}

/// A customer with every field set, created on 1 January 2025, 35 years old on `now()`,
/// with two purchases in EGP (450.00 on 5 January 2026, 120.50 on 20 February 2026).
fn full_customer() -> Customer {
    let mut c = bare_customer();
    c.profile.birth_date = Some(date(1990, 6, 15));
    c.profile.gender = Gender::Female;
    c.profile.annual_income = Some(egp("120000.00"));
    c.profile.location.country = Some(CountryCode::new("EG").unwrap());
    c.profile.location.region = Some("Cairo".into());
    c.profile.location.city = Some("New Cairo".into());
    c.interests.insert("sports");
    c.interests.insert("travel");
    c.lifestyle.insert("vegan");
    c.needs.insert("delivery");
    for ch in [Channel::Email, Channel::Sms, Channel::Web] {
        c.channels.preferred.insert(ch);
    }
    for ch in [Channel::Sms, Channel::Tv] {
        c.channels.opted_out.insert(ch);
    }
    c.loyalty = Some(Loyalty { card_id: "L-1".into(), joined: date(2025, 6, 1) });
    c.credit = CreditStanding::Good;
    c.referrals = 2;
    c.exclusive = true;
    let attrs = [
        ("nps", AttrValue::Int(9)),
        ("survey_done", AttrValue::Bool(true)),
        ("tier", AttrValue::Text("Gold".into())),
        ("score", AttrValue::Decimal("4.50".parse().unwrap())),
        ("joined_promo", AttrValue::Date(date(2026, 2, 1))),
        ("langs", AttrValue::TextList(["AR", "en", "É"].map(String::from).into_iter().collect())),
        ("credit_limit", AttrValue::Money(egp("5000.00"))),
    ];
    for (name, value) in attrs {
        c.attributes.set(name, value).unwrap();
    }
    with_purchases(c, &[(at(2026, 1, 5, 10, 0, 0), egp("450.00")), (at(2026, 2, 20, 18, 30, 0), egp("120.50"))])
}

#[test]
fn missing_values_make_every_comparison_false() {
    check(
        &bare_customer(),
        now(),
        &[
            ("age > 0", false),
            ("age < 1000", false),
            ("age = 30", false),
            ("age != 30", false),
            ("age not between 1 and 2", false),
            ("age not in (1, 2)", false),
            ("not (age > 30)", true),
            ("not (age != 30)", true),
            ("birth_date != 2000-01-01", false),
            ("birth_date before 9999-12-31", false),
            ("birth_date after 0001-01-01", false),
            (r#"city != "x""#, false),
            (r#"city not in ("x")"#, false),
            (r#"not (city = "x")"#, true),
            (r#"city contains """#, false),
            (r#"region != "x""#, false),
            ("generation != gen_z", false),
            ("generation not in (gen_x)", false),
            ("not (generation = gen_z)", true),
            (r#"country != "EG""#, false),
            (r#"country not in ("EG")"#, false),
            ("income != 0", false),
            ("income >= 0", false),
            ("attr.nps != 3", false),
            ("attr.nps not between 1 and 2", false),
            (r#"attr.tier != "gold""#, false),
            ("attr.survey_done", false),
            ("attr.survey_done = false", false),
            ("attr.survey_done != true", false),
            ("not attr.survey_done", true),
            ("attr.score != 1.5", false),
            ("attr.joined_promo != 2026-01-01", false),
            ("attr.joined_promo within 1000 months", false),
            (r#"attr.langs has any ("ar")"#, false),
            ("attr.credit_limit != 1", false),
            ("loyalty_joined != 2026-01-01", false),
            ("loyalty_joined within 1000 months", false),
            ("first_purchase != 2026-01-01", false),
            ("last_purchase before 9999-01-01", false),
            ("last_purchase within 1000 months", false),
            (r#"interests has any ("a")"#, false),
            ("channels has any (email, web)", false),
            // Figures that are zero rather than missing, and fields every customer has.
            ("purchases = 0", true),
            ("spent = 0", true),
            ("purchases(last 30 days) = 0", true),
            ("spent(last 1 month) = 0", true),
            ("referrals = 0", true),
            ("stage = suspect", true),
            ("gender = unknown", true),
            ("credit = unknown", true),
            ("loyalty_member = false", true),
            ("exclusive != true", true),
            ("created_at = 2025-01-01", true),
            ("stage_since = 2025-01-01", true),
        ],
    );
    // With values present, the same negated tests hold.
    check(
        &full_customer(),
        now(),
        &[
            ("age > 0", true),
            ("age != 30", true),
            ("age not between 1 and 2", true),
            ("age not in (1, 2)", true),
            ("not (age > 30)", false),
            ("birth_date != 2000-01-01", true),
            (r#"city != "x""#, true),
            (r#"city not in ("x")"#, true),
            (r#"region != "x""#, true),
            ("generation != gen_z", true),
            ("generation not in (gen_x)", true),
            (r#"country != "US""#, true),
            (r#"country not in ("US")"#, true),
            ("income != 0", true),
            ("attr.nps != 3", true),
            ("attr.nps not between 1 and 2", true),
            (r#"attr.tier != "silver""#, true),
            ("attr.survey_done != false", true),
            ("attr.score != 1.5", true),
            ("attr.joined_promo != 2026-01-01", true),
            ("attr.credit_limit != 1", true),
            ("loyalty_joined != 2026-01-01", true),
            ("first_purchase != 2026-01-01", true),
            ("last_purchase before 9999-01-01", true),
        ],
    );
}

#[test]
fn is_set_per_field_type() {
    let optional = [
        "age",
        "birth_date",
        "generation",
        "country",
        "region",
        "city",
        "interests",
        "lifestyle",
        "needs",
        "channels",
        "preferred_channels",
        "opted_out_channels",
        "loyalty_joined",
        "first_purchase",
        "last_purchase",
        "income",
        "attr.nps",
        "attr.survey_done",
        "attr.tier",
        "attr.score",
        "attr.joined_promo",
        "attr.langs",
        "attr.credit_limit",
    ];
    let always = [
        "stage",
        "gender",
        "credit",
        "loyalty_member",
        "referrals",
        "exclusive",
        "purchases",
        "spent",
        "created_at",
        "stage_since",
        "purchases(last 7 days)",
        "spent(last 1 month)",
    ];
    let cases = |set_on_bare: bool| -> Vec<(String, bool)> {
        let mut cases = Vec::new();
        for field in optional {
            cases.push((format!("{field} is set"), set_on_bare));
            cases.push((format!("{field} is not set"), !set_on_bare));
        }
        for field in always {
            cases.push((format!("{field} is set"), true));
            cases.push((format!("{field} is not set"), false));
        }
        cases
    };
    fn as_refs(cases: &[(String, bool)]) -> Vec<(&str, bool)> {
        cases.iter().map(|(t, b)| (t.as_str(), *b)).collect()
    }
    check(&bare_customer(), now(), &as_refs(&cases(false)));
    check(&full_customer(), now(), &as_refs(&cases(true)));

    // A birth year outside 1928-2012 has an age but no generation.
    let mut old = bare_customer();
    old.profile.birth_date = Some(date(1900, 1, 1));
    check(&old, now(), &[("age is set", true), ("generation is set", false), ("generation is not set", true)]);
    // Reachable channels are preferred ones not opted out of.
    let mut refused = bare_customer();
    refused.channels.preferred.insert(Channel::Email);
    refused.channels.opted_out.insert(Channel::Email);
    check(
        &refused,
        now(),
        &[("channels is set", false), ("preferred_channels is set", true), ("opted_out_channels is set", true)],
    );
    // Purchases count up to the evaluation instant only.
    let before_first = at(2026, 1, 5, 9, 59, 59);
    check(
        &full_customer(),
        before_first,
        &[("first_purchase is set", false), ("last_purchase is not set", true), ("purchases = 0", true)],
    );
    check(&full_customer(), at(2026, 1, 5, 10, 0, 0), &[("first_purchase is set", true), ("purchases = 1", true)]);
    // Income in another currency than the schema's is missing.
    let mut dollars = bare_customer();
    dollars.profile.annual_income = Some(usd("50000.00"));
    check(&dollars, now(), &[("income is set", false), ("income > 0", false), ("income != 5", false)]);
}

#[test]
fn text_ignores_ascii_case_only() {
    let mut c = bare_customer();
    c.profile.location.city = Some("Cairo".into());
    c.profile.location.region = Some("New Cairo".into());
    c.attributes.set("tier", AttrValue::Text("Gold".into())).unwrap();
    check(
        &c,
        now(),
        &[
            (r#"city = "cairo""#, true),
            (r#"city = "CAIRO""#, true),
            (r#"city = "Cairo ""#, false),
            (r#"city = "Cair""#, false),
            (r#"city in ("giza", "CAIRO")"#, true),
            (r#"city != "cairo""#, false),
            (r#"city != "giza""#, true),
            (r#"city not in ("giza", "alex")"#, true),
            (r#"region contains "w ca""#, true),
            (r#"region contains """#, true),
            (r#"region contains "cairo!""#, false),
            (r#"region starts with "NEW""#, true),
            (r#"region starts with "cairo""#, false),
            (r#"region ends with "IRO""#, true),
            (r#"region ends with "new""#, false),
            (r#"region ends with "a new cairo""#, false),
            (r#"region starts with "new cairo and more""#, false),
            (r#"attr.tier = "GOLD""#, true),
            (r#"attr.tier contains "OL""#, true),
        ],
    );
    c.profile.location.city = Some("école".into());
    c.profile.location.region = Some("Ålesund".into());
    check(
        &c,
        now(),
        &[
            (r#"city = "école""#, true),
            (r#"city = "ÉCOLE""#, false),
            (r#"city = "École""#, false),
            (r#"city = "éCOLE""#, true),
            (r#"city contains "COL""#, true),
            (r#"city starts with "É""#, false),
            (r#"city starts with "é""#, true),
            (r#"region contains "LESUND""#, true),
            (r#"region ends with "SUND""#, true),
            (r#"region starts with "å""#, false),
        ],
    );
}

#[test]
fn tags_are_normalized_and_text_lists_ignore_ascii_case() {
    let mut c = bare_customer();
    for tag in ["Sports", " Travel ", "École"] {
        c.interests.insert(tag);
    }
    c.attributes.set("langs", AttrValue::TextList(["AR", "en", "É"].map(String::from).into_iter().collect())).unwrap();
    check(
        &c,
        now(),
        &[
            (r#"interests has "Sports""#, true),
            (r#"interests has " SPORTS ""#, true),
            (r#"interests has "sport""#, false),
            (r#"interests has "travel""#, true),
            (r#"interests has "ÉCOLE""#, true),
            (r#"interests has any ("golf", "TRAVEL")"#, true),
            (r#"interests has any ("golf", "chess")"#, false),
            (r#"interests has all ("sports", "golf")"#, false),
            (r#"interests has all ("Sports", "travel", "école")"#, true),
            (r#"lifestyle has "sports""#, false),
            (r#"needs has any ("sports")"#, false),
            (r#"attr.langs has "ar""#, true),
            (r#"attr.langs has "EN""#, true),
            (r#"attr.langs has any ("fr", "de")"#, false),
            (r#"attr.langs has all ("ar", "en")"#, true),
            (r#"attr.langs has all ("ar", "fr")"#, false),
            (r#"attr.langs has "É""#, true),
            (r#"attr.langs has "é""#, false),
            (r#"attr.langs has " ar""#, false),
        ],
    );
}

#[test]
fn channels_means_preferred_minus_opted_out() {
    // Preferred email, sms, web; opted out of sms and tv.
    check(
        &full_customer(),
        now(),
        &[
            ("channels has email", true),
            ("channels has web", true),
            ("channels has sms", false),
            ("channels has tv", false),
            ("channels has in_store", false),
            ("preferred_channels has sms", true),
            ("opted_out_channels has tv", true),
            ("opted_out_channels has email", false),
            ("channels has any (sms, tv)", false),
            ("channels has any (sms, web)", true),
            ("channels has all (email, web)", true),
            ("channels has all (email, sms)", false),
            ("preferred_channels has all (email, sms)", true),
        ],
    );
}

#[test]
fn activity_windows_are_open_at_the_start_and_closed_at_the_evaluation_instant() {
    let as_of = at(2026, 3, 31, 12, 0, 0);
    let tick = Duration::microseconds(1);
    let clock = ManualClock::new(at(2025, 12, 1, 0, 0, 0));
    let crm = Crm::new(MemoryStore::new()).with_clock(&clock);
    let id = CustomerId::new(7);
    crm.insert(Customer::new(id, "Ada", clock.now())).unwrap();
    let purchases = [
        (as_of - Duration::days(30), egp("1.00")), // exactly 30 days back: outside
        (as_of - Duration::days(30) + tick, egp("2.00")), // just inside
        (as_of, egp("4.00")),                      // at the instant: inside
        (as_of + Duration::seconds(1), egp("8.00")), // not yet made
        (at(2026, 2, 28, 12, 0, 0), egp("16.00")), // exactly one month back: outside
        (at(2026, 2, 28, 12, 0, 0) + tick, egp("32.00")), // just inside the month
        (at(2026, 3, 15, 0, 0, 0), usd("64.00")),  // another currency: counted, not summed
        (at(2025, 12, 31, 0, 0, 0), egp("128.00")), // long ago
    ];
    for (when, amount) in purchases {
        clock.set(when.max(clock.now()));
        crm.record_purchase(id, Purchase::new(when, amount)).unwrap();
    }
    let c = crm.get(id).unwrap();
    check(
        &c,
        as_of,
        &[
            ("purchases(last 30 days) = 3", true),
            ("purchases(last 30 days) = 4", false),
            ("spent(last 30 days) = 6.00", true),
            ("spent(last 30 days) = 6", true),
            // 31 March back one month is 28 February (2026 is not a leap year), same time.
            ("purchases(last 1 month) = 5", true),
            ("spent(last 1 month) = 39.00", true),
            ("spent(last 1 month) between 39 and 39", true),
            ("spent(last 1 month) > 39", false),
            ("purchases(last 4 weeks) = 2", true),
            ("purchases(last 1 day) = 1", true),
            ("purchases(last 0 days) = 0", true),
            ("purchases = 7", true),
            ("spent = 183.00", true),
            ("first_purchase = 2025-12-31", true),
            ("last_purchase within 7 days", true),
        ],
    );
    // One second later the window has moved: the purchase just inside drops out, the next
    // one has happened.
    check(
        &c,
        as_of + Duration::seconds(1),
        &[("purchases(last 30 days) = 3", true), ("spent(last 30 days) = 12.00", true), ("purchases = 8", true)],
    );

    // In a leap year, 31 March back one month is 29 February.
    let leap = with_purchases(
        bare_customer(),
        &[
            (at(2024, 2, 29, 8, 30, 0), egp("1.00")),
            (at(2024, 2, 29, 8, 30, 0) + tick, egp("2.00")),
            (at(2024, 2, 28, 9, 0, 0), egp("4.00")),
        ],
    );
    check(
        &leap,
        at(2024, 3, 31, 8, 30, 0),
        &[
            ("spent(last 1 month) = 2.00", true),
            ("purchases(last 1 month) = 1", true),
            ("spent(last 2 months) = 7.00", true),
        ],
    );
}

#[test]
fn within_on_instants_and_dates_uses_the_same_window() {
    let p = at(2026, 3, 10, 8, 0, 0);
    let tick = Duration::microseconds(1);
    let c = with_purchases(bare_customer(), &[(p, egp("1.00"))]);
    let within_week = |t, want| check(&c, t, &[("last_purchase within 7 days", want)]);
    within_week(p - tick, false);
    within_week(p, true);
    within_week(p + Duration::days(7) - tick, true);
    within_week(p + Duration::days(7), false);
    check(&c, at(2026, 4, 10, 7, 59, 59), &[("last_purchase within 1 month", true)]);
    check(&c, at(2026, 4, 10, 8, 0, 0), &[("last_purchase within 1 month", false)]);
    // A later purchase does not hide an earlier one as of a time before it.
    let two = with_purchases(bare_customer(), &[(p, egp("1.00")), (p + Duration::days(30), egp("1.00"))]);
    check(
        &two,
        p + Duration::days(1),
        &[("last_purchase within 7 days", true), ("first_purchase within 7 days", true)],
    );

    // A date counts as 00:00 UTC of its day.
    let mut member = bare_customer();
    member.loyalty = Some(Loyalty { card_id: "L".into(), joined: date(2026, 3, 1) });
    member.attributes.set("joined_promo", AttrValue::Date(date(2026, 3, 1))).unwrap();
    let joined = |t, want| {
        check(&member, t, &[("loyalty_joined within 30 days", want), ("attr.joined_promo within 30 days", want)])
    };
    joined(at(2026, 2, 28, 23, 59, 59), false);
    joined(at(2026, 3, 1, 0, 0, 0), true);
    joined(at(2026, 3, 30, 23, 59, 59), true);
    joined(at(2026, 3, 31, 0, 0, 0), false);
}

#[test]
fn instants_compare_with_dates_by_utc_day() {
    let late = with_purchases(bare_customer(), &[(at(2026, 1, 5, 23, 59, 59), egp("1.00"))]);
    check(
        &late,
        now(),
        &[
            ("last_purchase = 2026-01-05", true),
            ("last_purchase = 2026-01-06", false),
            ("last_purchase != 2026-01-05", false),
            ("last_purchase != 2026-01-04", true),
            ("last_purchase before 2026-01-06", true),
            ("last_purchase before 2026-01-05", false),
            ("last_purchase after 2026-01-04", true),
            ("last_purchase after 2026-01-05", false),
            ("last_purchase <= 2026-01-05", true),
            ("last_purchase < 2026-01-05", false),
            ("last_purchase < 2026-01-06", true),
            ("last_purchase >= 2026-01-05", true),
            ("last_purchase > 2026-01-05", false),
            ("last_purchase > 2026-01-04", true),
            ("last_purchase between 2026-01-01 and 2026-01-05", true),
            ("last_purchase between 2026-01-05 and 2026-01-05", true),
            ("last_purchase between 2026-01-06 and 2026-02-01", false),
            ("last_purchase in (2026-01-04, 2026-01-05)", true),
            ("last_purchase not in (2026-01-05)", false),
            ("last_purchase not between 2026-01-06 and 2026-02-01", true),
            ("first_purchase = 2026-01-05", true),
        ],
    );
    let midnight = with_purchases(bare_customer(), &[(at(2026, 1, 6, 0, 0, 0), egp("1.00"))]);
    check(
        &midnight,
        now(),
        &[
            ("last_purchase = 2026-01-06", true),
            ("last_purchase = 2026-01-05", false),
            ("last_purchase after 2026-01-05", true),
            ("last_purchase before 2026-01-06", false),
        ],
    );
    // created_at 2025-01-01 09:00; the stage began then too.
    check(
        &bare_customer(),
        now(),
        &[
            ("created_at = 2025-01-01", true),
            ("created_at before 2025-01-02", true),
            ("created_at after 2024-12-31", true),
            ("created_at after 2025-01-01", false),
            ("stage_since = 2025-01-01", true),
            ("created_at within 1 day", false),
        ],
    );
    // Calendar dates compare as dates.
    check(
        &full_customer(),
        now(),
        &[
            ("birth_date = 1990-06-15", true),
            ("birth_date before 1990-06-15", false),
            ("birth_date before 1990-06-16", true),
            ("birth_date after 1990-06-14", true),
            ("birth_date after 1990-06-15", false),
            ("birth_date < 1990-06-15", false),
            ("birth_date <= 1990-06-15", true),
            ("birth_date between 1990-01-01 and 1990-12-31", true),
            ("loyalty_joined = 2025-06-01", true),
            ("attr.joined_promo > 2026-01-31", true),
        ],
    );
}

#[test]
fn age_counts_completed_years_on_the_utc_date() {
    let born = |d: NaiveDate| {
        let mut c = bare_customer();
        c.profile.birth_date = Some(d);
        c
    };
    let june = born(date(1990, 6, 15));
    check(&june, at(2026, 6, 14, 23, 59, 59), &[("age = 35", true), ("age = 36", false), ("age >= 36", false)]);
    check(
        &june,
        at(2026, 6, 15, 0, 0, 0),
        &[("age = 36", true), ("age > 35", true), ("age between 36 and 36", true), ("age < 36", false)],
    );
    // Born on 29 February: the birthday is 1 March in common years.
    let leap = born(date(2000, 2, 29));
    let age_is = |t, n: i64| {
        let (eq, next) = (format!("age = {n}"), format!("age = {}", n + 1));
        check(&leap, t, &[(&eq, true), (&next, false)]);
    };
    age_is(at(2000, 2, 29, 0, 0, 0), 0);
    age_is(at(2001, 2, 28, 23, 59, 59), 0);
    age_is(at(2001, 3, 1, 0, 0, 0), 1);
    age_is(at(2024, 2, 28, 23, 59, 59), 23);
    age_is(at(2024, 2, 29, 0, 0, 0), 24);
    age_is(at(2025, 2, 28, 23, 59, 59), 24);
    age_is(at(2025, 3, 1, 0, 0, 0), 25);
    age_is(at(2028, 2, 28, 12, 0, 0), 27);
    age_is(at(2028, 2, 29, 0, 0, 0), 28);
    // Before birth there is no age: every comparison is false.
    check(
        &leap,
        at(2000, 2, 28, 0, 0, 0),
        &[
            ("age >= 0", false),
            ("age < 200", false),
            ("age != 5", false),
            ("age is set", false),
            ("birth_date is set", true),
        ],
    );
    // Generations by birth year, 1928 to 2012.
    check(
        &leap,
        now(),
        &[
            ("generation = gen_z", true),
            ("generation in (millennial, gen_z)", true),
            ("generation != gen_z", false),
            ("generation not in (gen_x)", true),
        ],
    );
    check(&born(date(1928, 1, 1)), now(), &[("generation = silent", true)]);
    check(&born(date(1927, 12, 31)), now(), &[("generation is set", false), ("generation != silent", false)]);
    check(&born(date(2012, 12, 31)), now(), &[("generation = gen_z", true)]);
    check(&born(date(2013, 1, 1)), now(), &[("generation is set", false), ("age = 13", true)]);
}

#[test]
fn segment_references_use_the_definition_at_compile_time() {
    let mut schema = fixture_schema();
    schema.define("eg", r#"country = "EG""#).unwrap();
    schema.define("young_eg", r#"segment "young" and segment "eg""#).unwrap();
    let mut mona = bare_customer();
    mona.profile.birth_date = Some(date(2000, 1, 1));
    mona.profile.location.country = Some(CountryCode::new("EG").unwrap());
    let mut sam = mona.clone();
    sam.profile.location.country = Some(CountryCode::new("US").unwrap());
    let cases = |eg: bool| {
        [
            (r#"segment "young_eg""#, eg),
            (r#"not segment "eg""#, !eg),
            (r#"segment "young" and not segment "young_eg""#, !eg),
            (r#"segment "vip""#, false),
        ]
    };
    check_with(&schema, &mona, now(), &cases(true));
    check_with(&schema, &sam, now(), &cases(false));

    let compiled = Segment::compile(r#"segment "young_eg""#, &schema).unwrap();
    schema.define("eg", r#"country = "US""#).unwrap();
    assert!(compiled.matches(&mona, now()), "a compiled segment keeps the definitions it was compiled with");
    check_with(&schema, &mona, now(), &[(r#"segment "young_eg""#, false)]);
    check_with(&schema, &sam, now(), &[(r#"segment "young_eg""#, true)]);

    // "vip" is `spent(last 365 days) > 5000.00`.
    let spender = |amount| with_purchases(bare_customer(), &[(at(2026, 2, 1, 0, 0, 0), egp(amount))]);
    check_with(&schema, &spender("5000.00"), now(), &[(r#"segment "vip""#, false)]);
    check_with(&schema, &spender("5000.01"), now(), &[(r#"segment "vip""#, true)]);
}

#[test]
fn attributes_of_the_wrong_stored_type_count_as_missing() {
    let mut c = bare_customer();
    let stored = [
        ("nps", AttrValue::Text("9".into())),
        ("survey_done", AttrValue::Int(1)),
        ("tier", AttrValue::Int(3)),
        ("score", AttrValue::Text("4.5".into())),
        ("joined_promo", AttrValue::Text("2026-01-01".into())),
        ("langs", AttrValue::Text("ar".into())),
        ("credit_limit", AttrValue::Money(usd("500.00"))),
    ];
    for (name, value) in stored {
        c.attributes.set(name, value).unwrap();
    }
    check(
        &c,
        now(),
        &[
            ("attr.nps = 9", false),
            ("attr.nps != 9", false),
            ("attr.nps not in (1, 2)", false),
            ("attr.nps is set", false),
            ("attr.nps is not set", true),
            ("not (attr.nps = 9)", true),
            ("attr.survey_done", false),
            ("attr.survey_done != true", false),
            ("attr.survey_done is set", false),
            (r#"attr.tier != "x""#, false),
            ("attr.tier is set", false),
            ("attr.score != 1", false),
            ("attr.score is set", false),
            ("attr.joined_promo != 2026-01-01", false),
            ("attr.joined_promo is set", false),
            (r#"attr.langs has "ar""#, false),
            ("attr.langs is set", false),
            // Money in another currency than the schema's.
            ("attr.credit_limit > 0", false),
            ("attr.credit_limit != 1", false),
            ("attr.credit_limit not between 1 and 2", false),
            ("attr.credit_limit is set", false),
            ("attr.credit_limit is not set", true),
        ],
    );
    c.attributes.set("credit_limit", AttrValue::Money(egp("500.00"))).unwrap();
    check(
        &c,
        now(),
        &[
            ("attr.credit_limit = 500.00", true),
            ("attr.credit_limit = 500", true),
            ("attr.credit_limit != 500", false),
            ("attr.credit_limit is set", true),
        ],
    );
}

#[test]
fn enumerations_flags_and_numbers() {
    let since = at(2025, 6, 1, 0, 0, 0);
    let mut client = bare_customer().with_lifecycle(LifecycleState::at_stage(Stage::Client, since, None).unwrap());
    client.profile.gender = Gender::Female;
    client.credit = CreditStanding::Good;
    client.loyalty = Some(Loyalty { card_id: "L".into(), joined: date(2025, 6, 1) });
    client.referrals = 2;
    client.exclusive = true;
    client.profile.location.country = Some(CountryCode::new("eg").unwrap());
    client.profile.annual_income = Some(egp("120000.00"));
    client.attributes.set("nps", AttrValue::Int(9)).unwrap();
    client.attributes.set("score", AttrValue::Decimal("4.50".parse().unwrap())).unwrap();
    client.attributes.set("survey_done", AttrValue::Bool(true)).unwrap();
    check(
        &client,
        now(),
        &[
            ("stage = client", true),
            ("stage in (client, repeat)", true),
            ("stage != client", false),
            ("stage not in (lost, inactive)", true),
            ("stage_since = 2025-06-01", true),
            ("gender = female", true),
            ("gender != male", true),
            ("credit = good", true),
            ("credit in (fair, poor)", false),
            ("loyalty_member", true),
            ("loyalty_member = false", false),
            ("not loyalty_member", false),
            ("loyalty_member != false", true),
            ("exclusive", true),
            ("referrals = 2", true),
            ("referrals between 1 and 3", true),
            ("referrals > 2", false),
            (r#"country = "eg""#, true),
            (r#"country in ("US", "EG")"#, true),
            ("income >= 120000", true),
            ("income > 120000.00", false),
            ("income = 120000.00", true),
            ("attr.nps >= 9", true),
            ("attr.nps in (1, 9)", true),
            ("attr.score = 4.5", true),
            ("attr.score > 4", true),
            ("attr.score between 4.49 and 4.51", true),
            ("attr.score < 4.5", false),
            ("attr.survey_done", true),
            ("attr.survey_done = true", true),
            ("true", true),
            ("false", false),
            ("not false", true),
            ("loyalty_member and not (exclusive and referrals < 2) or false", true),
        ],
    );
}

#[test]
fn extreme_instants_and_windows_evaluate_alike() {
    let texts = [
        "purchases(last 4294967295 days) >= 0",
        "spent(last 4294967295 months) > 1",
        "created_at within 4294967295 months",
        "last_purchase within 4294967295 weeks",
        "loyalty_joined within 0 days",
        "age >= 9223372036854775807",
        "age <= 9223372036854775807",
        "age > -9223372036854775808",
        "age < -9223372036854775808",
        "age between 200000 and 300000",
        "not (age between 0 and 150)",
        "last_purchase <= 9999-12-31",
        "first_purchase > 0001-01-01",
        "spent > 92233720368547758.07",
        "generation = silent",
    ];
    let c = full_customer();
    let instants = [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        DateTime::UNIX_EPOCH,
        at(1, 1, 1, 0, 0, 0),
        at(9999, 12, 31, 23, 59, 59),
    ];
    for text in texts {
        let segment = Segment::compile(text, &fixture_schema()).unwrap_or_else(|e| panic!("{e}"));
        for t in instants {
            assert_eq!(segment.matches(&c, t), segment.at(t).matches(&c), "{text} as of {t}");
        }
    }
    // Amounts beyond the minor units of an i64 are refused, not wrapped.
    let err = Segment::compile("spent > 9223372036854775807", &fixture_schema()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::OutOfRange(_)), "{err}");
    check(
        &c,
        now(),
        &[
            ("purchases(last 4294967295 days) = 2", true),
            ("age <= 9223372036854775807", true),
            ("age >= 9223372036854775807", false),
            ("not (age between 0 and 150)", false),
        ],
    );
}

#[test]
fn money_literals_follow_the_schema_currency() {
    let yen = Currency::new("JPY").unwrap();
    let schema = Schema::new(yen);
    let err = Segment::compile("spent > 1.5", &schema).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::OutOfRange("`1.5` has more decimals than JPY allows (0)".into()));
    let c = with_purchases(bare_customer(), &[(at(2026, 1, 1, 0, 0, 0), Money::new(2, yen))]);
    check_with(&schema, &c, now(), &[("spent > 1.0", true), ("spent = 2", true), ("spent(last 1 month) = 0", true)]);
    let dinar = Schema::new(Currency::new("KWD").unwrap());
    assert!(Segment::compile("spent > 1.234", &dinar).is_ok());
    assert!(Segment::compile("spent > 1.2345", &dinar).is_err());
}

// ---------------------------------------------------------------------------------------------
// Hostile text never panics; whatever parses prints back to itself.
// ---------------------------------------------------------------------------------------------

/// Pieces of segment text, valid and not, for token soups.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "not",
    "NOT",
    "and",
    "or",
    "true",
    "false",
    "age",
    "city",
    "country",
    "stage",
    "generation",
    "interests",
    "channels",
    "last_purchase",
    "birth_date",
    "income",
    "attr",
    ".",
    "nps",
    "tier",
    "langs",
    "credit_limit",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "in",
    "not in",
    "between",
    "has",
    "any",
    "all",
    "contains",
    "starts",
    "with",
    "ends",
    "is",
    "set",
    "within",
    "before",
    "after",
    "segment",
    "purchases",
    "spent",
    "last",
    "30",
    "days",
    "1",
    "month",
    "weeks",
    "-1",
    "0",
    "4294967296",
    "9223372036854775808",
    "1.5",
    "1.234",
    "1.2.3",
    "2026-01-05",
    "2026-02-30",
    "2000-02-29",
    "\"EG\"",
    "\"cairo\"",
    "\"vip\"",
    "\"loop_a\"",
    "\"",
    "\"\\",
    "\\u{41}",
    "\"\\u{D800}\"",
    ",",
    "gen_z",
    "client",
    "email",
    "@",
    "é",
    "∧",
    "\u{0}",
    "\n",
    "_x",
    "9x",
];

/// Parses and compiles `text` any way it comes; checks what must hold whatever the outcome.
fn never_panics(text: &str) -> Result<(), TestCaseError> {
    let span_ok = |e: &SegmentError| match e.span() {
        Some(s) => s.start <= s.end && s.end <= text.len() && e.line_column().is_some(),
        None => true,
    };
    match text.parse::<Expr>() {
        Ok(e) => {
            let printed = e.to_string();
            let again = printed.parse::<Expr>();
            prop_assert!(again.as_ref().is_ok_and(|a| *a == e), "{text:?} printed as {printed:?}, read back {again:?}");
        }
        Err(e) => {
            prop_assert!(span_ok(&e), "{text:?}: {e:?}");
            prop_assert!(e.to_string().starts_with("error: "));
        }
    }
    match Segment::compile(text, &fixture_schema()) {
        Ok(segment) => {
            let c = full_customer();
            for t in [now(), at(1, 1, 1, 0, 0, 0), at(9999, 12, 31, 23, 59, 59)] {
                prop_assert_eq!(segment.matches(&c, t), segment.at(t).matches(&c), "{} as of {}", text, t);
            }
        }
        Err(e) => {
            prop_assert!(span_ok(&e), "{text:?}: {e:?}");
            let _ = e.to_string();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        never_panics(&text)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        never_panics(&text)?;
    }

    #[test]
    fn token_soups_never_panic(
        pieces in prop::collection::vec((prop::sample::select(TOKENS), prop::sample::select(vec!["", " ", " ", "\t"])), 0..24)
    ) {
        let text: String = pieces.into_iter().flat_map(|(t, sep)| [t, sep]).collect();
        never_panics(&text)?;
    }

    #[test]
    fn arbitrary_json_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), json in "[{}\\[\\]\":,a-z0-9 ]{0,60}") {
        let _ = serde_json::from_slice::<Expr>(&bytes);
        if let Ok(e) = serde_json::from_str::<Expr>(&json) {
            prop_assert!(e.validate(&Limits::default()).is_ok());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The bound evaluator agrees with the unbound one, on window edges and birthdays too.
// ---------------------------------------------------------------------------------------------

/// The instant purchases and windows are centred on.
fn base() -> DateTime<Utc> {
    at(2026, 1, 1, 0, 0, 0)
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        4 => (1900i32..2030, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| date(y, m, d)),
        1 => prop::sample::select(vec![
            date(2000, 2, 29),
            date(1996, 2, 29),
            date(2024, 2, 29),
            date(1928, 1, 1),
            date(1927, 12, 31),
            date(2012, 12, 31),
            date(2013, 1, 1),
            date(1990, 6, 15),
        ]),
    ]
}

prop_compose! {
    fn any_customer()(
        birth in prop::option::of(any_date()),
        country in prop::option::of(prop::sample::select(vec!["EG", "US", "FR"])),
        city in prop::option::of(prop::sample::select(vec!["Cairo", "cairo", "Giza", "école", "New Cairo"])),
        interests in prop::collection::vec(prop::sample::select(vec!["sports", "Travel", "music"]), 0..3),
        preferred in prop::collection::vec(prop::sample::select(Channel::ALL.to_vec()), 0..4),
        opted_out in prop::collection::vec(prop::sample::select(Channel::ALL.to_vec()), 0..3),
        loyalty in prop::option::of(-200i64..60),
        credit in prop::sample::select(CreditStanding::ALL.to_vec()),
        gender in prop::sample::select(Gender::ALL.to_vec()),
        stage in prop::sample::select(vec![Stage::Suspect, Stage::Prospect, Stage::FirstTime, Stage::Repeat, Stage::Client]),
        referrals in 0u32..4,
        exclusive in any::<bool>(),
        // Purchases: seconds from `base()`, often whole days; amount in minor units; in USD?
        purchases in prop::collection::vec(
            (prop_oneof![(-120i64..120).prop_map(|d| d * 86_400), -10_368_000i64..10_368_000], 0i64..300_000, prop::bool::weighted(0.2)),
            0..6,
        ),
        nps in prop::option::of(prop_oneof![(-2i64..12).prop_map(AttrValue::Int), Just(AttrValue::Text("9".into()))]),
        credit_limit in prop::option::of((0i64..1_000_000, prop::bool::weighted(0.3))),
        promo in prop::option::of(-100i64..100),
        income in prop::option::of((0i64..20_000_000, prop::bool::weighted(0.3))),
    ) -> Customer {
        let money = |minor: i64, dollars: bool| Money::new(minor, if dollars { Currency::USD } else { Currency::EGP });
        let day = |offset: i64| base().date_naive() + Duration::days(offset);
        let mut c = Customer::new(CustomerId::new(1), "Random", base() - Duration::days(400));
        c.profile.birth_date = birth;
        c.profile.gender = gender;
        c.profile.location.country = country.map(|code| CountryCode::new(code).unwrap());
        c.profile.location.city = city.map(String::from);
        c.profile.annual_income = income.map(|(m, d)| money(m, d));
        for tag in interests {
            c.interests.insert(tag);
        }
        c.channels.preferred = preferred.into_iter().collect();
        c.channels.opted_out = opted_out.into_iter().collect();
        c.loyalty = loyalty.map(|d| Loyalty { card_id: "L".into(), joined: day(d) });
        c.credit = credit;
        c.referrals = referrals;
        c.exclusive = exclusive;
        if let Some(v) = nps {
            c.attributes.set("nps", v).unwrap();
        }
        if let Some((m, d)) = credit_limit {
            c.attributes.set("credit_limit", AttrValue::Money(money(m, d))).unwrap();
        }
        if let Some(d) = promo {
            c.attributes.set("joined_promo", AttrValue::Date(day(d))).unwrap();
        }
        let purchases: Vec<_> = purchases.into_iter().map(|(s, m, d)| (base() + Duration::seconds(s), money(m, d))).collect();
        with_purchases(c, &purchases).with_lifecycle(LifecycleState::at_stage(stage, base() - Duration::days(10), None).unwrap())
    }
}

/// The windows the generated segments use; the instants checked sit on their edges.
const WINDOWS: &[&str] = &["0 days", "1 day", "7 days", "2 weeks", "30 days", "1 month", "2 months"];

fn a_date_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        (-130i64..130).prop_map(|d| (base().date_naive() + Duration::days(d)).to_string()),
        any_date().prop_map(|d| d.to_string()),
    ]
}

/// One condition over a real field, from a template with random constants.
fn a_condition() -> impl Strategy<Value = String> {
    let op = || prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]);
    let window = || prop::sample::select(WINDOWS.to_vec());
    let not = || prop::sample::select(vec!["", "not "]);
    let is_set = prop::sample::select(vec![
        "age",
        "birth_date",
        "generation",
        "country",
        "city",
        "interests",
        "channels",
        "preferred_channels",
        "loyalty_joined",
        "first_purchase",
        "last_purchase",
        "income",
        "attr.nps",
        "attr.credit_limit",
        "attr.joined_promo",
    ]);
    prop_oneof![
        (op(), -1i64..100).prop_map(|(op, n)| format!("age {op} {n}")),
        (not(), 0i64..90, 0i64..90).prop_map(|(not, a, b)| format!("age {not}between {a} and {b}")),
        (not(), prop::collection::vec(0i64..90, 1..4)).prop_map(|(not, v)| {
            format!("age {not}in ({})", v.iter().map(i64::to_string).collect::<Vec<_>>().join(", "))
        }),
        (prop::sample::select(vec!["=", "!="]), prop::sample::select(vec!["gen_z", "millennial", "gen_x", "silent"]))
            .prop_map(|(op, g)| format!("generation {op} {g}")),
        not().prop_map(|not| format!("generation {not}in (millennial, gen_z)")),
        (window(), op(), 0i64..5).prop_map(|(w, op, k)| format!("purchases(last {w}) {op} {k}")),
        (window(), op(), 0i64..4000, 0i64..100).prop_map(|(w, op, u, c)| format!("spent(last {w}) {op} {u}.{c:02}")),
        (
            prop::sample::select(vec![
                "last_purchase",
                "first_purchase",
                "created_at",
                "stage_since",
                "loyalty_joined",
                "attr.joined_promo"
            ]),
            window()
        )
            .prop_map(|(f, w)| format!("{f} within {w}")),
        (
            prop::sample::select(vec![
                "last_purchase",
                "first_purchase",
                "birth_date",
                "loyalty_joined",
                "attr.joined_promo"
            ]),
            prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">=", "before", "after"]),
            a_date_literal(),
        )
            .prop_map(|(f, op, d)| format!("{f} {op} {d}")),
        (op(), 0i64..6).prop_map(|(op, k)| format!("purchases {op} {k}")),
        (op(), 0i64..6000).prop_map(|(op, k)| format!("spent {op} {k}")),
        (op(), -2i64..12).prop_map(|(op, k)| format!("attr.nps {op} {k}")),
        (op(), 0i64..10_000).prop_map(|(op, k)| format!("attr.credit_limit {op} {k}")),
        (op(), 0i64..200_000).prop_map(|(op, k)| format!("income {op} {k}")),
        (is_set, not()).prop_map(|(f, not)| format!("{f} is {not}set")),
        prop::sample::select(vec![
            r#"city = "cairo""#,
            r#"city != "giza""#,
            r#"city contains "air""#,
            r#"city starts with "NEW""#,
            r#"country in ("EG", "FR")"#,
            r#"country != "US""#,
            r#"interests has any ("sports", "music")"#,
            r#"interests has all ("sports", "travel")"#,
            "channels has email",
            "preferred_channels has all (email, sms)",
            "opted_out_channels has any (tv, web)",
            "stage in (client, repeat)",
            "stage != suspect",
            "gender = female",
            "credit not in (poor)",
            "loyalty_member",
            "exclusive = false",
            "referrals >= 2",
        ])
        .prop_map(String::from),
    ]
}

/// Conditions combined with `and`, `or` and `not`.
fn a_segment_text() -> impl Strategy<Value = String> {
    a_condition().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" and "))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" or "))),
            inner.prop_map(|s| format!("not ({s})")),
        ]
    })
}

/// Instants where something changes for `c`: window edges after each purchase and after the
/// dates, birthdays near `base()`, and a microsecond either side of each.
fn edges(c: &Customer, random: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut anchors = vec![random, base()];
    anchors.extend(c.purchases().as_slice().iter().map(|p| p.at));
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc();
    anchors.extend(c.loyalty.as_ref().map(|l| midnight(l.joined)));
    if let Some(AttrValue::Date(d)) = c.attributes.get("joined_promo") {
        anchors.push(midnight(*d));
    }
    let mut out = Vec::new();
    for a in anchors {
        for days in [0, 1, 7, 14, 30] {
            out.push(a + Duration::days(days));
        }
        for months in [1, 2] {
            out.extend(a.checked_add_months(chrono::Months::new(months)));
        }
    }
    if let Some(b) = c.profile.birth_date {
        for year in 2025..2029 {
            // Birthdays in 2025-2028; 29 February gives 28 February and 1 March in common years.
            let Ok(age) = u32::try_from(year - b.year()) else { continue };
            if let Some(d) = b.checked_add_months(chrono::Months::new(12 * age)) {
                out.push(midnight(d));
                out.extend(d.succ_opt().map(midnight));
            }
        }
    }
    let tick = Duration::microseconds(1);
    out.iter().flat_map(|t| [*t - tick, *t, *t + tick]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bound_and_unbound_evaluation_agree(
        c in any_customer(),
        text in a_segment_text(),
        random in -20_000_000i64..20_000_000,
    ) {
        let schema = fixture_schema();
        let segment = match Segment::compile(&text, &schema) {
            Ok(s) => s,
            Err(e) => return Err(TestCaseError::fail(format!("templates make valid segments:\n{e}"))),
        };
        // The same segment from its JSON form is the same segment.
        let json = serde_json::to_string(segment.expr()).unwrap();
        prop_assert_eq!(&Segment::from_expr(serde_json::from_str(&json).unwrap(), &schema).unwrap(), &segment);
        for t in edges(&c, base() + Duration::seconds(random)) {
            prop_assert_eq!(segment.matches(&c, t), segment.at(t).matches(&c), "{} as of {}", text, t);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Ages change at midnight UTC on birthdays: check the tests on ages around `n` at the
    /// birthdays where the customer turns `n` and `n + 1`, a microsecond either side.
    #[test]
    fn bound_and_unbound_ages_agree_on_birthdays(
        birth in any_date(),
        n in 0u32..90,
        op in prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]),
        negated in any::<bool>(),
        width in 0u32..3,
    ) {
        let mut c = bare_customer();
        c.profile.birth_date = Some(birth);
        let not = if negated { "not " } else { "" };
        let texts = [format!("age {op} {n}"), format!("age {not}between {n} and {}", n + width)];
        let segments: Vec<Segment> = texts.iter().map(|t| Segment::compile(t, &fixture_schema()).unwrap()).collect();
        let tick = Duration::microseconds(1);
        for turning in [n, n + 1, n + width + 1] {
            let Some(birthday) = birth.checked_add_months(chrono::Months::new(12 * turning)) else { continue };
            // 29 February: 28 February in common years, and the day after (1 March).
            for day in [Some(birthday), birthday.succ_opt()].into_iter().flatten() {
                let midnight = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
                for t in [midnight - tick, midnight, midnight + tick] {
                    // No age before birth: every comparison is false.
                    let age = c.age_on(t).map(i64::from);
                    let n = i64::from(n);
                    for (text, segment) in texts.iter().zip(&segments) {
                        prop_assert_eq!(segment.matches(&c, t), segment.at(t).matches(&c), "{} as of {}", text, t);
                    }
                    // And the unbound evaluator follows `age_on`.
                    let want = age.is_some_and(|age| match op {
                        "=" => age == n,
                        "!=" => age != n,
                        "<" => age < n,
                        "<=" => age <= n,
                        ">" => age > n,
                        _ => age >= n,
                    });
                    prop_assert_eq!(segments[0].matches(&c, t), want, "{} as of {}", &texts[0], t);
                }
            }
        }
    }
}
