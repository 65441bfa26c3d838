//! What a graph means to a client. A version's [`Plan`] is made from its signature (read from
//! the model at publish) and its manifest: the components a person fills in, how their values
//! become one item of each input tensor, and how each item of the outputs becomes components.
//!
//! An input of `[batch, features]` (at most 64) or `[batch]`, numbers or strings, is one field
//! per feature (a `Number.In` or a `Text.In`; one input per column, as converters write a
//! pipeline of named columns, is a field per input); any other input is one `Tensor.In` of the
//! item's shape, the batch dimension left out. Outputs are a classifier's label and
//! probabilities (as skl2onnx writes them, `ZipMap` included), or probabilities alone once the
//! developer names the classes (shown as a `Label`), one number a row (a regressor's, shown as
//! a `Number.View`), or else tensors (shown as JSON, one item each). A graph of element types JSON cannot carry is refused at publish with the reason.

use ort::session::Session;
use ort::value::{TensorElementType, ValueType};
use serde_json::{Map, Value, json};

use feather_spec::components::{Dtype, MAX_RANK, flatten};
use feather_spec::onnx::{OnnxRuntime, Signature, TensorSpec};

/// The most features a graph's input may have to be shown as one number field each.
pub const MAX_FEATURES: i64 = 64;

/// How one version's values and tensors correspond.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The graph's inputs, in its order.
    pub inputs: Vec<Input>,
    pub outputs: Outputs,
}

/// One input tensor of a graph and the components that fill it.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub dtype: Dtype,
    pub feed: Feed,
    /// Its components' ids: one per feature, or the tensor's one.
    pub ids: Vec<String>,
}

/// How a request's values make one item of an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// A field per feature: `[batch, width]`, or `[batch]` when `rank` is 1.
    Features { width: usize, rank: usize },
    /// One `Tensor.In` of `item`'s shape (-1: any size).
    Tensor { item: Vec<i64>, batch: Batch },
}

/// Whether, and how, a tensor input has a batch dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// A first dimension of any size: items of the same shape are stacked along it.
    Stacked,
    /// A first dimension of size 1: one item a run.
    One,
    /// No batch dimension: the value is the whole tensor, one a run.
    Whole,
}

/// One request's values for one input: its elements in row-major order and the item's
/// dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub cells: Vec<Value>,
    pub dims: Vec<usize>,
}

impl Feed {
    /// How many components fill it: one per feature, or the tensor's one.
    pub fn components(&self) -> usize {
        match self {
            Self::Features { width, .. } => *width,
            Self::Tensor { .. } => 1,
        }
    }
}

