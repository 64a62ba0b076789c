//! Stable written forms that storage, the change log and signatures rely
//! on: enums by their snake_case names, and canonical JSON.

use serde_json::Value;

/// Declares an enum written by stable snake_case names (storage, JSON, the
/// CLI), with `ALL`, `as_str`, `parse` (naming the input field on error) and
/// `Display`.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $crate::stable::string_enum!($(#[$doc])* $name as $name { $($(#[$vdoc])* $variant = $text),+ });
    };
    ($(#[$doc:meta])* $name:ident as $vocabulary:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable name used in storage, JSON and the CLI.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses a stable name; `field` names the input field on error.
            pub fn parse(field: &str, raw: &str) -> Result<Self, $crate::error::FieldError> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::error::FieldError::new(
                        field,
                        format!(
                            "unknown value {}; expected one of {}",
                            $crate::text::excerpt(raw),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl ::std::cmp::PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::std::cmp::PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl $crate::stable::Named for $name {
            const VOCABULARY: &'static str = stringify!($vocabulary);

            fn stable_name(self) -> &'static str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use string_enum;

/// A value with a name for people in the vocabulary (the console, reports,
/// feeds and the command line all name it from one catalogue). Its key
/// there is the kebab-case of [`Named::VOCABULARY`] and of its stable name:
/// the key the protobuf enum's value gives too (`ActivityKind::Course` and
/// `ACTIVITY_KIND_COURSE` are both `activity-kind-course`).
pub trait Named: Copy {
    /// The vocabulary's name for the enum: its protobuf enum's name.
    const VOCABULARY: &'static str;

    /// The value's stable name.
    fn stable_name(self) -> &'static str;

    /// The value's key in the vocabulary.
    fn vocabulary_key(self) -> String {
        vocabulary_key(Self::VOCABULARY, self.stable_name())
    }
}

/// `activity-kind-course` from `ActivityKind` and `course`.
pub fn vocabulary_key(vocabulary: &str, stable_name: &str) -> String {
    let mut key = String::with_capacity(vocabulary.len() + stable_name.len() + 4);
    for (i, c) in vocabulary.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                key.push('-');
            }
            key.push(c.to_ascii_lowercase());
        } else {
            key.push(c);
        }
    }
    key.push('-');
    key.extend(stable_name.chars().map(|c| if c == '_' { '-' } else { c }));
    key
}

/// `value` as canonical JSON: object keys sorted, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn vocabulary_keys_match_the_protobuf_names() {
        use crate::calendar::ActivityKind;
        assert_eq!(
            ActivityKind::OlympiadPrepCourse.vocabulary_key(),
            "activity-kind-olympiad-prep-course"
        );
        assert_eq!(
            crate::agreement::State::Active.vocabulary_key(),
            "agreement-state-active"
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = json!({"b": 1, "a": {"d": [true, null], "c": "ё"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"ё","d":[true,null]},"b":1}"#
        );
    }
}
