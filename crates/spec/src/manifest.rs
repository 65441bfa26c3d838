//! The manifest: a model's name, texts, runtime, init components, steps and provenance.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::components::{Component, Props, type_matches};
use crate::file_ref::{FileRef, FileSource, guess_type, is_relative_path};
use crate::problem::{Problems, join};
use crate::read::{Ctx, Obj, boolean, kind, list, nonempty, string, uint};

/// The `schema` value of a version 1 manifest.
pub const SCHEMA_V1: &str = "feather.manifest/v1";

/// A model's metadata as the SDK writes it and the server stores it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Manifest {
    /// Always `feather.manifest/v1`.
    pub schema: String,
    /// The model's name: a slug, unique within its owner.
    pub name: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub tags: Vec<String>,
    pub runtime: Runtime,
    /// The inputs of the first step.
    pub init: Vec<Component>,
    pub steps: Vec<Step>,
    /// What the model asks of the runner; absent fields take the operator's defaults.
    #[serde(skip_serializing_if = "Limits::is_empty")]
    #[schema(required = false)]
    pub limits: Limits,
    /// Values for step 1's inputs that show what the model takes, by component id: a page
    /// offers them to fill the form with. Left out of the canonical form when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub examples: Vec<Map<String, Value>>,
    /// Present when the version was deployed from a framework's object: what that was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub model: Option<crate::model::ModelInfo>,
    pub provenance: Provenance,
}

/// The most examples a manifest may give.
pub const MAX_EXAMPLES: usize = 16;

/// Per-model limits, each within the operator's caps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Limits {
    /// Seconds a step may run before its worker is stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_timeout: Option<u32>,
    /// MiB of address space a worker may use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    /// Files a worker may hold open at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_files: Option<u32>,
    /// MiB of the largest file a worker may write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size_mb: Option<u32>,
    /// Processes and threads a worker may run at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<u32>,
    /// MiB its scratch folder (`TMPDIR`) may hold in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratch_mb: Option<u32>,
    /// Seconds of CPU a step may use, all its threads counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<u32>,
    /// MiB a step's answer (its outputs, files included) may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_mb: Option<u32>,
}

impl Limits {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// How a version executes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Runtime {
    /// The model's own Python code, run in worker processes.
    Python {
        /// `3.N`.
        python: String,
        /// The app file, relative to the bundle's root.
        entry: String,
        /// pip requirement lines.
        requirements: Vec<String>,
    },
    /// A model in the ONNX format, run by ONNX Runtime inside the server: no Python.
    Onnx(crate::onnx::OnnxRuntime),
}

/// One function of the model.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Step {
    /// The Python function's name.
    pub name: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    /// Present when the function takes a list per input and returns a list of results, so
    /// that queued requests are answered by one call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
}

/// How a batching step is called.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Batch {
    /// The most requests in one call.
    pub max_size: u32,
}

/// The longest a model may ask a step to run: one day.
pub const MAX_STEP_TIMEOUT: u64 = 86_400;

/// Where a version came from, captured by the SDK at build time.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Provenance {
    /// The SDK's version.
    pub sdk: String,
    /// The full Python version that built the bundle; none for a model no Python made (an
    /// ONNX file published as it is).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub python: Option<String>,
    /// `sys.platform` and machine, such as `linux-x86_64`.
    pub platform: String,
    /// Installed versions of the required packages.
    pub packages: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<Git>,
}

/// The state of the git work tree the bundle came from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Git {
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Uncommitted changes were present.
    pub dirty: bool,
}