impl Input {
    /// The full shape of a run of `n` items.
    pub fn shape(&self, n: usize, dims: &[usize]) -> Vec<usize> {
        match &self.feed {
            Feed::Features { rank: 1, .. } => vec![n],
            Feed::Features { width, .. } => vec![n, *width],
            Feed::Tensor { batch, .. } => match batch {
                Batch::Stacked => std::iter::once(n).chain(dims.iter().copied()).collect(),
                Batch::One => std::iter::once(1).chain(dims.iter().copied()).collect(),
                Batch::Whole => dims.to_vec(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub enum Outputs {
    /// A label tensor and, if present, class probabilities; or probabilities alone, the
    /// likeliest class their label.
    Classifier {
        label: Option<String>,
        probabilities: Option<String>,
        /// Names to show for class indices.
        labels: Option<Vec<String>>,
    },
    /// One number a row (a regressor's `[batch]` or `[batch, 1]`), shown as a number.
    Number(String),
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

/// Whether an input's element type may be a field of its own.
fn is_feature(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::Float32 | Dtype::Float64 | Dtype::Int32 | Dtype::Int64 | Dtype::String
    )
}

/// How an input of this shape is filled: fields, or a tensor (the item's shape, and its batch).
fn feed(dtype: Dtype, shape: Option<&[i64]>) -> Feed {
    match shape {
        Some([_]) if is_feature(dtype) => Feed::Features { width: 1, rank: 1 },
        Some([_, f]) if is_feature(dtype) && (1..=MAX_FEATURES).contains(f) => Feed::Features {
            width: *f as usize,
            rank: 2,
        },
        Some([first, rest @ ..]) if *first < 0 => Feed::Tensor {
            item: rest.to_vec(),
            batch: Batch::Stacked,
        },
        Some([1, rest @ ..]) => Feed::Tensor {
            item: rest.to_vec(),
            batch: Batch::One,
        },
        other => Feed::Tensor {
            item: other.map(<[i64]>::to_vec).unwrap_or_default(),
            batch: Batch::Whole,
        },
    }
}

impl Plan {
    /// The plan of a signature, with the feature names the model's metadata gives (if any)
    /// and the manifest's own components and labels; the reason when the graph has inputs
    /// feather does not serve.
    pub fn new(
        sig: &Signature,
        runtime: &OnnxRuntime,
        feature_names: Option<Vec<String>>,
        init: &[Value],
    ) -> Result<Self, String> {
        let mut shapes = Vec::new();
        for input in &sig.inputs {
            let dtype = Dtype::parse(&input.ty).ok_or_else(|| {
                format!(
                    "the input {:?} holds {}, which feather cannot fill from JSON; it serves numbers (float32, float64, int8 to int64, uint8 to uint64), booleans and strings",
                    input.name, input.ty
                )
            })?;
            let mut f = feed(dtype, input.shape.as_deref());
            if let Feed::Tensor { item, .. } = &f
                && item.len() > MAX_RANK
            {
                return Err(format!(
                    "the input {:?} has {} dimensions; feather serves at most {MAX_RANK} besides the batch",
                    input.name,
                    item.len()
                ));
            }
            if let Feed::Tensor { item, .. } = &mut f {
                // A dimension ONNX leaves unnamed or symbolic is any size.
                item.iter_mut().filter(|d| **d < 1).for_each(|d| *d = -1);
            }
            shapes.push((input.name.clone(), dtype, f));
        }
        // Too many fields for a page: wide inputs become tensors of their features.
        let width: usize = shapes
            .iter()
            .map(|(_, _, f)| match f {
                Feed::Features { width, .. } => *width,
                Feed::Tensor { .. } => 0,
            })
            .sum();
        if width > MAX_FEATURES as usize {
            for (_, _, f) in &mut shapes {
                if let Feed::Features { width, rank: 2 } = f {
                    *f = Feed::Tensor {
                        item: vec![*width as i64],
                        batch: Batch::Stacked,
                    };
                }
            }
        }
        let mut plan = Self {
            inputs: shapes
                .into_iter()
                .map(|(name, dtype, feed)| Input {
                    name,
                    dtype,
                    feed,
                    ids: Vec::new(),
                })
                .collect(),
            outputs: classifier(sig, runtime.labels.clone())
                .or_else(|| number(sig))
                .unwrap_or_else(|| {
                    Outputs::Tensors(sig.outputs.iter().map(|o| o.name.clone()).collect())
                }),
        };
        if init.is_empty() {
            plan.name_components(feature_names);
        } else {
            plan.take_components(init)?;
        }
        Ok(plan)
    }

    /// Component ids made of the features' names (the model's metadata, or one column an
    /// input) and the tensors' input names.
    fn name_components(&mut self, feature_names: Option<Vec<String>>) {
        let names = self.feature_titles(feature_names);
        let mut taken: Vec<String> = Vec::new();
        let mut next = 0;
        for input in &mut self.inputs {
            let count = input.feed.components();
            input.ids = (0..count)
                .map(|_| {
                    let i = next;
                    next += 1;
                    let name = match input.feed {
                        Feed::Tensor { .. } => Some(input.name.as_str()),
                        Feed::Features { .. } => {
                            names.as_ref().and_then(|n| n.get(i)).map(String::as_str)
                        }
                    };
                    let mut id = name.map_or_else(|| format!("x{i}"), |n| component_id(n, i));
                    // Names that collide once made into ids fall back to their position.
                    if taken.contains(&id) {
                        id = format!("x{i}");
                    }
                    taken.push(id.clone());
                    id
                })
                .collect();
        }
    }

    /// The names of the features, in order: the metadata's, when they are one per feature,
    /// else the inputs' own when each input is one column; tensors count as one each.
    fn feature_titles(&self, feature_names: Option<Vec<String>>) -> Option<Vec<String>> {
        let slots: Vec<(usize, &Input)> = self
            .inputs
            .iter()
            .map(|i| (i.feed.components(), i))
            .collect();
        let total: usize = slots.iter().map(|(w, _)| w).sum();
        let features: usize = slots
            .iter()
            .filter(|(_, i)| matches!(i.feed, Feed::Features { .. }))
            .map(|(w, _)| w)
            .sum();
        if let Some(names) = feature_names
            && names.len() == features
            && features == total
        {
            return Some(names);
        }
        slots
            .iter()
            .all(|(w, _)| *w == 1)
            .then(|| slots.iter().map(|(_, i)| i.name.clone()).collect())
    }

    /// The developer's components, checked against what each input takes.
    fn take_components(&mut self, init: &[Value]) -> Result<(), String> {
        let expected = self.init(None);
        // A tensor's component may fix a size the graph leaves open (an image's height).
        let narrows = |c: &Value, e: &Value| {
            let (Some(c), Some(e)) = (c.as_array(), e.as_array()) else {
                return false;
            };
            c.len() == e.len() && c.iter().zip(e).all(|(c, e)| e == -1 || c == e)
        };
        let fits = init.len() == expected.len()
            && init.iter().zip(&expected).all(|(c, e)| {
                c["type"] == e["type"]
                    && (e["type"] != "Tensor.In"
                        || (c["dtype"] == e["dtype"] && narrows(&c["shape"], &e["shape"])))
            });
        if !fits {
            return Err(format!(
                "the model's inputs take {} components: give {} in init ({}), or none",
                expected.len(),
                expected.len(),
                expected
                    .iter()
                    .map(|e| match e["type"].as_str() {
                        Some("Tensor.In") => format!("Tensor.In of {} {}", e["dtype"], e["shape"]),
                        other => other.unwrap_or_default().to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut ids = init
            .iter()
            .map(|c| c["id"].as_str().unwrap_or_default().to_owned());
        for input in &mut self.inputs {
            let count = input.feed.components();
            input.ids = ids.by_ref().take(count).collect();
        }
        Ok(())
    }

    /// The init components derived from the signature: a `Number.In` (whole numbers for an
    /// integer input) or a `Text.In` per feature, titled with its name, or a `Tensor.In`.
    pub fn init(&self, feature_names: Option<&[String]>) -> Vec<Value> {
        let titles = self.feature_titles(feature_names.map(<[String]>::to_vec));
        let mut out = Vec::new();
        let mut i = 0;
        for input in &self.inputs {
            let count = input.feed.components();
            for k in 0..count {
                let id = input.ids.get(k).cloned().unwrap_or_else(|| format!("x{i}"));
                let title = titles
                    .as_ref()
                    .and_then(|n| n.get(i))
                    .cloned()
                    .unwrap_or_else(|| format!("feature {i}"));
                out.push(match (&input.feed, input.dtype) {
                    (Feed::Tensor { item, .. }, dtype) => json!({
                        "id": id, "type": "Tensor.In", "title": input.name,
                        "dtype": dtype.as_str(), "shape": item,
                    }),
                    (_, Dtype::String) => json!({"id": id, "type": "Text.In", "title": title}),
                    (_, Dtype::Int32 | Dtype::Int64) => {
                        json!({"id": id, "type": "Number.In", "title": title, "integer": true})
                    }
                    _ => json!({"id": id, "type": "Number.In", "title": title}),
                });
                i += 1;
            }
        }
        out
    }

    /// One request's values for each input, from its values by component id.
    pub fn row(&self, inputs: &Map<String, Value>) -> Result<Vec<Part>, String> {
        self.inputs
            .iter()
            .map(|input| match &input.feed {
                Feed::Features { width, rank } => {
                    let cells = input
                        .ids
                        .iter()
                        .map(|id| {
                            let v = inputs.get(id);
                            let ok = match input.dtype {
                                Dtype::String => v.is_some_and(Value::is_string),
                                _ => v.is_some_and(Value::is_number),
                            };
                            match v {
                                Some(v) if ok => Ok(v.clone()),
                                _ => Err(format!(
                                    "the input {id:?} is not a {}",
                                    if input.dtype == Dtype::String {
                                        "text"
                                    } else {
                                        "number"
                                    }
                                )),
                            }
                        })
                        .collect::<Result<_, _>>()?;
                    let dims = if *rank == 1 { vec![] } else { vec![*width] };
                    Ok(Part { cells, dims })
                }
                Feed::Tensor { item, .. } => {
                    let id = input.ids.first().map(String::as_str).unwrap_or_default();
                    let v = inputs
                        .get(id)
                        .ok_or_else(|| format!("the input {id:?} is missing"))?;
                    let (dims, cells) = flatten(v);
                    let fits = dims.len() == item.len()
                        && dims
                            .iter()
                            .zip(item)
                            .all(|(d, want)| *want < 0 || d == want)
                        && dims.iter().product::<i64>() as usize == cells.len();
                    if !fits {
                        return Err(format!(
                            "the input {id:?} has the shape {dims:?}; it takes {item:?}"
                        ));
                    }
                    Ok(Part {
                        cells,
                        dims: dims.into_iter().map(|d| d as usize).collect(),
                    })
                }
            })
            .collect()
    }
}

/// A label tensor of one dimension beside probabilities per class: a classifier, as skl2onnx
/// and most converters write one.
/// A graph of one float output holding one number a row.
fn number(sig: &Signature) -> Option<Outputs> {
    let [o] = sig.outputs.as_slice() else {
        return None;
    };
    let one_a_row = match o.shape.as_deref() {
        Some([b]) | Some([b, 1]) => *b < 1,
        _ => false,
    };
    (o.is_tensor() && matches!(o.ty.as_str(), "float32" | "float64") && one_a_row)
        .then(|| Outputs::Number(o.name.clone()))
}

fn classifier(sig: &Signature, labels: Option<Vec<String>>) -> Option<Outputs> {
    let label = sig.outputs.iter().find(|o| {
        o.is_tensor()
            && matches!(o.ty.as_str(), "int64" | "int32" | "string")
            && o.shape.as_ref().is_some_and(|s| s.len() == 1)
    });
    let Some(label) = label else {
        // Probabilities alone, `[batch, classes]`, are a classifier once its classes are named.
        let labels = labels?;
        let [p] = sig.outputs.as_slice() else {
            return None;
        };
        let fits = p.is_tensor()
            && matches!(p.ty.as_str(), "float32" | "float64")
            && p.shape
                .as_ref()
                .is_some_and(|s| s.len() == 2 && (s[1] < 1 || s[1] as usize == labels.len()));
        return fits.then(|| Outputs::Classifier {
            label: None,
            probabilities: Some(p.name.clone()),
            labels: Some(labels),
        });
    };
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
        label: Some(label.name.clone()),
        probabilities: probabilities.map(|p| p.name.clone()),
        labels,
    })
}
