//! Input components whose props are plain settings: text, numbers, choices, files, tables.

use serde::Serialize;
use serde_json::{Number, Value, json};
use utoipa::ToSchema;

use crate::file_ref::{FileRef, is_mime};
use crate::problem::join;
use crate::read::{Ctx, Obj, as_f64, boolean, kind, list, nonempty, number, string, uint, unique};

/// The most characters any text input may be set to accept.
pub const MAX_CHARS: u64 = 1_000_000;
/// Default upload size cap: 10 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 10 << 20;
const MAX_UPLOAD: u64 = 1 << 30;

/// One or more lines of free text.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TextIn {
    /// Text shown in the field(s) at first.
    #[schema(required = false)]
    pub default_text: String,
    /// How many text fields; above 1 the value is an array.
    #[schema(minimum = 1, maximum = 64)]
    #[schema(required = false)]
    pub num_inputs: u64,
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[schema(required = false)]
    pub max_chars: u64,
    #[schema(required = false)]
    pub placeholder: String,
    #[schema(required = false)]
    pub multiline: bool,
}

impl TextIn {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let default_text = o.opt(ctx, "default_text", string(MAX_CHARS as usize));
        let num_inputs = o.opt(ctx, "num_inputs", uint(1, 64));
        let max_chars = o.opt(ctx, "max_chars", uint(1, MAX_CHARS));
        let placeholder = o.opt(ctx, "placeholder", string(1000));
        let multiline = o.opt(ctx, "multiline", boolean);
        let t = Self {
            default_text: default_text.unwrap_or_default(),
            num_inputs: num_inputs.unwrap_or(1),
            max_chars: max_chars.unwrap_or(10_000),
            placeholder: placeholder.unwrap_or_default(),
            multiline: multiline.unwrap_or(false),
        };
        if t.default_text.chars().count() as u64 > t.max_chars {
            ctx.add(join(&o.path, "default_text"), "is longer than max_chars");
        }
        Some(t)
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let one = string(self.max_chars as usize);
        if self.num_inputs == 1 {
            one(ctx, v, path);
        } else {
            let n = self.num_inputs as usize;
            list(n, n, one)(ctx, v, path);
        }
    }

    pub(crate) fn value_schema(&self) -> Value {
        let one = json!({"type": "string", "maxLength": self.max_chars});
        if self.num_inputs == 1 {
            one
        } else {
            json!({"type": "array", "items": one,
                   "minItems": self.num_inputs, "maxItems": self.num_inputs})
        }
    }
}

/// A number typed in, optionally bounded and whole.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NumberIn {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<f64>)]
    pub min: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<f64>)]
    pub max: Option<Number>,
    /// Increment of the field's arrows; greater than 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<f64>)]
    pub step: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<f64>)]
    pub default: Option<Number>,
    /// Only whole numbers are accepted.
    #[schema(required = false)]
    pub integer: bool,
}

impl NumberIn {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let n = Self {
            min: o.opt(ctx, "min", number),
            max: o.opt(ctx, "max", number),
            step: o.opt(ctx, "step", number),
            default: o.opt(ctx, "default", number),
            integer: o.opt(ctx, "integer", boolean).unwrap_or(false),
        };
        if let (Some(lo), Some(hi)) = (&n.min, &n.max)
            && as_f64(lo) > as_f64(hi)
        {
            ctx.add(join(&o.path, "max"), "must be at least min");
        }
        if let Some(s) = &n.step
            && as_f64(s) <= 0.0
        {
            ctx.add(join(&o.path, "step"), "must be greater than 0");
        }
        if let Some(d) = &n.default {
            n.check_number(ctx, d, &join(&o.path, "default"));
        }
        Some(n)
    }

    fn check_number(&self, ctx: &mut Ctx, n: &Number, path: &str) {
        let x = as_f64(n);
        if self.min.as_ref().is_some_and(|m| x < as_f64(m)) {
            ctx.add(
                path,
                format!("must be at least {}", self.min.as_ref().unwrap_or(n)),
            );
        } else if self.max.as_ref().is_some_and(|m| x > as_f64(m)) {
            ctx.add(
                path,
                format!("must be at most {}", self.max.as_ref().unwrap_or(n)),
            );
        } else if self.integer && x.fract() != 0.0 {
            ctx.add(path, "must be a whole number");
        }
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        if let Some(n) = number(ctx, v, path) {
            self.check_number(ctx, &n, path);
        }
    }

    pub(crate) fn value_schema(&self) -> Value {
        let mut s = json!({"type": if self.integer { "integer" } else { "number" }});
        if let Some(m) = &self.min {
            s["minimum"] = json!(m);
        }
        if let Some(m) = &self.max {
            s["maximum"] = json!(m);
        }
        s
    }
}

/// A number picked on a bounded slider.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Slider {
    #[schema(value_type = f64)]
    pub min: Number,
    #[schema(value_type = f64)]
    pub max: Number,
    #[schema(value_type = f64)]
    #[schema(required = false)]
    pub step: Number,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<f64>)]
    pub default: Option<Number>,
}

