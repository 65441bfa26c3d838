//! A model seen as tensors in and tensors out, for clients that speak tensors (the Open
//! Inference Protocol): which of a version's inputs and outputs a tensor can carry, and one
//! call of many rows answered by one prediction per row through [`super::predict`], so that
//! the rules (who may run it, checked inputs, the engine's batching) are the same as for any
//! caller.
//!
//! An ONNX version's tensors are its graph's: its inputs (`[batch, features]`, or a column
//! each), the label, and
//! the probabilities as `[batch, classes]` in the order of the model's labels. A Python
//! version's are its components: a number, a checkbox or a line of text per input (`[batch]`
//! each), and per output a `Label`'s class or a text view's text (`BYTES`), or a number view's
//! value (`FP64`).

use std::sync::Arc;

use feather_spec::components::nest;
use feather_spec::{Component, Props, Runtime};
use feather_store::Viewer;
use serde_json::{Map, Value};

use super::cache::Target;
use super::{StepRequest, resolve};
use crate::{Actor, Result, Service, ServiceError};

/// The element types a tensor of a call may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp32,
    Fp64,
    Bytes,
}

impl DataType {
    pub const ALL: [Self; 12] = [
        Self::Bool,
        Self::Uint8,
        Self::Uint16,
        Self::Uint32,
        Self::Uint64,
        Self::Int8,
        Self::Int16,
        Self::Int32,
        Self::Int64,
        Self::Fp32,
        Self::Fp64,
        Self::Bytes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "BOOL",
            Self::Uint8 => "UINT8",
            Self::Uint16 => "UINT16",
            Self::Uint32 => "UINT32",
            Self::Uint64 => "UINT64",
            Self::Int8 => "INT8",
            Self::Int16 => "INT16",
            Self::Int32 => "INT32",
            Self::Int64 => "INT64",
            Self::Fp32 => "FP32",
            Self::Fp64 => "FP64",
            Self::Bytes => "BYTES",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether its elements are whole numbers.
    pub fn is_integer(self) -> bool {
        !matches!(self, Self::Bool | Self::Fp32 | Self::Fp64 | Self::Bytes)
    }

    fn numeric(self) -> bool {
        self.is_integer() || matches!(self, Self::Fp32 | Self::Fp64)
    }

    /// The size of one element in bytes; none for text.
    pub fn width(self) -> Option<usize> {
        Some(match self {
            Self::Bool | Self::Uint8 | Self::Int8 => 1,
            Self::Uint16 | Self::Int16 => 2,
            Self::Uint32 | Self::Int32 | Self::Fp32 => 4,
            Self::Uint64 | Self::Int64 | Self::Fp64 => 8,
            Self::Bytes => return None,
        })
    }

    fn of_element(ty: &str) -> Option<Self> {
        Some(match ty {
            "float32" | "float16" | "bfloat16" => Self::Fp32,
            "float64" => Self::Fp64,
            "int8" => Self::Int8,
            "int16" => Self::Int16,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "uint8" => Self::Uint8,
            "uint16" => Self::Uint16,
            "uint32" => Self::Uint32,
            "uint64" => Self::Uint64,
            "bool" => Self::Bool,
            "string" => Self::Bytes,
            _ => return None,
        })
    }
}

/// A tensor's name, type and shape (-1: any size).
#[derive(Debug, Clone)]
pub struct TensorMeta {
    pub name: String,
    pub datatype: DataType,
    pub shape: Vec<i64>,
}

/// A tensor's values, flat in row-major order.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub name: String,
    pub datatype: DataType,
    pub shape: Vec<i64>,
    pub data: Vec<Value>,
}

/// A version as tensors.
#[derive(Debug, Clone)]
pub struct Signature {
    /// `onnxruntime_onnx` or `feather_python`.
    pub platform: &'static str,
    pub inputs: Vec<TensorMeta>,
    pub outputs: Vec<TensorMeta>,
}