/// A model name or tag: 1 to `max` of `a-z 0-9 - _ .`, starting and ending with a letter or digit.
pub fn is_slug(s: &str, max: usize) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    s.len() <= max
        && edge(s.chars().next())
        && edge(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// A step name: a Python identifier in lowercase, at most 64 characters.
pub fn is_step_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn slug(max: usize) -> impl Fn(&mut Ctx, &Value, &str) -> Option<String> {
    move |ctx, v, path| {
        let s = string(max)(ctx, v, path)?;
        if !is_slug(&s, max) {
            ctx.add(
                path,
                format!(
                    "must be 1 to {max} of a-z 0-9 - _ . starting and ending with a letter or digit"
                ),
            );
        }
        Some(s)
    }
}

impl Manifest {
    /// Parses and validates a manifest from untrusted JSON, reporting every problem.
    pub fn parse(v: &Value) -> Result<Self, Problems> {
        let mut ctx = Ctx::default();
        let m = Self::read(&mut ctx, v);
        match m {
            Some(m) if ctx.problems.is_empty() => Ok(m),
            _ => Err(Problems(ctx.problems)),
        }
    }

    fn read(ctx: &mut Ctx, v: &Value) -> Option<Self> {
        let mut o = Obj::new(ctx, v, "")?;
        let schema = o.req(ctx, "schema", string(64));
        if schema.as_deref().is_some_and(|s| s != SCHEMA_V1) {
            ctx.add("/schema", format!("must be {SCHEMA_V1:?}"));
        }
        let name = o.req(ctx, "name", slug(64));
        let title = o.opt(ctx, "title", nonempty(200));
        let description = o
            .opt(ctx, "description", string(65_536))
            .unwrap_or_default();
        let tags = o.opt(ctx, "tags", list(0, 20, slug(32)));
        if let Some(t) = &tags {
            crate::read::unique(ctx, "/tags", t, "tag");
        }
        let runtime = o.req(ctx, "runtime", Runtime::read);
        let init = o.opt(ctx, "init", list(0, 64, Component::read));
        // Repeats are found on the raw ids so that they are reported even when another
        // component of the list has problems of its own.
        repeats(ctx, v, "init", "id", "component id");
        let steps = o.req(ctx, "steps", list(1, 32, Step::read));
        repeats(ctx, v, "steps", "name", "step name");
        // On the raw steps too, so that it is reported beside a step's own problems.
        if let Some(raw) = v.get("steps").and_then(Value::as_array)
            && raw.len() > 1
        {
            for (i, s) in raw.iter().enumerate() {
                if s.get("batch").is_some() {
                    ctx.add(
                        format!("/steps/{i}/batch"),
                        "only a model of one step can batch: later steps carry each run's state",
                    );
                }
            }
        }
        if let Some(Runtime::Onnx(_)) = &runtime
            && let Some(raw) = v.get("steps").and_then(Value::as_array)
        {
            if raw.len() != 1 {
                ctx.add("/steps", "a model in the ONNX format has one step");
            }
            if raw.iter().any(|s| s.get("batch").is_some()) {
                ctx.add(
                    "/steps/0/batch",
                    "the server batches a model in the ONNX format itself",
                );
            }
        }
        let limits = o.opt(ctx, "limits", Limits::read);
        let examples = o.opt(ctx, "examples", list(0, MAX_EXAMPLES, example));
        let model = o.opt(ctx, "model", crate::model::ModelInfo::read);
        let provenance = o.req(ctx, "provenance", Provenance::read);
        o.finish(ctx);
        if let (Some(examples), Some(init)) = (&examples, &init)
            && !(init.is_empty() && matches!(runtime, Some(Runtime::Onnx(_))))
        {
            // An ONNX model's fields may come from its graph: its examples are checked once
            // the server has derived them.
            check_examples(ctx, examples, init);
        }
        if let (Some(m), Some(file)) = (&model, v.pointer("/model/file"))
            && let (Some(Runtime::Onnx(rt)), Some(file)) = (&runtime, file.as_str())
            && m.format == "onnx"
            && rt.file != file
        {
            ctx.add(
                "/model/file",
                "a model served in the ONNX format names the runtime's file",
            );
        }
        let name = name?;
        Some(Self {
            schema: schema?,
            title: title.unwrap_or_else(|| name.clone()),
            name,
            description,
            tags: tags.unwrap_or_default(),
            runtime: runtime?,
            init: init.unwrap_or_default(),
            steps: steps?,
            limits: limits.unwrap_or_default(),
            examples: examples.unwrap_or_default(),
            model,
            provenance: provenance?,
        })
    }

    /// Every file of the bundle the manifest names, with where it names it: images its
    /// components show, files its examples give. A publish checks that each is in the bundle.
    pub fn bundle_paths(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (i, c) in self.init.iter().enumerate() {
            if let Some((field, refs)) = c.props.file_refs() {
                for (n, f) in refs.iter().enumerate() {
                    if let FileSource::Path(p) = &f.source {
                        out.push((format!("/init/{i}/{field}/{n}/path"), p.as_str()));
                    }
                }
            }
        }
        for (i, example) in self.examples.iter().enumerate() {
            for (id, v) in example {
                let file_input = self
                    .init
                    .iter()
                    .any(|c| &c.id == id && example_files(&c.props).is_some());
                if !file_input {
                    continue;
                }
                for (pointer, r) in each_file(v, &join(&format!("/examples/{i}"), id)) {
                    if let Some(p) = r.get("path").and_then(Value::as_str) {
                        out.push((format!("{pointer}/path"), p));
                    }
                }
            }
        }
        out
    }

    /// The canonical JSON: every default filled in. This is what the registry stores.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a manifest always serialises")
    }
}

