//! What a graph means to a client. A version's [`Plan`] is made from its signature (read from
//! the model at publish) and its manifest: the components a person fills in, how their values
//! become one row of the input tensor, and how each row of the outputs becomes components.
//!
//! Inputs understood now: one 2-D number input `[batch, features]`, or one input per column
//! (`[batch, 1]` or `[batch]`, numbers or strings, as converters write a pipeline of named
//! columns), each feature a `Number.In` or a `Text.In`; and outputs that are either a classifier's label and probabilities (as
//! skl2onnx writes them, `ZipMap` included: shown as a `Label`) or tensors (shown as JSON,
//! one row each). A graph of any other shape is refused at publish with the reason.

use ort::session::Session;
use ort::value::{TensorElementType, ValueType};
use serde_json::{Map, Value, json};

use feather_spec::onnx::{OnnxRuntime, Signature, TensorSpec};

/// The most features a graph's input may have to be shown as one number field each.
pub const MAX_FEATURES: i64 = 64;

/// How one version's values and tensors correspond.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The graph's inputs, in its order, each taking the next `width` features.
    pub inputs: Vec<Input>,
    /// Component ids, one per feature, in the inputs' order.
    pub features: Vec<String>,
    pub outputs: Outputs,
}

/// One input tensor of a graph: `[batch, width]`, or `[batch]` when `rank` is 1.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub element: Element,
    pub width: usize,
    pub rank: usize,
}

/// The element types an input may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    F32,
    F64,
    I32,
    I64,
    Str,
}

impl Element {
    fn of(ty: &str) -> Option<Self> {
        Some(match ty {
            "float32" => Self::F32,
            "float64" => Self::F64,
            "int32" => Self::I32,
            "int64" => Self::I64,
            "string" => Self::Str,
            _ => return None,
        })
    }

    /// The component a feature of this type is filled in with.
    fn component(self) -> &'static str {
        if self == Self::Str {
            "Text.In"
        } else {
            "Number.In"
        }
    }
}

#[derive(Debug, Clone)]
pub enum Outputs {
    /// A label tensor and, if present, class probabilities.
    Classifier {
        label: String,
        probabilities: Option<String>,
        /// Names to show for class indices.
        labels: Option<Vec<String>>,
    },
    /// Tensors shown as JSON, by name.
    Tensors(Vec<String>),
}

/// The signature of a loaded session, in the manifest's terms; refuses inputs and outputs of
/// kinds the manifest cannot name.
pub fn signature(session: &Session) -> Result<Signature, String> {
    let spec = |name: &str, t: &ValueType| -> Result<TensorSpec, String> {
        match t {
            ValueType::Tensor { ty, shape, .. } => Ok(TensorSpec {
                name: name.to_owned(),
                ty: element(*ty)
                    .ok_or_else(|| {
                        format!(
                            "{name:?} has elements of type {ty:?}, which feather does not serve"
                        )
                    })?
                    .to_owned(),
                shape: Some(shape.to_vec()),
            }),
            ValueType::Sequence(inner) => match &**inner {
                ValueType::Map { key, value } => Ok(TensorSpec {
                    name: name.to_owned(),
                    ty: format!(
                        "seq(map({},{}))",
                        element(*key).unwrap_or("?"),
                        element(*value).unwrap_or("?")
                    ),
                    shape: None,
                }),
                other => Err(format!(
                    "{name:?} is a sequence of {other:?}, which feather does not serve"
                )),
            },
            other => Err(format!(
                "{name:?} is a {other:?}, which feather does not serve"
            )),
        }
    };
    Ok(Signature {
        inputs: session
            .inputs()
            .iter()
            .map(|o| spec(o.name(), o.dtype()))
            .collect::<Result<_, _>>()?,
        outputs: session
            .outputs()
            .iter()
            .map(|o| spec(o.name(), o.dtype()))
            .collect::<Result<_, _>>()?,
    })
}

