//! What the typed resources refuse to compile: a missing required property, a property of the
//! wrong type, an attribute the type does not have, an untyped `get_att` on a typed handle. The
//! expected compiler messages are in `tests/ui/*.stderr`.

#[test]
fn typed_resources_refuse_invalid_programs() {
    trybuild::TestCases::new().compile_fail("ui/*.rs");
}
