//! Query text: `Display` output parses back to the same query; malformed text is a typed
//! error pointing at the byte where it goes wrong.

use proptest::prelude::*;
use stratus_cardest::{Error, Literal, Op, Predicate, Query};

#[test]
fn parses_what_display_writes() {
    let q: Query = r#"carrier = "AA" AND distance >= 1000 and dest IN ("BOS", "say \"hi\"\n") AND dep_delay<=-2.5e1"#
        .parse()
        .unwrap();
    assert_eq!(
        q,
        Query::new(vec![
            Predicate::new("carrier", Op::Eq, "AA"),
            Predicate::new("distance", Op::Ge, 1000.0),
            Predicate::is_in("dest", ["BOS", "say \"hi\"\n"]),
            Predicate::new("dep_delay", Op::Le, -25.0),
        ])
    );
    assert_eq!(q.to_string().parse::<Query>().unwrap(), q);
}

#[test]
fn malformed_text_is_a_typed_error() {
    let at = |text: &str| match text.parse::<Query>() {
        Err(Error::QueryText { at, .. }) => at,
        other => panic!("{text:?} gave {other:?}"),
    };
    assert_eq!(at(""), 0);
    assert_eq!(at("a"), 1);
    assert_eq!(at("a < 3"), 2);
    assert_eq!(at("a = 3 OR b = 4"), 6);
    assert_eq!(at("a = 3 AND"), 9);
    assert_eq!(at(r#"a = "open"#), 4);
    assert_eq!(at(r#"a = "\q""#), 5);
    assert_eq!(at(r#"a = "\u{110000}""#), 5);
    assert_eq!(at("a = NaN"), 4);
    assert_eq!(at("a = x"), 4);
    assert_eq!(at("a IN 3"), 5);
    assert_eq!(at("a IN (1, 2"), 10);
    assert_eq!(at("a INTO 3"), 2);
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<f64>()
            .prop_filter("NaN is not a literal", |x| !x.is_nan())
            .prop_map(Literal::Num),
        any::<String>().prop_map(Literal::Str),
        "[a\"\\\\\n\t\r é\u{7f}\u{200b}]{0,6}".prop_map(Literal::Str),
    ]
}

fn predicate() -> impl Strategy<Value = Predicate> {
    let column = "[A-Za-z_][A-Za-z0-9_.]{0,8}";
    let op = prop_oneof![Just(Op::Eq), Just(Op::Le), Just(Op::Ge)];
    prop_oneof![
        (column, op, literal()).prop_map(|(c, op, l)| Predicate::new(c, op, l)),
        (column, prop::collection::vec(literal(), 1..4))
            .prop_map(|(c, ls)| Predicate::is_in(c, ls)),
    ]
}

proptest! {
    /// Every query with well-formed column names survives `Display` and `parse`.
    #[test]
    fn display_then_parse_is_the_identity(preds in prop::collection::vec(predicate(), 1..6)) {
        let q = Query::new(preds);
        let text = q.to_string();
        prop_assert_eq!(text.parse::<Query>().unwrap(), q, "{}", text);
    }
}