/// Feature names a model's metadata gives (`feature_names`, comma-separated), if any.
pub fn feature_names(session: &Session) -> Option<Vec<String>> {
    let meta = session.metadata().ok()?;
    let names = meta.custom("feature_names")?;
    Some(names.split(',').map(|n| n.trim().to_owned()).collect())
}

fn element(t: TensorElementType) -> Option<&'static str> {
    use TensorElementType as T;
    Some(match t {
        T::Float32 => "float32",
        T::Float64 => "float64",
        T::Float16 => "float16",
        T::Bfloat16 => "bfloat16",
        T::Int8 => "int8",
        T::Int16 => "int16",
        T::Int32 => "int32",
        T::Int64 => "int64",
        T::Uint8 => "uint8",
        T::Uint16 => "uint16",
        T::Uint32 => "uint32",
        T::Uint64 => "uint64",
        T::Bool => "bool",
        T::String => "string",
        _ => return None,
    })
}

/// The component id an output is shown with.
pub fn component_id_for(name: &str) -> String {
    component_id(name, 0).replace("x0", "output")
}

/// A component id made of a feature's name: lowercase, `[a-z0-9_]`, starting with a letter.
fn component_id(name: &str, index: usize) -> String {
    // Runs of other characters become one underscore: `sepal length (cm)` is `sepal_length_cm`.
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    let mut id = id.trim_matches('_').to_owned();
    id.truncate(64);
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id = format!("x{index}");
    }
    id
}

impl Plan {
    /// The plan of a signature, with the feature names the model's metadata gives (if any)
    /// and the manifest's own components and labels; the reason when the graph has a shape
    /// feather does not serve.
    pub fn new(
        sig: &Signature,
        runtime: &OnnxRuntime,
        feature_names: Option<Vec<String>>,
        init: &[Value],
    ) -> Result<Self, String> {
        // One [batch, features] tensor, or one tensor per column ([batch, 1] or [batch]), as
        // converters write a pipeline of named columns.
        let mut inputs = Vec::new();
        for input in &sig.inputs {
            let element = Element::of(&input.ty).ok_or_else(|| {
                format!(
                    "the input {:?} holds {}; feather serves numbers (float32, float64, int32, int64) and strings for now",
                    input.name, input.ty
                )
            })?;
            let (width, rank) = match input.shape.as_deref() {
                Some([_]) => (1, 1),
                Some([_, f]) if (1..=MAX_FEATURES).contains(f) => (*f as usize, 2),
                Some([_, f]) if *f > MAX_FEATURES => {
                    return Err(format!(
                        "the input {:?} has {f} features; feather serves at most {MAX_FEATURES} for now",
                        input.name
                    ));
                }
                other => {
                    return Err(format!(
                        "the input {:?} has the shape {other:?}; feather serves [batch, features] with a fixed number of features for now",
                        input.name
                    ));
                }
            };
            inputs.push(Input {
                name: input.name.clone(),
                element,
                width,
                rank,
            });
        }
        let width: usize = inputs.iter().map(|i| i.width).sum();
        if width > MAX_FEATURES as usize {
            return Err(format!(
                "the inputs have {width} features; feather serves at most {MAX_FEATURES} for now"
            ));
        }
        // A graph of one column per input names its features after its inputs.
        let feature_names = feature_names.or_else(|| {
            inputs
                .iter()
                .all(|i| i.width == 1)
                .then(|| inputs.iter().map(|i| i.name.clone()).collect())
        });
        let features: Vec<String> = if init.is_empty() {
            let names = feature_names.filter(|n| n.len() == width);
            let mut ids: Vec<String> = (0..width)
                .map(|i| match &names {
                    Some(n) => component_id(&n[i], i),
                    None => format!("x{i}"),
                })
                .collect();
            // Names that collide once made into ids fall back to their position.
            for i in 0..ids.len() {
                if ids[..i].contains(&ids[i]) {
                    ids[i] = format!("x{i}");
                }
            }
            ids
        } else {
            let kinds: Vec<&str> = inputs
                .iter()
                .flat_map(|i| std::iter::repeat_n(i.element.component(), i.width))
                .collect();
            if init.len() != width || init.iter().zip(&kinds).any(|(c, k)| c["type"] != *k) {
                return Err(format!(
                    "the model's inputs have {width} features: give {width} components in init ({}), or none",
                    kinds.join(", ")
                ));
            }
            init.iter()
                .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let outputs = classifier(sig, runtime.labels.clone()).unwrap_or_else(|| {
            Outputs::Tensors(sig.outputs.iter().map(|o| o.name.clone()).collect())
        });
        Ok(Self {
            inputs,
            features,
            outputs,
        })
    }

    /// Each feature's element type, in the features' order.
    fn elements(&self) -> impl Iterator<Item = Element> + '_ {
        self.inputs
            .iter()
            .flat_map(|i| std::iter::repeat_n(i.element, i.width))
    }

