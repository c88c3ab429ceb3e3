//! The ids of network resources (`vpc-...`, `subnet-...`, `sg-...`): typed, so a subnet id
//! cannot be passed where a security group id is expected, and made only by the construct
//! that owns the resource or by its `from_attributes`, which checks the shape of a literal id.

use omc_cdk::Value;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(Value<String>);

        impl $name {
            /// The id as a value.
            pub fn value(&self) -> Value<String> {
                self.0.clone()
            }

            /// The id of a resource this crate defines (its `Ref` or attribute).
            pub(crate) fn of(value: Value<String>) -> $name {
                $name(value)
            }

            /// An id given by the user: a literal must have the resource's shape
            /// (`prefix-` and 8 or 17 hexadecimal digits); a token (a parameter, an import)
            /// is taken as it is. The error says what is wrong.
            pub(crate) fn given(value: Value<String>) -> std::result::Result<$name, String> {
                match value.as_literal() {
                    Some(id) if !has_shape(id, $prefix) => Err(format!(
                        "{id:?} is not a {} id; give one such as {:?}",
                        $prefix, $example
                    )),
                    _ => Ok($name(value)),
                }
            }
        }

        impl From<$name> for Value<String> {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl From<&$name> for Value<String> {
            fn from(id: &$name) -> Self {
                id.0.clone()
            }
        }
    };
}

/// `prefix-` followed by 8 or 17 lower-case hexadecimal digits, as EC2 ids are.
fn has_shape(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            matches!(hex.len(), 8 | 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

id_type!(
    /// The id of a VPC (`vpc-...`): [`crate::Vpc::vpc_id`], or given to
    /// [`crate::Vpc::from_attributes`].
    VpcId,
    "vpc",
    "vpc-0123456789abcdef0"
);
id_type!(
    /// The id of a subnet (`subnet-...`): from a [`crate::Vpc`]'s subnet selection.
    SubnetId,
    "subnet",
    "subnet-0123456789abcdef0"
);
id_type!(
    /// The id of a security group (`sg-...`), such as `group.security_group_id()`.
    SecurityGroupId,
    "sg",
    "sg-0123456789abcdef0"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_ids_must_have_the_shape_of_their_resource() {
        assert!(VpcId::given("vpc-0123456789abcdef0".into()).is_ok());
        assert!(VpcId::given("vpc-01234567".into()).is_ok());
        let err = VpcId::given("subnet-0123456789abcdef0".into()).unwrap_err();
        assert!(err.contains("is not a vpc id"), "{err}");
        assert!(SubnetId::given("subnet-0123".into()).is_err());
        assert!(SecurityGroupId::given("sg-0123456789ABCDEF0".into()).is_err());
        assert!(SecurityGroupId::given("my-group".into()).is_err());
        // A token is checked by CloudFormation at deploy time.
        let token = omc_cdk::fns::import_value("Network-VpcId");
        assert!(VpcId::given(token).is_ok());
    }
}
