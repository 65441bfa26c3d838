//! Components built around a list of images or documents, each answered by the person.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::inputs::{check_choice, check_choices};
use crate::file_ref::FileRef;
use crate::problem::join;
use crate::read::{Ctx, Obj, list, nonempty, string, uint, unique};

const MAX_ITEMS: usize = 256;
const DOC_CHARS: usize = 10_000_000;

pub(crate) fn read_images(ctx: &mut Ctx, o: &mut Obj) -> Option<Vec<FileRef>> {
    o.req(ctx, "images", list(1, MAX_ITEMS, FileRef::read))
}

/// Reads an optional array that must have one string per item (`n` of them).
pub(crate) fn read_per_item(
    ctx: &mut Ctx,
    o: &mut Obj,
    key: &str,
    n: Option<usize>,
    max: usize,
) -> Option<Vec<String>> {
    let (v, p) = o.get(key)?;
    match n {
        Some(n) => list(n, n, string(max))(ctx, v, &p),
        None => list(0, MAX_ITEMS, string(max))(ctx, v, &p),
    }
}

/// Reads `lists`: one non-empty list of unique strings per image.
fn read_lists(ctx: &mut Ctx, o: &mut Obj, n: Option<usize>) -> Option<Vec<Vec<String>>> {
    let one = |ctx: &mut Ctx, v: &Value, p: &str| {
        let items = list(1, 1000, nonempty(1000))(ctx, v, p)?;
        unique(ctx, p, &items, "item").then_some(items)
    };
    let (lo, hi) = n.map_or((1, MAX_ITEMS), |n| (n, n));
    o.req(ctx, "lists", list(lo, hi, one))
}

/// Images, each with one choice from its own list (confirm or correct a label).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ImageWithSelectOne {
    pub images: Vec<FileRef>,
    pub lists: Vec<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub captions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub default: Option<Vec<String>>,
}

impl ImageWithSelectOne {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let images = read_images(ctx, o);
        let n = images.as_ref().map(Vec::len);
        let lists = read_lists(ctx, o, n);
        let captions = read_per_item(ctx, o, "captions", n, 1000);
        let default = read_per_item(ctx, o, "default", n, 1000);
        let s = Self {
            images: images?,
            lists: lists?,
            captions,
            default,
        };
        if let Some(d) = &s.default {
            s.check(ctx, &json!(d), &join(&o.path, "default"));
        }
        Some(s)
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let n = self.images.len();
        list(n, n, |ctx: &mut Ctx, x: &Value, p: &str| {
            let i: usize = p.rsplit('/').next()?.parse().ok()?;
            check_choice(ctx, &self.lists[i], x, p);
            Some(())
        })(ctx, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        let items: Vec<Value> = self
            .lists
            .iter()
            .map(|l| json!({"type": "string", "enum": l}))
            .collect();
        json!({"type": "array", "prefixItems": items, "items": false, "minItems": self.images.len()})
    }
}

/// Images, each with any number of choices from its own list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ImageWithSelectMulti {
    pub images: Vec<FileRef>,
    pub lists: Vec<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub captions: Option<Vec<String>>,
}

impl ImageWithSelectMulti {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let images = read_images(ctx, o);
        let n = images.as_ref().map(Vec::len);
        let lists = read_lists(ctx, o, n);
        let captions = read_per_item(ctx, o, "captions", n, 1000);
        Some(Self {
            images: images?,
            lists: lists?,
            captions,
        })
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let n = self.images.len();
        list(n, n, |ctx: &mut Ctx, x: &Value, p: &str| {
            let i: usize = p.rsplit('/').next()?.parse().ok()?;
            check_choices(ctx, &self.lists[i], 0, self.lists[i].len(), x, p);
            Some(())
        })(ctx, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        let items: Vec<Value> = self
            .lists
            .iter()
            .map(|l| json!({"type": "array", "uniqueItems": true, "items": {"type": "string", "enum": l}}))
            .collect();
        json!({"type": "array", "prefixItems": items, "items": false, "minItems": self.images.len()})
    }
}

/// Checks an array with one string of at most `max` characters per item.
fn check_texts(ctx: &mut Ctx, n: usize, max: u64, v: &Value, path: &str) {
    list(n, n, string(max as usize))(ctx, v, path);
}

fn texts_schema(n: usize, max: u64) -> Value {
    json!({"type": "array", "items": {"type": "string", "maxLength": max}, "minItems": n, "maxItems": n})
}

/// Images, each with a text to write (a caption, a transcription).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ImageWithTextIn {
    pub images: Vec<FileRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub captions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub default_text: Option<Vec<String>>,
    #[schema(required = false)]
    pub max_chars: u64,
}

impl ImageWithTextIn {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let images = read_images(ctx, o);
        let n = images.as_ref().map(Vec::len);
        let captions = read_per_item(ctx, o, "captions", n, 1000);
        let max_chars = o
            .opt(ctx, "max_chars", uint(1, super::inputs::MAX_CHARS))
            .unwrap_or(10_000);
        let default_text = read_per_item(ctx, o, "default_text", n, max_chars as usize);
        Some(Self {
            images: images?,
            captions,
            default_text,
            max_chars,
        })
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        check_texts(ctx, self.images.len(), self.max_chars, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        texts_schema(self.images.len(), self.max_chars)
    }
}

pub(crate) fn read_documents(ctx: &mut Ctx, o: &mut Obj) -> Option<Vec<String>> {
    o.req(ctx, "documents", list(1, MAX_ITEMS, string(DOC_CHARS)))
}

/// Documents, each with a text to write (a summary, a correction).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DocumentWithTextIn {
    pub documents: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub titles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub default_text: Option<Vec<String>>,
    #[schema(required = false)]
    pub max_chars: u64,
}

impl DocumentWithTextIn {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let documents = read_documents(ctx, o);
        let n = documents.as_ref().map(Vec::len);
        let titles = read_per_item(ctx, o, "titles", n, 1000);
        let max_chars = o
            .opt(ctx, "max_chars", uint(1, super::inputs::MAX_CHARS))
            .unwrap_or(10_000);
        let default_text = read_per_item(ctx, o, "default_text", n, max_chars as usize);
        Some(Self {
            documents: documents?,
            titles,
            default_text,
            max_chars,
        })
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        check_texts(ctx, self.documents.len(), self.max_chars, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        texts_schema(self.documents.len(), self.max_chars)
    }
}
