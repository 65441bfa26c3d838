//! JSON read strictly: an object that names one key twice is an error, with the key's JSON
//! Pointer, instead of the last value silently winning. What a manifest or a step's inputs
//! say must be what every reader of them (the server, the SDK, a person) takes them to say.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictError {
    /// Not JSON at all.
    #[error("{0}")]
    Syntax(String),
    /// An object names a key twice; `pointer` is where the second one is.
    #[error("{pointer}: the key {key:?} is given twice")]
    Duplicate { pointer: String, key: String },
}

/// Parses JSON, refusing objects with a key given twice.
pub fn from_slice(bytes: &[u8]) -> Result<Value, StrictError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Seed { at: At::Root }
        .deserialize(&mut de)
        .map_err(|e| parse_error(&e))?;
    de.end().map_err(|e| StrictError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Duplicates travel through serde as a custom error message; they are told apart here.
const MARK: &str = "\u{0}duplicate\u{0}";

fn parse_error(e: &serde_json::Error) -> StrictError {
    let text = e.to_string();
    match text.strip_prefix(MARK).and_then(|t| t.split_once(MARK)) {
        Some((pointer, rest)) => {
            let key = rest.rsplit_once(" at line ").map_or(rest, |(k, _)| k);
            StrictError::Duplicate {
                pointer: pointer.to_owned(),
                key: key.to_owned(),
            }
        }
        None => StrictError::Syntax(text),
    }
}

/// A JSON Pointer token: `~` and `/` escaped.
fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Where a value sits, kept on the stack and written out only when a duplicate is found.
#[derive(Clone, Copy)]
enum At<'p> {
    Root,
    Key(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl At<'_> {
    fn pointer(&self) -> String {
        match self {
            Self::Root => String::new(),
            Self::Key(parent, k) => format!("{}/{}", parent.pointer(), token(k)),
            Self::Index(parent, i) => format!("{}/{i}", parent.pointer()),
        }
    }
}

struct Seed<'p> {
    at: At<'p>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let at = At::Index(&self.at, out.len());
            match seq.next_element_seed(Seed { at })? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = At::Key(&self.at, &key);
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "{MARK}{}{MARK}{key}",
                    at.pointer()
                )));
            }
            let v = map.next_value_seed(Seed { at })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::{StrictError, from_slice};

    #[test]
    fn a_key_given_twice_is_named_with_its_pointer() {
        let v = from_slice(br#"{"a": [1, {"b": {"c/d": 1, "e": 2}}], "f": null}"#).unwrap();
        assert_eq!(v["a"][1]["b"]["c/d"], 1);
        assert_eq!(
            from_slice(br#"{"init": [{"id": "x", "type": "Text.In", "id": "y"}]}"#),
            Err(StrictError::Duplicate {
                pointer: "/init/0/id".into(),
                key: "id".into()
            })
        );
        assert_eq!(
            from_slice(br#"{"a/b": 1, "a/b": 2}"#)
                .unwrap_err()
                .to_string(),
            "/a~1b: the key \"a/b\" is given twice"
        );
        assert!(matches!(
            from_slice(b"{\"a\": }"),
            Err(StrictError::Syntax(_))
        ));
        assert!(matches!(from_slice(b"{} x"), Err(StrictError::Syntax(_))));
    }
}
