//! What a model in the ONNX format declares: its file, and the graph's inputs and outputs as
//! the server read them when the version was published.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::file_ref::is_relative_path;
use crate::problem::join;
use crate::read::{Ctx, Obj, list, nonempty, string};

/// The element types a tensor may have, as the manifest names them.
pub const ELEMENT_TYPES: [&str; 14] = [
    "float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8",
    "uint16", "uint32", "uint64", "bool", "string",
];

/// A model run by ONNX Runtime inside the server.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OnnxRuntime {
    /// The `.onnx` file, relative to the bundle's root.
    pub file: String,
    /// The graph's inputs and outputs: written by the server at publish from the model itself
    /// (what a client sends is replaced).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub signature: Option<Signature>,
    /// Class names, in the order of the classifier's class indices, shown instead of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub labels: Option<Vec<String>>,
}

/// A graph's inputs and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Signature {
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
}

/// One input or output of a graph.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TensorSpec {
    pub name: String,
    /// An element type (`float32`, `int64`, `string`, ...) for a tensor, or
    /// `seq(map(K,V))` for a sequence of maps, such as a classifier's probabilities per class.
    #[serde(rename = "type")]
    pub ty: String,
    /// The tensor's dimensions; -1 for a dimension of any size (the batch, usually). None for
    /// a sequence.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub shape: Option<Vec<i64>>,
}

impl TensorSpec {
    /// Whether this is a tensor (not a sequence or a map).
    pub fn is_tensor(&self) -> bool {
        ELEMENT_TYPES.contains(&self.ty.as_str())
    }

    /// The key and value types of a `seq(map(K,V))`.
    pub fn map_types(&self) -> Option<(&str, &str)> {
        let inner = self.ty.strip_prefix("seq(map(")?.strip_suffix("))")?;
        inner.split_once(',')
    }
}

impl OnnxRuntime {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj, path: &str) -> Option<Self> {
        let file = o.req(ctx, "file", string(1024));
        if let Some(f) = &file
            && !(is_relative_path(f) && f.ends_with(".onnx"))
        {
            ctx.add(
                join(path, "file"),
                "must be a relative path to a .onnx file inside the bundle",
            );
        }
        let signature = o.opt(ctx, "signature", Signature::read);
        let labels = o.opt(ctx, "labels", list(1, 10_000, nonempty(200)));
        Some(Self {
            file: file?,
            signature,
            labels,
        })
    }
}

impl Signature {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let inputs = o.req(ctx, "inputs", list(1, 64, TensorSpec::read));
        let outputs = o.req(ctx, "outputs", list(1, 64, TensorSpec::read));
        o.finish(ctx);
        Some(Self {
            inputs: inputs?,
            outputs: outputs?,
        })
    }
}

impl TensorSpec {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let name = o.req(ctx, "name", nonempty(256));
        let ty = o.req(ctx, "type", nonempty(64));
        let shape = o.opt(ctx, "shape", list(0, 16, dim));
        o.finish(ctx);
        let spec = Self {
            name: name?,
            ty: ty?,
            shape,
        };
        let known = spec.is_tensor()
            || spec
                .map_types()
                .is_some_and(|(k, v)| ELEMENT_TYPES.contains(&k) && ELEMENT_TYPES.contains(&v));
        if !known {
            ctx.add(
                join(path, "type"),
                format!(
                    "must be one of {} or seq(map(K,V))",
                    ELEMENT_TYPES.join(", ")
                ),
            );
            return None;
        }
        Some(spec)
    }
}

fn dim(ctx: &mut Ctx, v: &Value, path: &str) -> Option<i64> {
    match v.as_i64() {
        Some(n) if n >= -1 => Some(n),
        _ => {
            ctx.add(path, "must be a size, or -1 for any size");
            None
        }
    }
}