/// One example: an object of values by component id.
fn example(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m.clone()),
        other => {
            ctx.add(
                path,
                format!(
                    "must be an object of values by component id, not {}",
                    kind(other)
                ),
            );
            None
        }
    }
}

/// Each example answers step 1's inputs, as a request would: a page fills its form with it.
/// A file input's example names files of the bundle, by path, so that the version carries
/// them; an example may leave a file input out (the person then picks one).
fn check_examples(ctx: &mut Ctx, examples: &[Map<String, Value>], init: &[Component]) {
    for (i, example) in examples.iter().enumerate() {
        let at = |id: &str| join(&format!("/examples/{i}"), id);
        for key in example.keys() {
            match init.iter().find(|c| &c.id == key) {
                None => ctx.add(at(key), "is not the id of one of step 1's inputs"),
                Some(c) if !c.is_input() => {
                    ctx.add(at(key), "is the id of a component that takes no value")
                }
                Some(c) if c.props.takes_files() && example_files(&c.props).is_none() => ctx.add(
                    at(key),
                    "names a component that shows files of its own: examples give it no value",
                ),
                Some(_) => {}
            }
        }
        for c in init.iter().filter(|c| c.is_input()) {
            let value = example.get(&c.id);
            let Some(types) = example_files(&c.props) else {
                if !c.props.takes_files() {
                    for p in c.check_value(value) {
                        ctx.add(format!("{}{}", at(&c.id), p.path), p.reason);
                    }
                }
                continue;
            };
            let Some(value) = value else { continue };
            let problems = c.check_value(Some(value));
            let clean = problems.is_empty();
            for p in problems {
                ctx.add(format!("{}{}", at(&c.id), p.path), p.reason);
            }
            if clean {
                check_example_files(ctx, types, value, &at(&c.id));
            }
        }
    }
}

/// The file references of a file input's value (one, or a list), each with its pointer.
fn each_file<'a>(value: &'a Value, at: &str) -> Vec<(String, &'a Value)> {
    match value {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(n, v)| (join(at, n.to_string()), v))
            .collect(),
        one => vec![(at.to_owned(), one)],
    }
}

/// The types a file input accepts, when an example may give it files.
fn example_files(props: &Props) -> Option<&[String]> {
    match props {
        Props::FileUpload(p) => Some(&p.types),
        Props::ImageUpload(p) => Some(&p.types),
        _ => None,
    }
}

/// Each file of a (well-formed) example value is a file of the bundle whose name the input
/// accepts: an id or a `data:` URL would not travel with the version.
fn check_example_files(ctx: &mut Ctx, types: &[String], value: &Value, at: &str) {
    for (path, v) in each_file(value, at) {
        let Ok(mut f) = FileRef::parse(v) else {
            continue;
        };
        let FileSource::Path(p) = &f.source else {
            ctx.add(
                path,
                "must name a file of the bundle by its path: an example travels with the version",
            );
            continue;
        };
        let name = f
            .name
            .clone()
            .or_else(|| p.rsplit('/').next().map(str::to_owned));
        f.mime = f.mime.or_else(|| Some(guess_type(name.as_deref())));
        f.name = name;
        if !type_matches(types, &f) {
            ctx.add(path, format!("must be of type {}", types.join(", ")));
        }
    }
}

/// Records each item of the array `v[list]` whose `key` repeats an earlier item's.
fn repeats(ctx: &mut Ctx, v: &Value, list: &str, key: &str, what: &str) {
    let Some(items) = v.get(list).and_then(Value::as_array) else {
        return;
    };
    let keys: Vec<Option<&str>> = items
        .iter()
        .map(|c| c.get(key).and_then(Value::as_str))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k
            && keys[..i].contains(&Some(k))
        {
            ctx.add(
                format!("/{list}/{i}/{key}"),
                format!("repeats {what} {k:?}"),
            );
        }
    }
}

