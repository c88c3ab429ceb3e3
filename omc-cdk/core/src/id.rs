//! Logical ids and the naming rules of CloudFormation.
//!
//! Logical ids are derived from construct paths exactly as AWS CDK derives them
//! (`core/lib/private/uniqueid.ts`), so a stack that CDK deployed keeps its logical ids, and
//! nothing is replaced, when its program moves to omc-cdk.

use std::fmt::Write as _;

use md5::{Digest, Md5};

/// Path components with this id are left out of the logical id entirely (hash included).
pub const HIDDEN_ID: &str = "Default";
/// Path components with this id are left out of the human part of the logical id, but not of
/// the hash. The primary resource of a construct uses it.
pub const HIDDEN_FROM_HUMAN_ID: &str = "Resource";
/// CloudFormation's maximum logical id length.
pub const MAX_LOGICAL_ID_LEN: usize = 255;
const MAX_HUMAN_LEN: usize = 240;
const HASH_LEN: usize = 8;

/// The logical id for a construct path inside a stack (the stack itself not included).
///
/// The rules are CDK's: components named `Default` are dropped; a single remaining component is
/// used as is (non-alphanumeric characters removed) when it fits; otherwise the id is the
/// alphanumeric rendition of the path, with `Resource` components and components that repeat the
/// end of the previous one left out, cut to 240 characters, followed by the first 8 hex digits
/// (upper case) of the MD5 of the `/`-joined path.
///
/// ```
/// use omc_cdk::id::logical_id_for_path;
/// assert_eq!(logical_id_for_path(&["MyBucket", "Resource"]), "MyBucketF68F3FF0");
/// assert_eq!(logical_id_for_path(&["Vpc", "PublicSubnet1", "Subnet"]), "VpcPublicSubnet1Subnet5C2D37C4");
/// assert_eq!(logical_id_for_path(&["Table"]), "Table");
/// ```
pub fn logical_id_for_path<S: AsRef<str>>(components: &[S]) -> String {
    let components: Vec<&str> = components
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| *c != HIDDEN_ID)
        .collect();
    if components.len() == 1 {
        let candidate = remove_non_alphanumeric(components[0]);
        if candidate.len() <= MAX_LOGICAL_ID_LEN {
            return candidate;
        }
    }
    let mut human = String::new();
    let mut previous: Option<&str> = None;
    for component in &components {
        // A component that repeats the end of the previous one is skipped (`removeDupes`);
        // CDK compares the raw components, before `Resource` is hidden.
        if previous.is_some_and(|p| p.ends_with(component)) {
            continue;
        }
        previous = Some(component);
        if *component != HIDDEN_FROM_HUMAN_ID {
            human.extend(component.chars().filter(char::is_ascii_alphanumeric));
        }
    }
    human.truncate(MAX_HUMAN_LEN);
    human.push_str(&path_hash(&components));
    human
}

fn path_hash(components: &[&str]) -> String {
    let digest = Md5::digest(components.join("/").as_bytes());
    let mut hex = String::with_capacity(HASH_LEN);
    for byte in digest.iter().take(HASH_LEN / 2) {
        let _ = write!(hex, "{byte:02X}");
    }
    hex
}

fn remove_non_alphanumeric(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Checks a logical id given explicitly: 1 to 255 ASCII letters and digits.
pub fn check_logical_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("it is empty; a logical id needs at least one ASCII letter or digit".into());
    }
    if let Some(bad) = id.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(format!(
            "{bad:?} is not allowed; logical ids contain only ASCII letters and digits"
        ));
    }
    if id.len() > MAX_LOGICAL_ID_LEN {
        return Err(format!(
            "it has {} characters; CloudFormation allows at most {MAX_LOGICAL_ID_LEN}",
            id.len()
        ));
    }
    Ok(())
}

/// Checks a construct id: not empty, no `/` (the path separator).
pub fn check_construct_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("it is empty; give the construct a name such as \"Vpc\"".into());
    }
    if id.contains('/') {
        return Err("'/' separates path components and cannot appear in an id; remove it".into());
    }
    Ok(())
}

/// Checks a stack name against CloudFormation's rules: starts with a letter, then letters,
/// digits and hyphens, at most 128 characters.
pub fn check_stack_name(name: &str) -> Result<(), String> {
    const MAX: usize = 128;
    let Some(first) = name.chars().next() else {
        return Err("it is empty; a stack name needs at least one letter".into());
    };
    if !first.is_ascii_alphabetic() {
        return Err(format!(
            "it starts with {first:?}; a stack name must start with an ASCII letter"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "{bad:?} is not allowed; use only ASCII letters, digits and hyphens (for example \"{}\")",
            name.replace(|c: char| !(c.is_ascii_alphanumeric() || c == '-'), "-")
        ));
    }
    if name.len() > MAX {
        return Err(format!(
            "it has {} characters; CloudFormation allows at most {MAX}",
            name.len()
        ));
    }
    Ok(())
}