/// How one input tensor feeds the components of a row.
enum Feed {
    /// Each element of a row is one component (an ONNX model's features).
    Features(Vec<String>),
    /// The tensor is one component, one element a row.
    One(String),
    /// Each item of the tensor (all of it, when `batched` is false) is one component's value.
    Tensor { id: String, batched: bool },
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request(message)
}

fn signature_of(t: &Target) -> Result<(Signature, Vec<(String, Feed)>)> {
    match &t.manifest.runtime {
        Runtime::Onnx(rt) => {
            let sig = rt
                .signature
                .as_ref()
                .ok_or_else(|| ServiceError::internal("an ONNX version without its signature"))?;
            // Each graph input takes the next of the init components, as many as its width.
            let mut inputs = Vec::new();
            let mut feeds = Vec::new();
            let mut init = t.manifest.init.iter().peekable();
            for input in &sig.inputs {
                let mut shape = input.shape.clone().unwrap_or_default();
                let datatype = DataType::of_element(&input.ty).unwrap_or(DataType::Fp32);
                // The plan gave a tensor input one Tensor.In, of the item's shape or the whole,
                // whose sizes may be narrower than the graph's.
                if let Some(Props::TensorIn(c)) = init.peek().map(|c| &c.props) {
                    let batched = shape.len() == c.shape.len() + 1;
                    let start = usize::from(batched);
                    shape.truncate(start);
                    shape.extend(&c.shape);
                    inputs.push(TensorMeta {
                        name: input.name.clone(),
                        datatype,
                        shape,
                    });
                    let id = init.next().map(|c| c.id.clone()).unwrap_or_default();
                    feeds.push((input.name.clone(), Feed::Tensor { id, batched }));
                    continue;
                }
                inputs.push(TensorMeta {
                    name: input.name.clone(),
                    datatype,
                    shape: shape.clone(),
                });
                let width = shape.get(1).copied().unwrap_or(1).max(1) as usize;
                let mine: Vec<String> = init.by_ref().take(width).map(|c| c.id.clone()).collect();
                feeds.push((input.name.clone(), Feed::Features(mine)));
            }
            let outputs = sig
                .outputs
                .iter()
                .map(|o| match o.map_types() {
                    Some(_) => TensorMeta {
                        name: o.name.clone(),
                        datatype: DataType::Fp32,
                        shape: vec![-1, rt.labels.as_ref().map_or(-1, |l| l.len() as i64)],
                    },
                    None if rt.labels.is_some()
                        && o.shape.as_ref().is_some_and(|s| s.len() == 1)
                        && o.ty == "int64" =>
                    {
                        TensorMeta {
                            name: o.name.clone(),
                            datatype: DataType::Bytes,
                            shape: vec![-1],
                        }
                    }
                    None => TensorMeta {
                        name: o.name.clone(),
                        datatype: DataType::of_element(&o.ty).unwrap_or(DataType::Fp32),
                        shape: o.shape.clone().unwrap_or_default(),
                    },
                })
                .collect();
            Ok((
                Signature {
                    platform: "onnxruntime_onnx",
                    inputs,
                    outputs,
                },
                feeds,
            ))
        }
        Runtime::Python { .. } => {
            if t.manifest.steps.len() != 1 {
                return Err(bad(format!(
                    "{} has {} steps; a tensor call answers a model of one step",
                    t.key(),
                    t.manifest.steps.len()
                )));
            }
            let mut inputs = Vec::new();
            let mut feeds = Vec::new();
            for c in t.manifest.init.iter().filter(|c| c.is_input()) {
                // A tensor field takes one item of a batch, as the ONNX engine's do.
                if let Props::TensorIn(tensor) = &c.props {
                    inputs.push(TensorMeta {
                        name: c.id.clone(),
                        datatype: DataType::of_element(tensor.dtype.as_str())
                            .unwrap_or(DataType::Fp32),
                        shape: [&[-1][..], &tensor.shape].concat(),
                    });
                    let id = c.id.clone();
                    feeds.push((id.clone(), Feed::Tensor { id, batched: true }));
                    continue;
                }
                let datatype = match &c.props {
                    Props::NumberIn(n) if n.integer => DataType::Int64,
                    Props::NumberIn(_) | Props::Slider(_) => DataType::Fp64,
                    Props::Checkbox(_) => DataType::Bool,
                    Props::TextIn(t) if t.num_inputs == 1 => DataType::Bytes,
                    _ => {
                        let ty = serde_json::to_value(c)
                            .ok()
                            .and_then(|v| v["type"].as_str().map(str::to_owned));
                        return Err(bad(format!(
                            "the input {:?} ({}) is not one a tensor can carry; call the model with the REST API",
                            c.id,
                            ty.unwrap_or_default()
                        )));
                    }
                };
                inputs.push(TensorMeta {
                    name: c.id.clone(),
                    datatype,
                    shape: vec![-1],
                });
                feeds.push((c.id.clone(), Feed::One(c.id.clone())));
            }
            Ok((
                Signature {
                    platform: "feather_python",
                    inputs,
                    // What a Python step returns is known once it has run.
                    outputs: Vec::new(),
                },
                feeds,
            ))
        }
    }
}