impl Slider {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let min = o.req(ctx, "min", number);
        let max = o.req(ctx, "max", number);
        let step = o.opt(ctx, "step", number);
        let default = o.opt(ctx, "default", number);
        let (min, max) = (min?, max?);
        let s = Self {
            min,
            max,
            step: step.unwrap_or_else(|| 1.into()),
            default,
        };
        if as_f64(&s.min) >= as_f64(&s.max) {
            ctx.add(join(&o.path, "max"), "must be greater than min");
        }
        if as_f64(&s.step) <= 0.0 {
            ctx.add(join(&o.path, "step"), "must be greater than 0");
        }
        if let Some(d) = &s.default {
            s.check_number(ctx, d, &join(&o.path, "default"));
        }
        Some(s)
    }

    fn check_number(&self, ctx: &mut Ctx, n: &Number, path: &str) {
        let x = as_f64(n);
        if x < as_f64(&self.min) || x > as_f64(&self.max) {
            ctx.add(
                path,
                format!("must be between {} and {}", self.min, self.max),
            );
        }
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        if let Some(n) = number(ctx, v, path) {
            self.check_number(ctx, &n, path);
        }
    }

    pub(crate) fn value_schema(&self) -> Value {
        json!({"type": "number", "minimum": self.min, "maximum": self.max})
    }
}

/// A yes/no tick box.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Checkbox {
    #[schema(required = false)]
    pub default: bool,
}

impl Checkbox {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        Some(Self {
            default: o.opt(ctx, "default", boolean).unwrap_or(false),
        })
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        boolean(ctx, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        json!({"type": "boolean"})
    }
}

/// Reads `items`: 1 to 1,000 unique non-empty strings.
pub(crate) fn read_items(ctx: &mut Ctx, o: &mut Obj) -> Option<Vec<String>> {
    let items = o.req(ctx, "items", list(1, 1000, nonempty(1000)))?;
    unique(ctx, &join(&o.path, "items"), &items, "item").then_some(items)
}

/// Reads a style among `allowed`; the first is the default.
pub(crate) fn read_style(ctx: &mut Ctx, o: &mut Obj, allowed: &[&str]) -> String {
    match o.opt(ctx, "style", string(32)) {
        Some(s) if allowed.contains(&s.as_str()) => s,
        Some(_) => {
            ctx.add(
                join(&o.path, "style"),
                format!("must be one of {}", allowed.join(", ")),
            );
            allowed[0].to_owned()
        }
        None => allowed[0].to_owned(),
    }
}

/// One choice among a list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SelectOne {
    pub items: Vec<String>,
    /// `radio` or `dropdown`.
    #[schema(required = false)]
    pub style: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub default: Option<String>,
}

impl SelectOne {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let items = read_items(ctx, o);
        let style = read_style(ctx, o, &["radio", "dropdown"]);
        let default = o.opt(ctx, "default", string(1000));
        let s = Self {
            items: items?,
            style,
            default,
        };
        if let Some(d) = &s.default {
            s.check(ctx, &Value::String(d.clone()), &join(&o.path, "default"));
        }
        Some(s)
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        check_choice(ctx, &self.items, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        json!({"type": "string", "enum": self.items})
    }
}

/// Checks that `v` is one of `items`.
pub(crate) fn check_choice(ctx: &mut Ctx, items: &[String], v: &Value, path: &str) {
    match v {
        Value::String(s) if items.contains(s) => {}
        Value::String(s) => ctx.add(path, format!("{s:?} is not one of the items")),
        _ => ctx.add(path, format!("expected a string, found {}", kind(v))),
    }
}

/// Checks that `v` is an array of distinct `items`, `lo..=hi` of them.
pub(crate) fn check_choices(
    ctx: &mut Ctx,
    items: &[String],
    lo: usize,
    hi: usize,
    v: &Value,
    path: &str,
) {
    if let Some(chosen) = list(lo, hi, |ctx, x, p| {
        check_choice(ctx, items, x, p);
        x.as_str().map(str::to_owned)
    })(ctx, v, path)
    {
        unique(ctx, path, &chosen, "choice");
    }
}

/// Several choices among a list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SelectMulti {
    pub items: Vec<String>,
    /// `checkbox` or `dropdown`.
    #[schema(required = false)]
    pub style: String,
    #[schema(required = false)]
    pub min_selected: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub max_selected: Option<u64>,
    #[schema(required = false)]
    pub default: Vec<String>,
}