/// Checks the name of an output, parameter, condition or mapping: 1 to 255 ASCII letters and
/// digits.
pub fn check_element_name(name: &str) -> Result<(), String> {
    check_logical_id(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from the issue and from AWS CDK's own tests (`core/test/logical-id.test.ts`,
    // and a construct library built on it); the hashes were produced by CDK.
    #[test]
    fn matches_cdk_test_vectors() {
        let cases: &[(&[&str], &str)] = &[
            (&["MyBucket", "Resource"], "MyBucketF68F3FF0"),
            (
                &["Vpc", "PublicSubnet1", "Subnet"],
                "VpcPublicSubnet1Subnet5C2D37C4",
            ),
            (
                &["Parent", "Child", "Resource", "HeyThere"],
                "ParentChildHeyThere35220347",
            ),
            (&["Parent", "ThingResource"], "ParentThingResource75D1D9CB"),
            (
                &["Foo-bar", "B00m", "Hello_World", "&&Horray Horray."],
                "FoobarB00mHelloWorldHorrayHorray640E99FB",
            ),
            (
                &["Foobar", "B00m", "HelloWorld", "HorrayHorray"],
                "FoobarB00mHelloWorldHorrayHorray744334FD",
            ),
            (&["log-retention", "Resource"], "logretentionB69DFB48"),
            (&["Foo-bar"], "Foobar"),
            (&["MyAwesomeness"], "MyAwesomeness"),
        ];
        for (path, expected) in cases {
            assert_eq!(logical_id_for_path(path), *expected, "path {path:?}");
        }
    }

    #[test]
    fn default_components_are_invisible() {
        assert_eq!(
            logical_id_for_path(&["Parent", "Default", "HeyThere"]),
            logical_id_for_path(&["Parent", "HeyThere"])
        );
        assert_eq!(logical_id_for_path(&["Default", "Table"]), "Table");
    }

    #[test]
    fn repeated_suffix_components_are_skipped_in_the_human_part() {
        // "Subnet" repeats the end of "PublicSubnet", so it does not appear twice; the hash
        // still covers the whole path.
        let id = logical_id_for_path(&["Vpc", "PublicSubnet", "Subnet"]);
        assert!(id.starts_with("VpcPublicSubnet"), "{id}");
        assert_eq!(id.len(), "VpcPublicSubnet".len() + 8);
    }

    #[test]
    fn top_level_ids_up_to_255_characters_are_used_as_is() {
        let x255 = "x".repeat(255);
        assert_eq!(logical_id_for_path(&[x255.as_str()]), x255);
        let star = "*y-".repeat(255);
        assert_eq!(logical_id_for_path(&[star.as_str()]), "y".repeat(255));
    }

    #[test]
    fn long_top_level_ids_are_trimmed_with_a_hash() {
        let x256 = "x".repeat(256);
        assert_eq!(
            logical_id_for_path(&[x256.as_str()]),
            format!("{}C7A139A2", "x".repeat(240))
        );
    }

    #[test]
    fn long_paths_stay_within_the_limit_and_unique() {
        let a = "a".repeat(100);
        let b = "b".repeat(100);
        let c1 = format!("{}{}", "c".repeat(60), "d".repeat(40));
        let c2 = format!("{}{}", "c".repeat(60), "e".repeat(40));
        let id1 = logical_id_for_path(&[a.as_str(), b.as_str(), c1.as_str()]);
        let id2 = logical_id_for_path(&[a.as_str(), b.as_str(), c2.as_str()]);
        assert!(id1.len() <= MAX_LOGICAL_ID_LEN);
        assert!(id2.len() <= MAX_LOGICAL_ID_LEN);
        assert_ne!(id1, id2);
    }

    #[test]
    fn explicit_logical_ids_are_checked() {
        assert!(check_logical_id("Bucket1").is_ok());
        assert!(check_logical_id("").unwrap_err().contains("empty"));
        assert!(check_logical_id("my-bucket").unwrap_err().contains("'-'"));
        assert!(
            check_logical_id(&"a".repeat(256))
                .unwrap_err()
                .contains("256")
        );
    }

    #[test]
    fn stack_names_follow_cloudformation_rules() {
        assert!(check_stack_name("OmcStaging-Network").is_ok());
        assert!(check_stack_name(&"a".repeat(128)).is_ok());
        let err = check_stack_name("omc_staging").unwrap_err();
        assert!(
            err.contains("'_'") && err.contains("\"omc-staging\""),
            "{err}"
        );
        assert!(
            check_stack_name(&"a".repeat(129))
                .unwrap_err()
                .contains("129")
        );
        assert!(check_stack_name("1abc").unwrap_err().contains("start"));
        assert!(check_stack_name("").unwrap_err().contains("empty"));
    }

    #[test]
    fn construct_ids_cannot_contain_slashes() {
        assert!(check_construct_id("Vpc").is_ok());
        assert!(check_construct_id("a/b").unwrap_err().contains("'/'"));
        assert!(check_construct_id("").is_err());
    }
}