/// A version's tensors, for a viewer who may see it.
pub async fn metadata(
    s: &Service,
    owner: &str,
    name: &str,
    viewer: &Viewer,
) -> Result<(Arc<Target>, Signature)> {
    let t = resolve(s, owner, name, viewer).await?;
    let (sig, _) = signature_of(&t)?;
    Ok((t, sig))
}

/// Whether a version would run a call now (its environment or runtime ready).
pub async fn ready(s: &Service, owner: &str, name: &str, viewer: &Viewer) -> Result<bool> {
    let t = resolve(s, owner, name, viewer).await?;
    Ok(matches!(
        s.runner.readiness(&t.manifest).1,
        feather_runner::env::EnvStatus::Ready
    ))
}

/// One call of `batch` rows: each row predicted as one request, the answers stacked into the
/// output tensors (all of them, or those `wanted` names).
pub async fn infer(
    s: &Service,
    owner: &str,
    name: &str,
    actor: Option<&Actor>,
    inputs: Vec<Tensor>,
    wanted: Option<Vec<String>>,
) -> Result<(Arc<Target>, Vec<Tensor>)> {
    let viewer = actor.map(Actor::viewer).unwrap_or_default();
    let t = resolve(s, owner, name, &viewer).await?;
    let (sig, feeds) = signature_of(&t)?;
    let rows = rows(&sig, &feeds, &inputs)?;
    let calls = rows.into_iter().map(|row| {
        let req = StepRequest {
            inputs: Value::Object(row),
            ..StepRequest::default()
        };
        async move { super::predict(s, owner, name, &req, actor, false).await }
    });
    let answers = futures::future::try_join_all(calls).await?;
    let outputs: Vec<Vec<Value>> = answers.into_iter().map(|p| p.outputs).collect();
    let tensors = stack(&t, &sig, &outputs)?;
    let tensors = match wanted {
        None => tensors,
        Some(names) => {
            if let Some(n) = names
                .iter()
                .find(|n| !tensors.iter().any(|t| &t.name == *n))
            {
                return Err(bad(format!("the model has no output {n:?}")));
            }
            tensors
                .into_iter()
                .filter(|t| names.contains(&t.name))
                .collect()
        }
    };
    Ok((t, tensors))
}

