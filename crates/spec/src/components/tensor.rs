//! `Tensor.In`: an array of numbers (or booleans, or strings) of a given shape, for models
//! whose input is neither a few fields nor a table, such as an image already made into
//! channels, rows and columns.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::problem::join;
use crate::read::{Ctx, Obj, kind, list};

/// The most elements one value may hold: 4 Mi (a 3 × 1024 × 1024 image and more).
pub const MAX_ELEMENTS: u64 = 1 << 22;
/// The most dimensions a tensor may have.
pub const MAX_RANK: usize = 8;
/// Problems recorded for one value before the rest of its elements go unchecked.
const MAX_PROBLEMS: usize = 10;

/// The type of a tensor's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Bool,
    String,
}

impl Dtype {
    pub const ALL: [Self; 12] = [
        Self::Float32,
        Self::Float64,
        Self::Int8,
        Self::Int16,
        Self::Int32,
        Self::Int64,
        Self::Uint8,
        Self::Uint16,
        Self::Uint32,
        Self::Uint64,
        Self::Bool,
        Self::String,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Uint8 => "uint8",
            Self::Uint16 => "uint16",
            Self::Uint32 => "uint32",
            Self::Uint64 => "uint64",
            Self::Bool => "bool",
            Self::String => "string",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The range of a whole-number type.
    fn range(self) -> Option<(i128, i128)> {
        Some(match self {
            Self::Int8 => (i8::MIN.into(), i8::MAX.into()),
            Self::Int16 => (i16::MIN.into(), i16::MAX.into()),
            Self::Int32 => (i32::MIN.into(), i32::MAX.into()),
            Self::Int64 => (i64::MIN.into(), i64::MAX.into()),
            Self::Uint8 => (0, u8::MAX.into()),
            Self::Uint16 => (0, u16::MAX.into()),
            Self::Uint32 => (0, u32::MAX.into()),
            Self::Uint64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    /// Why `v` is not an element of this type, if it is not.
    fn refuse(self, v: &Value) -> Option<String> {
        match self {
            Self::Float32 | Self::Float64 => (!v.is_number()).then(|| "a number".to_owned()),
            Self::Bool => (!v.is_boolean()).then(|| "true or false".to_owned()),
            Self::String => (!v.is_string()).then(|| "a string".to_owned()),
            _ => {
                let (lo, hi) = self.range()?;
                let n = v
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| v.as_u64().map(i128::from));
                match n {
                    Some(n) if (lo..=hi).contains(&n) => None,
                    _ => Some(format!("a whole number from {lo} to {hi}")),
                }
            }
        }
    }

    fn schema(self) -> Value {
        match self {
            Self::Float32 | Self::Float64 => json!({"type": "number"}),
            Self::Bool => json!({"type": "boolean"}),
            Self::String => json!({"type": "string"}),
            _ => {
                let (lo, hi) = self.range().unwrap_or_default();
                let int =
                    |n: i128| i64::try_from(n).map_or_else(|_| Value::from(n as u64), Value::from);
                json!({"type": "integer", "minimum": int(lo), "maximum": int(hi)})
            }
        }
    }
}

/// An array of a given shape: its value is nested arrays, one level per dimension.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TensorIn {
    pub dtype: Dtype,
    /// The size of each dimension, -1 for any size; `[]` is a single element.
    pub shape: Vec<i64>,
    /// Nested arrays of the shape, as a value is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = Value)]
    pub default: Option<Value>,
}

impl TensorIn {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let dtype = o.req(ctx, "dtype", |ctx: &mut Ctx, v: &Value, p: &str| {
            let d = v.as_str().and_then(Dtype::parse);
            if d.is_none() {
                let names: Vec<&str> = Dtype::ALL.iter().map(|d| d.as_str()).collect();
                ctx.add(p, format!("must be one of {}", names.join(", ")));
            }
            d
        });
        let shape = o.req(ctx, "shape", list(0, MAX_RANK, dim));
        let default = o.get("default");
        let (dtype, shape) = (dtype?, shape?);
        let fixed: u64 = shape
            .iter()
            .filter(|d| **d > 0)
            .map(|d| *d as u64)
            .fold(1, u64::saturating_mul);
        if fixed > MAX_ELEMENTS {
            ctx.add(
                join(&o.path, "shape"),
                format!("holds {fixed} elements; at most {MAX_ELEMENTS} are allowed"),
            );
            return None;
        }
        let t = Self {
            dtype,
            shape,
            default: default.as_ref().map(|(v, _)| (*v).clone()),
        };
        let before = ctx.problems.len();
        if let Some((v, p)) = default {
            t.check(ctx, v, &p);
        }
        (ctx.problems.len() == before).then_some(t)
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let mut sizes: Vec<Option<usize>> = vec![None; self.shape.len()];
        let mut walk = Walk {
            ctx,
            dtype: self.dtype,
            shape: &self.shape,
            sizes: &mut sizes,
            elements: 0,
            problems: 0,
        };
        walk.visit(v, path, 0);
        if walk.elements > MAX_ELEMENTS {
            walk.ctx.add(
                path,
                format!(
                    "holds {} elements; at most {MAX_ELEMENTS} are allowed",
                    walk.elements
                ),
            );
        }
    }

    pub(crate) fn value_schema(&self) -> Value {
        self.shape
            .iter()
            .rev()
            .fold(self.dtype.schema(), |inner, d| {
                let (lo, hi) = if *d > 0 { (*d, Some(*d)) } else { (1, None) };
                let mut s = json!({"type": "array", "items": inner, "minItems": lo});
                if let Some(hi) = hi {
                    s["maxItems"] = json!(hi);
                }
                s
            })
    }
}

/// A walk over a value's nested arrays, checking each level's length (a dimension of any size
/// must still be the same size throughout) and each element.
struct Walk<'a> {
    ctx: &'a mut Ctx,
    dtype: Dtype,
    shape: &'a [i64],
    /// The length met first at each level, for dimensions of any size.
    sizes: &'a mut Vec<Option<usize>>,
    elements: u64,
    problems: usize,
}

