//! What a version deployed from a framework's object is: the serialized model it keeps, the
//! framework that made it, its signature, and why it runs the way it does. The SDK's `deploy`
//! writes it; the server keeps it as it is, and `feather.load` reads it back.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::components::Dtype;
use crate::file_ref::is_relative_path;
use crate::problem::join;
use crate::read::{Ctx, Obj, list, nonempty, number, uint};

/// A deployed model's own description.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ModelInfo {
    /// The SDK's name for the kind of object: `sklearn`, `xgboost`, `onnx`, ...
    pub flavor: String,
    /// The package that made the object and its version where it was saved.
    pub framework: Framework,
    /// The serialized model, relative to the bundle's root.
    pub file: String,
    /// How `file` is written: `skops`, `pickle`, `onnx`, `xgboost-ubj`, ...
    pub format: String,
    pub task: Task,
    /// A classifier's classes, in the order of its class indices, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub classes: Option<Vec<String>>,
    pub signature: ModelSignature,
    pub served: Served,
}

/// A package and its version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Framework {
    pub name: String,
    pub version: String,
}

/// What a model does with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Classification,
    Regression,
    Other,
}

/// The columns a model reads and writes, in order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ModelSignature {
    pub inputs: Vec<Feature>,
    pub outputs: Vec<Feature>,
}

/// One named column of a model's signature and the type of its values.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Feature {
    pub name: String,
    #[serde(rename = "type")]
    pub dtype: Dtype,
}

/// Why the version runs on its engine (the runtime's `kind`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Served {
    /// For a person: converted and checked, or why not.
    pub reason: String,
    /// How the converted model compared with the framework's own predictions, when it was
    /// converted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parity: Option<Parity>,
}

/// A converted model's predictions against the framework's on the sample.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Parity {
    /// Sample rows compared.
    pub rows: u32,
    /// The largest difference allowed, relative to the value (absolute below 1).
    pub tolerance: f64,
    /// The largest difference found, in the same terms.
    pub max_difference: f64,
}

impl ModelInfo {
    pub(crate) fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let flavor = o.req(ctx, "flavor", nonempty(32));
        let framework = o.req(ctx, "framework", |ctx: &mut Ctx, v: &Value, p: &str| {
            let mut f = Obj::new(ctx, v, p)?;
            let name = f.req(ctx, "name", nonempty(64));
            let version = f.req(ctx, "version", nonempty(64));
            f.finish(ctx);
            Some(Framework {
                name: name?,
                version: version?,
            })
        });
        let file = o.req(ctx, "file", nonempty(1024));
        if let Some(f) = &file
            && !is_relative_path(f)
        {
            ctx.add(
                join(path, "file"),
                "must be a relative path to a file inside the bundle",
            );
        }
        let format = o.req(ctx, "format", nonempty(32));
        let task = o.req(ctx, "task", |ctx: &mut Ctx, v: &Value, p: &str| {
            match v.as_str() {
                Some("classification") => Some(Task::Classification),
                Some("regression") => Some(Task::Regression),
                Some("other") => Some(Task::Other),
                _ => {
                    ctx.add(p, "must be \"classification\", \"regression\" or \"other\"");
                    None
                }
            }
        });
        let classes = o.opt(ctx, "classes", list(1, 1024, nonempty(200)));
        if classes.is_some() && task.is_some_and(|t| t != Task::Classification) {
            ctx.add(join(path, "classes"), "only a classifier has classes");
        }
        let signature = o.req(ctx, "signature", |ctx: &mut Ctx, v: &Value, p: &str| {
            let mut s = Obj::new(ctx, v, p)?;
            let inputs = s.req(ctx, "inputs", list(1, 4096, Feature::read));
            let outputs = s.req(ctx, "outputs", list(0, 64, Feature::read));
            s.finish(ctx);
            Some(ModelSignature {
                inputs: inputs?,
                outputs: outputs?,
            })
        });
        let served = o.req(ctx, "served", Served::read);
        o.finish(ctx);
        Some(Self {
            flavor: flavor?,
            framework: framework?,
            file: file?,
            format: format?,
            task: task?,
            classes,
            signature: signature?,
            served: served?,
        })
    }
}

impl Feature {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let name = o.req(ctx, "name", nonempty(200));
        let dtype = o.req(ctx, "type", |ctx: &mut Ctx, v: &Value, p: &str| {
            let d = v.as_str().and_then(Dtype::parse);
            if d.is_none() {
                let all: Vec<&str> = Dtype::ALL.iter().map(|d| d.as_str()).collect();
                ctx.add(p, format!("must be one of {}", all.join(", ")));
            }
            d
        });
        o.finish(ctx);
        Some(Self {
            name: name?,
            dtype: dtype?,
        })
    }
}

impl Served {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let reason = o.req(ctx, "reason", nonempty(4096));
        let parity = o.opt(ctx, "parity", |ctx: &mut Ctx, v: &Value, p: &str| {
            let mut q = Obj::new(ctx, v, p)?;
            let rows = q.req(ctx, "rows", uint(1, 1 << 20));
            let share = |ctx: &mut Ctx, v: &Value, p: &str| {
                let n = crate::read::as_f64(&number(ctx, v, p)?);
                if !(0.0..=1e9).contains(&n) {
                    ctx.add(p, "must be a number from 0");
                    return None;
                }
                Some(n)
            };
            let tolerance = q.req(ctx, "tolerance", share);
            let max_difference = q.req(ctx, "max_difference", share);
            q.finish(ctx);
            Some(Parity {
                rows: rows? as u32,
                tolerance: tolerance?,
                max_difference: max_difference?,
            })
        });
        o.finish(ctx);
        Some(Self {
            reason: reason?,
            parity,
        })
    }
}
