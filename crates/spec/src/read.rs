//! A reader over untrusted JSON that records every problem it meets instead of stopping at the
//! first, so that validation can report all of them with their paths. Typed structs are built
//! from what it reads; `serde` is only used to write them back out.

use serde_json::{Map, Number, Value};

use crate::problem::{Problem, join};

/// Collects problems while a document is read.
#[derive(Debug, Default)]
pub struct Ctx {
    pub problems: Vec<Problem>,
}

impl Ctx {
    pub fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.problems.push(Problem::new(path, reason));
    }
}

/// Reads the fields of one JSON object; fields never asked for are reported as unknown by
/// [`Obj::finish`], so a misspelt prop cannot pass silently.
pub struct Obj<'v> {
    map: &'v Map<String, Value>,
    pub path: String,
    used: Vec<&'v str>,
}

impl<'v> Obj<'v> {
    /// Starts reading `v`, or records that it is not an object.
    pub fn new(ctx: &mut Ctx, v: &'v Value, path: &str) -> Option<Self> {
        match v {
            Value::Object(map) => Some(Self {
                map,
                path: path.to_owned(),
                used: Vec::new(),
            }),
            _ => {
                ctx.add(path, format!("expected an object, found {}", kind(v)));
                None
            }
        }
    }

    /// Marks `key` as known; gives its value unless absent or null, with its path.
    pub fn get(&mut self, key: &str) -> Option<(&'v Value, String)> {
        let (k, v) = self.map.get_key_value(key)?;
        self.used.push(k.as_str());
        (!v.is_null()).then(|| (v, join(&self.path, key)))
    }

    /// Marks `key` as known without reading it (already read by someone else).
    pub fn skip(&mut self, key: &str) {
        if let Some((k, _)) = self.map.get_key_value(key) {
            self.used.push(k.as_str());
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// Records every field that no one asked for.
    pub fn finish(self, ctx: &mut Ctx) {
        for key in self.map.keys() {
            if !self.used.contains(&key.as_str()) {
                ctx.add(join(&self.path, key), "unknown field");
            }
        }
    }

    /// A required field: records its absence.
    pub fn req<T>(
        &mut self,
        ctx: &mut Ctx,
        key: &str,
        read: impl FnOnce(&mut Ctx, &'v Value, &str) -> Option<T>,
    ) -> Option<T> {
        match self.get(key) {
            Some((v, p)) => read(ctx, v, &p),
            None => {
                ctx.add(join(&self.path, key), "is required");
                None
            }
        }
    }

    /// An optional field: `None` when absent or unreadable (the problem is recorded).
    pub fn opt<T>(
        &mut self,
        ctx: &mut Ctx,
        key: &str,
        read: impl FnOnce(&mut Ctx, &'v Value, &str) -> Option<T>,
    ) -> Option<T> {
        let (v, p) = self.get(key)?;
        read(ctx, v, &p)
    }
}

/// The JSON type of a value, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string of at most `max` characters.
pub fn string(max: usize) -> impl Fn(&mut Ctx, &Value, &str) -> Option<String> {
    move |ctx, v, path| match v {
        Value::String(s) if s.chars().count() <= max => Some(s.clone()),
        Value::String(_) => {
            ctx.add(path, format!("must be at most {max} characters"));
            None
        }
        _ => {
            ctx.add(path, format!("expected a string, found {}", kind(v)));
            None
        }
    }
}

/// A non-empty string of at most `max` characters.
pub fn nonempty(max: usize) -> impl Fn(&mut Ctx, &Value, &str) -> Option<String> {
    move |ctx, v, path| {
        let s = string(max)(ctx, v, path)?;
        if s.is_empty() {
            ctx.add(path, "must not be empty");
            return None;
        }
        Some(s)
    }
}

pub fn boolean(ctx: &mut Ctx, v: &Value, path: &str) -> Option<bool> {
    v.as_bool().or_else(|| {
        ctx.add(path, format!("expected a boolean, found {}", kind(v)));
        None
    })
}

pub fn number(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        _ => {
            ctx.add(path, format!("expected a number, found {}", kind(v)));
            None
        }
    }
}

/// A whole number within `lo..=hi`.
pub fn uint(lo: u64, hi: u64) -> impl Fn(&mut Ctx, &Value, &str) -> Option<u64> {
    move |ctx, v, path| match v.as_u64() {
        Some(n) if (lo..=hi).contains(&n) => Some(n),
        Some(_) => {
            ctx.add(path, format!("must be between {lo} and {hi}"));
            None
        }
        None if v.as_i64().is_some() => {
            ctx.add(path, format!("must be between {lo} and {hi}"));
            None
        }
        None => {
            ctx.add(
                path,
                format!("expected a whole number, found {}", describe(v)),
            );
            None
        }
    }
}

fn describe(v: &Value) -> &'static str {
    if v.is_number() { "a fraction" } else { kind(v) }
}

/// An array of `lo..=hi` items, each read by `item`; `None` if the array or any item is wrong
/// (every item's problems are recorded).
pub fn list<'v, T>(
    lo: usize,
    hi: usize,
    item: impl Fn(&mut Ctx, &'v Value, &str) -> Option<T>,
) -> impl FnOnce(&mut Ctx, &'v Value, &str) -> Option<Vec<T>> {
    move |ctx, v, path| {
        let Value::Array(items) = v else {
            ctx.add(path, format!("expected an array, found {}", kind(v)));
            return None;
        };
        if items.len() < lo || items.len() > hi {
            let reason = if lo == hi {
                format!("must have exactly {lo} item(s)")
            } else {
                format!("must have between {lo} and {hi} items")
            };
            ctx.add(path, reason);
            return None;
        }
        let before = ctx.problems.len();
        let out: Vec<T> = items
            .iter()
            .enumerate()
            .filter_map(|(i, x)| item(ctx, x, &join(path, i)))
            .collect();
        (ctx.problems.len() == before).then_some(out)
    }
}

/// Records a problem for every repeated string in `items`, at the repeat's index.
pub fn unique(ctx: &mut Ctx, path: &str, items: &[String], what: &str) -> bool {
    let mut ok = true;
    for (i, s) in items.iter().enumerate() {
        if items[..i].contains(s) {
            ctx.add(join(path, i), format!("repeats {what} {s:?}"));
            ok = false;
        }
    }
    ok
}

pub fn as_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}
