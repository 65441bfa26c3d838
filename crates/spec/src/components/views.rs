//! Views: components that show what a step produced and take no answer.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::media::{read_documents, read_per_item};
use crate::file_ref::FileRef;
use crate::problem::join;
use crate::read::{Ctx, Obj, kind, list, number, string, uint};

const TEXT_CHARS: usize = 10_000_000;

/// Plain text.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TextView {
    pub text: String,
}

impl TextView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        Some(Self {
            text: o.req(ctx, "text", string(TEXT_CHARS))?,
        })
    }
}

/// Markdown, rendered safely (no raw HTML).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MarkdownView {
    pub text: String,
}

impl MarkdownView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        Some(Self {
            text: o.req(ctx, "text", string(TEXT_CHARS))?,
        })
    }
}

/// A number, such as a regressor's prediction: shown large, with its unit, rounded to
/// `decimals` places when given.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NumberView {
    #[schema(value_type = f64)]
    pub value: serde_json::Number,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub unit: Option<String>,
    /// Places after the decimal point to show, 0 to 12.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub decimals: Option<u32>,
}

impl NumberView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let value = o.req(ctx, "value", number);
        let unit = o.opt(ctx, "unit", string(64));
        let decimals = o.opt(ctx, "decimals", uint(0, 12)).map(|d| d as u32);
        Some(Self {
            value: value?,
            unit,
            decimals,
        })
    }
}

/// Any JSON document, shown as a collapsible tree.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JsonView {
    #[schema(value_type = Value)]
    pub data: Value,
}

impl JsonView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        if !o.has("data") {
            ctx.add(join(&o.path, "data"), "is required");
            o.skip("data");
            return None;
        }
        Some(Self {
            data: o.get("data")?.0.clone(),
        })
    }
}

/// Class probabilities, shown as bars; the most likely class is the label.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Label {
    /// Class name to probability in [0, 1], in the order to show.
    #[schema(value_type = std::collections::HashMap<String, f64>)]
    pub confidences: Map<String, Value>,
    /// The predicted class; defaults to the most likely one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub label: Option<String>,
    /// Show only this many of the most likely classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub num_top_classes: Option<u64>,
}

impl Label {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let confidences = o.req(ctx, "confidences", |ctx: &mut Ctx, v: &Value, p: &str| {
            let Value::Object(m) = v else {
                ctx.add(
                    p,
                    format!(
                        "expected an object of class to probability, found {}",
                        kind(v)
                    ),
                );
                return None;
            };
            for (class, x) in m {
                if !x.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x)) {
                    ctx.add(join(p, class), "must be a number between 0 and 1");
                }
            }
            Some(m.clone())
        });
        let label = o.opt(ctx, "label", string(1000));
        let num_top_classes = o.opt(ctx, "num_top_classes", uint(1, 1000));
        Some(Self {
            confidences: confidences?,
            label,
            num_top_classes,
        })
    }
}

/// One or more images with optional captions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ImageView {
    pub images: Vec<FileRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub captions: Option<Vec<String>>,
}

impl ImageView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let images = super::media::read_images(ctx, o);
        let captions = read_per_item(ctx, o, "captions", images.as_ref().map(Vec::len), 1000);
        Some(Self {
            images: images?,
            captions,
        })
    }
}

/// One or more text documents with optional titles.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DocumentView {
    pub documents: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub titles: Option<Vec<String>>,
}

impl DocumentView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let documents = read_documents(ctx, o);
        let titles = read_per_item(ctx, o, "titles", documents.as_ref().map(Vec::len), 1000);
        Some(Self {
            documents: documents?,
            titles,
        })
    }
}

/// Files offered for download.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FileDownload {
    pub files: Vec<FileRef>,
}

impl FileDownload {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let files = o.req(
            ctx,
            "files",
            list(1, 1000, |ctx: &mut Ctx, v: &Value, p: &str| {
                let f = FileRef::read(ctx, v, p)?;
                if f.name.is_none() {
                    ctx.add(join(p, "name"), "is required for a download");
                }
                Some(f)
            }),
        );
        Some(Self { files: files? })
    }
}