impl Runtime {
    /// The bundle's file this runtime starts from (the app file, or the model), and the
    /// manifest field that names it.
    pub fn entry(&self) -> (&str, &'static str) {
        match self {
            Self::Python { entry, .. } => (entry, "/runtime/entry"),
            Self::Onnx(o) => (&o.file, "/runtime/file"),
        }
    }

    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let kind = o.req(ctx, "kind", string(32));
        match kind.as_deref() {
            Some("python") => Self::read_python(ctx, o, path),
            Some("onnx") => {
                let onnx = crate::onnx::OnnxRuntime::read(ctx, &mut o, path);
                o.finish(ctx);
                Some(Self::Onnx(onnx?))
            }
            Some(_) => {
                ctx.add(join(path, "kind"), "must be \"python\" or \"onnx\"");
                None
            }
            None => None,
        }
    }

    fn read_python(ctx: &mut Ctx, mut o: Obj, path: &str) -> Option<Self> {
        let python = o.req(ctx, "python", string(16));
        if let Some(p) = &python
            && !p.strip_prefix("3.").is_some_and(|m| {
                !m.is_empty() && m.len() <= 3 && m.bytes().all(|b| b.is_ascii_digit())
            })
        {
            ctx.add(
                join(path, "python"),
                "must be a Python version such as \"3.11\"",
            );
        }
        let entry = o.req(ctx, "entry", string(1024));
        if let Some(e) = &entry
            && !(is_relative_path(e) && e.ends_with(".py"))
        {
            ctx.add(
                join(path, "entry"),
                "must be a relative path to a .py file inside the bundle",
            );
        }
        let requirements = o.opt(
            ctx,
            "requirements",
            list(0, 200, |ctx: &mut Ctx, v: &Value, p: &str| {
                let r = nonempty(crate::requirement::MAX_LEN)(ctx, v, p)?;
                match crate::requirement::check(&r) {
                    Ok(()) => Some(r),
                    Err(reason) => {
                        ctx.add(p, reason);
                        None
                    }
                }
            }),
        );
        o.finish(ctx);
        Some(Self::Python {
            python: python?,
            entry: entry?,
            requirements: requirements.unwrap_or_default(),
        })
    }
}

impl Step {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let name = o.req(ctx, "name", string(64));
        if let Some(n) = &name
            && !is_step_name(n)
        {
            ctx.add(
                join(path, "name"),
                "must be a Python function name: a-z 0-9 _, not starting with a digit",
            );
        }
        let title = o.opt(ctx, "title", nonempty(200));
        let description = o
            .opt(ctx, "description", string(65_536))
            .unwrap_or_default();
        let batch = o.opt(ctx, "batch", |ctx: &mut Ctx, v: &Value, p: &str| {
            let mut b = Obj::new(ctx, v, p)?;
            let max_size = b.req(ctx, "max_size", uint(1, 1024));
            b.finish(ctx);
            Some(Batch {
                max_size: max_size? as u32,
            })
        });
        o.finish(ctx);
        let name = name?;
        Some(Self {
            title: title.unwrap_or_else(|| name.clone()),
            name,
            description,
            batch,
        })
    }
}

impl Limits {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let mut get = |key: &str, lo: u64, hi: u64| o.opt(ctx, key, uint(lo, hi)).map(|n| n as u32);
        let step_timeout = get("step_timeout", 1, MAX_STEP_TIMEOUT);
        let memory_mb = get("memory_mb", 64, 1 << 20);
        let open_files = get("open_files", 16, 1 << 20);
        let file_size_mb = get("file_size_mb", 1, 1 << 20);
        let processes = get("processes", 8, 1 << 16);
        let scratch_mb = get("scratch_mb", 1, 1 << 20);
        let cpu_seconds = get("cpu_seconds", 1, MAX_STEP_TIMEOUT);
        let output_mb = get("output_mb", 1, 4095);
        o.finish(ctx);
        Some(Self {
            step_timeout,
            memory_mb,
            open_files,
            file_size_mb,
            processes,
            scratch_mb,
            cpu_seconds,
            output_mb,
        })
    }
}

impl Provenance {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let sdk = o.req(ctx, "sdk", nonempty(64));
        let python = o.opt(ctx, "python", nonempty(64));
        let platform = o.req(ctx, "platform", nonempty(128));
        let packages = o.opt(ctx, "packages", |ctx: &mut Ctx, v: &Value, p: &str| {
            let mut po = Obj::new(ctx, v, p)?;
            let keys: Vec<String> = match v {
                Value::Object(m) => m.keys().cloned().collect(),
                _ => Vec::new(),
            };
            let out: BTreeMap<String, String> = keys
                .into_iter()
                .filter_map(|k| Some((k.clone(), po.req(ctx, &k, nonempty(128))?)))
                .collect();
            po.finish(ctx);
            Some(out)
        });
        let git = o.opt(ctx, "git", |ctx: &mut Ctx, v: &Value, p: &str| {
            let mut g = Obj::new(ctx, v, p)?;
            let commit = g.req(ctx, "commit", nonempty(64));
            let branch = g.opt(ctx, "branch", nonempty(255));
            let dirty = g.req(ctx, "dirty", boolean);
            g.finish(ctx);
            Some(Git {
                commit: commit?,
                branch,
                dirty: dirty?,
            })
        });
        o.finish(ctx);
        Some(Self {
            sdk: sdk?,
            python,
            platform: platform?,
            packages: packages.unwrap_or_default(),
            git,
        })
    }
}