/// The rows of a call: component id to value, one map a row.
fn rows(
    sig: &Signature,
    feeds: &[(String, Feed)],
    inputs: &[Tensor],
) -> Result<Vec<Map<String, Value>>> {
    if let Some(extra) = inputs
        .iter()
        .find(|i| !feeds.iter().any(|(n, _)| *n == i.name))
    {
        return Err(bad(format!("the model has no input {:?}", extra.name)));
    }
    let mut batch: Option<usize> = None;
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    for (meta, (name, feed)) in sig.inputs.iter().zip(feeds) {
        let Some(t) = inputs.iter().find(|i| &i.name == name) else {
            return Err(bad(format!("the input {name:?} is missing")));
        };
        let ok_type =
            t.datatype == meta.datatype || (t.datatype.numeric() && meta.datatype.numeric());
        if !ok_type {
            return Err(bad(format!(
                "the input {name:?} is {}, not {}",
                t.datatype.as_str(),
                meta.datatype.as_str()
            )));
        }
        let count: i64 = t.shape.iter().product();
        if t.shape.iter().any(|d| *d < 0) || count as usize != t.data.len() {
            return Err(bad(format!(
                "the input {name:?} has the shape {:?} but {} values",
                t.shape,
                t.data.len()
            )));
        }
        let whole = matches!(feed, Feed::Tensor { batched: false, .. });
        let n = if whole {
            1
        } else {
            t.shape.first().copied().unwrap_or(1).max(0) as usize
        };
        match batch {
            Some(b) if b != n => {
                return Err(bad(format!(
                    "the inputs' first dimensions differ ({b} and {n})"
                )));
            }
            _ => batch = Some(n),
        }
        if rows.is_empty() {
            rows = vec![Map::new(); n];
        }
        match feed {
            Feed::Features(ids) => {
                let width = ids.len();
                let fits = (t.shape.len() == 2 && t.shape[1] as usize == width)
                    || (t.shape.len() == 1 && width == 1);
                if !fits {
                    return Err(bad(format!(
                        "the input {name:?} has the shape {:?}; it takes [batch, {width}]",
                        t.shape
                    )));
                }
                for (i, row) in rows.iter_mut().enumerate() {
                    for (j, id) in ids.iter().enumerate() {
                        row.insert(id.clone(), t.data[i * width + j].clone());
                    }
                }
            }
            Feed::Tensor { id, batched } => {
                let fits = t.shape.len() == meta.shape.len()
                    && t.shape
                        .iter()
                        .zip(&meta.shape)
                        .all(|(d, m)| *m < 0 || d == m);
                if !fits {
                    return Err(bad(format!(
                        "the input {name:?} has the shape {:?}; it takes {:?} (-1: any size)",
                        t.shape, meta.shape
                    )));
                }
                let item = if *batched {
                    &t.shape[1.min(t.shape.len())..]
                } else {
                    &t.shape[..]
                };
                let size = item.iter().product::<i64>().max(0) as usize;
                for (i, row) in rows.iter_mut().enumerate() {
                    let flat = &t.data[i * size..(i + 1) * size];
                    row.insert(id.clone(), nest(flat, item));
                }
            }
            Feed::One(id) => {
                if t.shape.len() > 2 || (t.shape.len() == 2 && t.shape[1] != 1) {
                    return Err(bad(format!(
                        "the input {name:?} has the shape {:?}; it takes [batch] or [batch, 1]",
                        t.shape
                    )));
                }
                for (i, row) in rows.iter_mut().enumerate() {
                    row.insert(id.clone(), t.data[i].clone());
                }
            }
        }
    }
    if rows.is_empty() {
        return Err(bad("a call needs at least one row"));
    }
    Ok(rows)
}