impl Walk<'_> {
    fn add(&mut self, path: &str, reason: String) {
        if self.problems < MAX_PROBLEMS {
            self.ctx.add(path, reason);
        }
        self.problems += 1;
    }

    fn visit(&mut self, v: &Value, path: &str, depth: usize) {
        if self.problems >= MAX_PROBLEMS || self.elements > MAX_ELEMENTS {
            return;
        }
        let Some(&dim) = self.shape.get(depth) else {
            self.elements += 1;
            if let Some(want) = self.dtype.refuse(v) {
                self.add(path, format!("expected {want}, found {}", kind(v)));
            }
            return;
        };
        let Value::Array(items) = v else {
            self.add(
                path,
                format!(
                    "expected an array (dimension {depth} of {}), found {}",
                    self.shape.len(),
                    kind(v)
                ),
            );
            return;
        };
        let want = if dim > 0 {
            Some(dim as usize)
        } else {
            self.sizes[depth]
        };
        match want {
            Some(n) if n != items.len() => {
                let reason = if dim > 0 {
                    format!(
                        "must have {n} items (dimension {depth}), found {}",
                        items.len()
                    )
                } else {
                    format!(
                        "must have {n} items, as its neighbours do (dimension {depth}), found {}",
                        items.len()
                    )
                };
                self.add(path, reason);
                return;
            }
            _ if items.is_empty() => {
                self.add(path, format!("must not be empty (dimension {depth})"));
                return;
            }
            _ => self.sizes[depth] = Some(items.len()),
        }
        if depth + 1 == self.shape.len() {
            // The innermost level: elements, whose paths are only made for a problem.
            self.elements += items.len() as u64;
            for (i, item) in items.iter().enumerate() {
                if let Some(want) = self.dtype.refuse(item) {
                    self.add(
                        &join(path, i),
                        format!("expected {want}, found {}", kind(item)),
                    );
                    if self.problems >= MAX_PROBLEMS {
                        return;
                    }
                }
            }
            return;
        }
        for (i, item) in items.iter().enumerate() {
            self.visit(item, &join(path, i), depth + 1);
        }
    }
}

fn dim(ctx: &mut Ctx, v: &Value, path: &str) -> Option<i64> {
    match v.as_i64() {
        Some(n) if n == -1 || (1..=MAX_ELEMENTS as i64).contains(&n) => Some(n),
        _ => {
            ctx.add(path, "must be a size of at least 1, or -1 for any size");
            None
        }
    }
}

/// Nested arrays as their dimensions and flat values, in row-major order (the first array at
/// each level gives the dimension; values are checked against their component before this).
pub fn flatten(v: &Value) -> (Vec<i64>, Vec<Value>) {
    let mut dims = Vec::new();
    let mut level = v;
    while let Value::Array(items) = level {
        dims.push(items.len() as i64);
        match items.first() {
            Some(first) => level = first,
            None => break,
        }
    }
    let mut flat = Vec::new();
    fn push(v: &Value, flat: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| push(i, flat)),
            other => flat.push(other.clone()),
        }
    }
    push(v, &mut flat);
    (dims, flat)
}

/// Flat values in nested arrays of `shape`: the inverse of [`flatten`].
pub fn nest(flat: &[Value], shape: &[i64]) -> Value {
    match shape {
        [] => flat.first().cloned().unwrap_or(Value::Null),
        [_] => Value::Array(flat.to_vec()),
        [d, rest @ ..] => {
            let inner = flat.len() / (*d).max(1) as usize;
            Value::Array(flat.chunks(inner.max(1)).map(|c| nest(c, rest)).collect())
        }
    }
}