impl SelectMulti {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let items = read_items(ctx, o);
        let style = read_style(ctx, o, &["checkbox", "dropdown"]);
        let min_selected = o.opt(ctx, "min_selected", uint(0, 1000)).unwrap_or(0);
        let max_selected = o.opt(ctx, "max_selected", uint(1, 1000));
        let default = o.opt(ctx, "default", list(0, 1000, string(1000)));
        let s = Self {
            items: items?,
            style,
            min_selected,
            max_selected,
            default: default.unwrap_or_default(),
        };
        let n = s.items.len() as u64;
        if let Some(hi) = s.max_selected {
            if hi > n {
                ctx.add(
                    join(&o.path, "max_selected"),
                    format!("must be at most the number of items ({n})"),
                );
            } else if hi < min_selected {
                ctx.add(
                    join(&o.path, "max_selected"),
                    "must be at least min_selected",
                );
            }
        }
        if min_selected > n {
            ctx.add(
                join(&o.path, "min_selected"),
                format!("must be at most the number of items ({n})"),
            );
        }
        if !s.default.is_empty() {
            let d = json!(s.default);
            check_choices(
                ctx,
                &s.items,
                0,
                s.items.len(),
                &d,
                &join(&o.path, "default"),
            );
        }
        Some(s)
    }

    fn bounds(&self) -> (usize, usize) {
        let hi = self.max_selected.map_or(self.items.len(), |m| m as usize);
        (self.min_selected as usize, hi)
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let (lo, hi) = self.bounds();
        check_choices(ctx, &self.items, lo, hi, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        let (lo, hi) = self.bounds();
        json!({"type": "array", "items": {"type": "string", "enum": self.items},
               "uniqueItems": true, "minItems": lo, "maxItems": hi})
    }
}

/// Reads `types`: file name extensions (`.csv`) or MIME patterns (`image/*`).
fn read_types(ctx: &mut Ctx, o: &mut Obj, default: &[&str]) -> Vec<String> {
    let is_type = |t: &str| {
        (t.starts_with('.') && t.len() > 1 && !t.contains('/'))
            || t.strip_suffix("/*")
                .is_some_and(|m| is_mime(&format!("{m}/x")))
            || is_mime(t)
    };
    let types = o.opt(
        ctx,
        "types",
        list(0, 100, |ctx: &mut Ctx, v: &Value, p: &str| {
            let t = string(255)(ctx, v, p)?;
            if !is_type(&t) {
                ctx.add(
                    p,
                    "must be an extension such as .csv or a MIME type such as image/*",
                );
            }
            Some(t.to_ascii_lowercase())
        }),
    );
    types.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
}

/// Whether a file's name or type matches one of `types` (an empty list accepts any).
pub fn type_matches(types: &[String], f: &FileRef) -> bool {
    if types.is_empty() {
        return true;
    }
    let name = f.name.as_deref().map(str::to_ascii_lowercase);
    let mime = f.media_type().map(str::to_ascii_lowercase);
    if name.is_none() && mime.is_none() {
        return true;
    }
    types.iter().any(|t| {
        if t.starts_with('.') {
            name.as_deref().is_some_and(|n| n.ends_with(t.as_str()))
        } else if let Some(major) = t.strip_suffix("/*") {
            mime.as_deref()
                .is_some_and(|m| m.split('/').next() == Some(major))
        } else {
            mime.as_deref() == Some(t.as_str())
        }
    })
}

fn check_file(ctx: &mut Ctx, types: &[String], max_size: u64, v: &Value, path: &str) {
    let Some(f) = FileRef::read(ctx, v, path) else {
        return;
    };
    if f.size.is_some_and(|s| s > max_size) {
        ctx.add(
            join(path, "size"),
            format!("is over the limit of {max_size} bytes"),
        );
    }
    if !type_matches(types, &f) {
        ctx.add(path, format!("must be of type {}", types.join(", ")));
    }
}

/// One or more files.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FileUpload {
    #[schema(required = false)]
    pub types: Vec<String>,
    #[schema(required = false)]
    pub min_files: u64,
    #[schema(required = false)]
    pub max_files: u64,
    /// Bytes per file.
    #[schema(required = false)]
    pub max_size: u64,
}

impl FileUpload {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let types = read_types(ctx, o, &[]);
        let min_files = o.opt(ctx, "min_files", uint(0, 1000)).unwrap_or(1);
        let max_files = o.opt(ctx, "max_files", uint(1, 1000)).unwrap_or(1);
        let max_size = o
            .opt(ctx, "max_size", uint(1, MAX_UPLOAD))
            .unwrap_or(DEFAULT_MAX_SIZE);
        if max_files < min_files {
            ctx.add(
                join(&o.path, "max_files"),
                format!("must be at least min_files ({min_files})"),
            );
        }
        Some(Self {
            types,
            min_files,
            max_files,
            max_size,
        })
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let (lo, hi) = (self.min_files as usize, self.max_files as usize);
        list(lo, hi, |ctx: &mut Ctx, x: &Value, p: &str| {
            check_file(ctx, &self.types, self.max_size, x, p);
            Some(())
        })(ctx, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        json!({"type": "array", "items": {"$ref": "#/components/schemas/FileRef"},
               "minItems": self.min_files, "maxItems": self.max_files})
    }
}

/// One image file.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ImageUpload {
    #[schema(required = false)]
    pub types: Vec<String>,
    #[schema(required = false)]
    pub max_size: u64,
}

impl ImageUpload {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let types = read_types(ctx, o, &["image/*"]);
        let max_size = o
            .opt(ctx, "max_size", uint(1, MAX_UPLOAD))
            .unwrap_or(DEFAULT_MAX_SIZE);
        Some(Self { types, max_size })
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        check_file(ctx, &self.types, self.max_size, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        json!({"$ref": "#/components/schemas/FileRef"})
    }
}