/// Each row's output components, stacked into tensors.
fn stack(t: &Target, sig: &Signature, outputs: &[Vec<Value>]) -> Result<Vec<Tensor>> {
    let n = outputs.len() as i64;
    let comps = |row: &[Value]| -> Vec<Component> {
        row.iter()
            .filter_map(|o| Component::parse(o).ok())
            .collect()
    };
    let rows: Vec<Vec<Component>> = outputs.iter().map(|r| comps(r)).collect();
    let mut out = Vec::new();
    if let Runtime::Onnx(rt) = &t.manifest.runtime {
        for meta in &sig.outputs {
            let mut data = Vec::new();
            let mut shape = vec![n];
            for row in &rows {
                for c in row {
                    match &c.props {
                        Props::Label(l)
                            if meta.datatype == DataType::Bytes
                                || meta.datatype == DataType::Int64 && meta.shape.len() == 1 =>
                        {
                            let label = l.label.clone().unwrap_or_default();
                            data.push(Value::String(label));
                        }
                        Props::Label(l) => {
                            let classes: Vec<String> = match &rt.labels {
                                Some(names) => names.clone(),
                                None => l.confidences.keys().cloned().collect(),
                            };
                            shape = vec![n, classes.len() as i64];
                            for class in classes {
                                data.push(
                                    l.confidences
                                        .get(&class)
                                        .cloned()
                                        .unwrap_or(Value::from(0.0)),
                                );
                            }
                        }
                        // One number a row, shown as a number: `[batch]` or `[batch, 1]`.
                        Props::NumberView(v) => {
                            if meta.shape.len() == 2 {
                                shape = vec![n, 1];
                            }
                            data.push(Value::Number(v.value.clone()));
                        }
                        Props::JsonView(j) if c.title.as_deref() == Some(meta.name.as_str()) => {
                            let (dims, flat) = flatten(&j.data);
                            shape = std::iter::once(n).chain(dims).collect();
                            data.extend(flat);
                        }
                        _ => {}
                    }
                }
            }
            let datatype = if meta.datatype == DataType::Int64 && data.iter().any(Value::is_string)
            {
                DataType::Bytes
            } else {
                meta.datatype
            };
            out.push(Tensor {
                name: meta.name.clone(),
                datatype,
                shape,
                data,
            });
        }
        return Ok(out);
    }
    // A Python model: one tensor per output component, by id.
    let Some(first) = rows.first() else {
        return Ok(out);
    };
    for (k, c) in first.iter().enumerate() {
        let datatype = match &c.props {
            Props::Label(_) | Props::TextView(_) | Props::MarkdownView(_) => DataType::Bytes,
            Props::NumberView(_) => DataType::Fp64,
            _ => continue,
        };
        let data = rows
            .iter()
            .map(|row| match row.get(k).map(|c| &c.props) {
                Some(Props::Label(l)) => Value::String(l.label.clone().unwrap_or_else(|| {
                    l.confidences
                        .iter()
                        .max_by(|a, b| {
                            a.1.as_f64()
                                .partial_cmp(&b.1.as_f64())
                                .unwrap_or(std::cmp::Ordering::Equal)
                        })
                        .map(|(k, _)| k.clone())
                        .unwrap_or_default()
                })),
                Some(Props::TextView(v)) => Value::String(v.text.clone()),
                Some(Props::MarkdownView(v)) => Value::String(v.text.clone()),
                Some(Props::NumberView(v)) => Value::Number(v.value.clone()),
                _ => Value::Null,
            })
            .collect();
        out.push(Tensor {
            name: c.id.clone(),
            datatype,
            shape: vec![n],
            data,
        });
    }
    if let Some(p) = probabilities(t, &rows, &out) {
        out.push(p);
    }
    Ok(out)
}

/// A deployed classifier's confidences as `probabilities` (`[batch, classes]`, the classes in
/// the manifest's order), the tensor its native form answers with; none for other models.
fn probabilities(t: &Target, rows: &[Vec<Component>], taken: &[Tensor]) -> Option<Tensor> {
    let classes = t.manifest.model.as_ref()?.classes.as_ref()?;
    if taken.iter().any(|t| t.name == "probabilities") {
        return None;
    }
    let mut data = Vec::with_capacity(rows.len() * classes.len());
    for row in rows {
        let label = row.iter().find_map(|c| match &c.props {
            Props::Label(l) => Some(l),
            _ => None,
        })?;
        data.extend(classes.iter().map(|class| {
            label
                .confidences
                .get(class)
                .cloned()
                .unwrap_or(Value::from(0.0))
        }));
    }
    Some(Tensor {
        name: "probabilities".into(),
        datatype: DataType::Fp64,
        shape: vec![rows.len() as i64, classes.len() as i64],
        data,
    })
}

pub use feather_spec::components::flatten;