    /// The init components derived from the signature: a `Number.In` (whole numbers for an
    /// integer input) or a `Text.In` per feature, titled with its name.
    pub fn init(&self, feature_names: Option<&[String]>) -> Vec<Value> {
        let names = feature_names.map(<[String]>::to_vec).or_else(|| {
            self.inputs
                .iter()
                .all(|i| i.width == 1)
                .then(|| self.inputs.iter().map(|i| i.name.clone()).collect())
        });
        self.features
            .iter()
            .zip(self.elements())
            .enumerate()
            .map(|(i, (id, element))| {
                let title = names
                    .as_ref()
                    .and_then(|n| n.get(i))
                    .cloned()
                    .unwrap_or_else(|| format!("feature {i}"));
                match element {
                    Element::Str => json!({"id": id, "type": "Text.In", "title": title}),
                    Element::I32 | Element::I64 => {
                        json!({"id": id, "type": "Number.In", "title": title, "integer": true})
                    }
                    Element::F32 | Element::F64 => {
                        json!({"id": id, "type": "Number.In", "title": title})
                    }
                }
            })
            .collect()
    }

    /// One request's features, from its values by component id.
    pub fn row(&self, inputs: &Map<String, Value>) -> Result<Vec<Value>, String> {
        self.features
            .iter()
            .zip(self.elements())
            .map(|(id, element)| {
                let v = inputs.get(id);
                let ok = match element {
                    Element::Str => v.is_some_and(Value::is_string),
                    _ => v.is_some_and(Value::is_number),
                };
                match v {
                    Some(v) if ok => Ok(v.clone()),
                    _ => Err(format!(
                        "the input {id:?} is not a {}",
                        if element == Element::Str {
                            "text"
                        } else {
                            "number"
                        }
                    )),
                }
            })
            .collect()
    }
}

/// A label tensor of one dimension beside probabilities per class: a classifier, as skl2onnx
/// and most converters write one.
fn classifier(sig: &Signature, labels: Option<Vec<String>>) -> Option<Outputs> {
    let label = sig.outputs.iter().find(|o| {
        o.is_tensor()
            && matches!(o.ty.as_str(), "int64" | "int32" | "string")
            && o.shape.as_ref().is_some_and(|s| s.len() == 1)
    })?;
    let probabilities = sig.outputs.iter().find(|o| {
        o.name != label.name
            && (o
                .map_types()
                .is_some_and(|(_, v)| v == "float32" || v == "float64")
                || (o.is_tensor()
                    && matches!(o.ty.as_str(), "float32" | "float64")
                    && o.shape.as_ref().is_some_and(|s| s.len() == 2)))
    });
    if sig.outputs.len() > 2 {
        return None;
    }
    Some(Outputs::Classifier {
        label: label.name.clone(),
        probabilities: probabilities.map(|p| p.name.clone()),
        labels,
    })
}
