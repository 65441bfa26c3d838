//! The component catalogue: every UI/API element a manifest or a step can use, its props, and
//! for inputs the value a person or program answers with.

mod inputs;
mod media;
mod tables;
mod tensor;
mod views;

pub use inputs::{
    Checkbox, DEFAULT_MAX_SIZE, FileUpload, ImageUpload, MAX_CHARS, NumberIn, SelectMulti,
    SelectOne, Slider, TextIn, type_matches,
};
pub use media::{DocumentWithTextIn, ImageWithSelectMulti, ImageWithSelectOne, ImageWithTextIn};
pub use tables::{CellType, Column, TableIn, TableView};
pub use tensor::{Dtype, MAX_ELEMENTS, MAX_RANK, TensorIn, flatten, nest};
pub use views::{
    DocumentView, FileDownload, ImageView, JsonView, Label, MarkdownView, NumberView, TextView,
};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::file_ref::FileRef;
use crate::problem::{Problem, Problems};
use crate::read::{Ctx, Obj, boolean, string};

/// One component: what every component has, plus the props of its type.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Component {
    /// Identifies the component within its step: `[a-z][a-z0-9_]{0,63}`.
    pub id: String,
    #[serde(flatten)]
    pub props: Props,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    /// An input that is not required may be left out or null.
    #[schema(required = false)]
    pub required: bool,
}

/// The props of each component type, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type")]
pub enum Props {
    #[serde(rename = "Text.In")]
    TextIn(TextIn),
    #[serde(rename = "Number.In")]
    NumberIn(NumberIn),
    #[serde(rename = "Slider")]
    Slider(Slider),
    #[serde(rename = "Checkbox")]
    Checkbox(Checkbox),
    #[serde(rename = "List.SelectOne")]
    SelectOne(SelectOne),
    #[serde(rename = "List.SelectMulti")]
    SelectMulti(SelectMulti),
    #[serde(rename = "File.Upload")]
    FileUpload(FileUpload),
    #[serde(rename = "Image.Upload")]
    ImageUpload(ImageUpload),
    #[serde(rename = "Image.WithSelectOne")]
    ImageWithSelectOne(ImageWithSelectOne),
    #[serde(rename = "Image.WithSelectMulti")]
    ImageWithSelectMulti(ImageWithSelectMulti),
    #[serde(rename = "Image.WithTextIn")]
    ImageWithTextIn(ImageWithTextIn),
    #[serde(rename = "Document.WithTextIn")]
    DocumentWithTextIn(DocumentWithTextIn),
    #[serde(rename = "Table.In")]
    TableIn(TableIn),
    #[serde(rename = "Tensor.In")]
    TensorIn(TensorIn),
    #[serde(rename = "Text.View")]
    TextView(TextView),
    #[serde(rename = "Markdown.View")]
    MarkdownView(MarkdownView),
    #[serde(rename = "Number.View")]
    NumberView(NumberView),
    #[serde(rename = "Json.View")]
    JsonView(JsonView),
    #[serde(rename = "Label")]
    Label(Label),
    #[serde(rename = "Table.View")]
    TableView(TableView),
    #[serde(rename = "Image.View")]
    ImageView(ImageView),
    #[serde(rename = "Document.View")]
    DocumentView(DocumentView),
    #[serde(rename = "File.Download")]
    FileDownload(FileDownload),
}

/// Every component type name, in catalogue order.
pub const TYPES: [&str; 23] = [
    "Text.In",
    "Number.In",
    "Slider",
    "Checkbox",
    "List.SelectOne",
    "List.SelectMulti",
    "File.Upload",
    "Image.Upload",
    "Image.WithSelectOne",
    "Image.WithSelectMulti",
    "Image.WithTextIn",
    "Document.WithTextIn",
    "Table.In",
    "Tensor.In",
    "Text.View",
    "Markdown.View",
    "Number.View",
    "Json.View",
    "Label",
    "Table.View",
    "Image.View",
    "Document.View",
    "File.Download",
];

/// Checks a component id: `[a-z][a-z0-9_]{0,63}`.
pub fn is_component_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Props {
    fn read(ctx: &mut Ctx, o: &mut Obj, ty: &str) -> Option<Self> {
        Some(match ty {
            "Text.In" => Self::TextIn(TextIn::read(ctx, o)?),
            "Number.In" => Self::NumberIn(NumberIn::read(ctx, o)?),
            "Slider" => Self::Slider(Slider::read(ctx, o)?),
            "Checkbox" => Self::Checkbox(Checkbox::read(ctx, o)?),
            "List.SelectOne" => Self::SelectOne(SelectOne::read(ctx, o)?),
            "List.SelectMulti" => Self::SelectMulti(SelectMulti::read(ctx, o)?),
            "File.Upload" => Self::FileUpload(FileUpload::read(ctx, o)?),
            "Image.Upload" => Self::ImageUpload(ImageUpload::read(ctx, o)?),
            "Image.WithSelectOne" => Self::ImageWithSelectOne(ImageWithSelectOne::read(ctx, o)?),
            "Image.WithSelectMulti" => {
                Self::ImageWithSelectMulti(ImageWithSelectMulti::read(ctx, o)?)
            }
            "Image.WithTextIn" => Self::ImageWithTextIn(ImageWithTextIn::read(ctx, o)?),
            "Document.WithTextIn" => Self::DocumentWithTextIn(DocumentWithTextIn::read(ctx, o)?),
            "Table.In" => Self::TableIn(TableIn::read(ctx, o)?),
            "Tensor.In" => Self::TensorIn(TensorIn::read(ctx, o)?),
            "Text.View" => Self::TextView(TextView::read(ctx, o)?),
            "Markdown.View" => Self::MarkdownView(MarkdownView::read(ctx, o)?),
            "Number.View" => Self::NumberView(NumberView::read(ctx, o)?),
            "Json.View" => Self::JsonView(JsonView::read(ctx, o)?),
            "Label" => Self::Label(Label::read(ctx, o)?),
            "Table.View" => Self::TableView(TableView::read(ctx, o)?),
            "Image.View" => Self::ImageView(ImageView::read(ctx, o)?),
            "Document.View" => Self::DocumentView(DocumentView::read(ctx, o)?),
            "File.Download" => Self::FileDownload(FileDownload::read(ctx, o)?),
            _ => return None,
        })
    }

    /// Checks an answer against these props; views take no answer.
    fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        match self {
            Self::TextIn(c) => c.check(ctx, v, path),
            Self::NumberIn(c) => c.check(ctx, v, path),
            Self::Slider(c) => c.check(ctx, v, path),
            Self::Checkbox(c) => c.check(ctx, v, path),
            Self::SelectOne(c) => c.check(ctx, v, path),
            Self::SelectMulti(c) => c.check(ctx, v, path),
            Self::FileUpload(c) => c.check(ctx, v, path),
            Self::ImageUpload(c) => c.check(ctx, v, path),
            Self::ImageWithSelectOne(c) => c.check(ctx, v, path),
            Self::ImageWithSelectMulti(c) => c.check(ctx, v, path),
            Self::ImageWithTextIn(c) => c.check(ctx, v, path),
            Self::DocumentWithTextIn(c) => c.check(ctx, v, path),
            Self::TableIn(c) => c.check(ctx, v, path),
            Self::TensorIn(c) => c.check(ctx, v, path),
            _ => ctx.add(path, "this component shows a result and takes no value"),
        }
    }

    /// The JSON Schema of an answer, or `None` for a view.
    pub fn value_schema(&self) -> Option<Value> {
        Some(match self {
            Self::TextIn(c) => c.value_schema(),
            Self::NumberIn(c) => c.value_schema(),
            Self::Slider(c) => c.value_schema(),
            Self::Checkbox(c) => c.value_schema(),
            Self::SelectOne(c) => c.value_schema(),
            Self::SelectMulti(c) => c.value_schema(),
            Self::FileUpload(c) => c.value_schema(),
            Self::ImageUpload(c) => c.value_schema(),
            Self::ImageWithSelectOne(c) => c.value_schema(),
            Self::ImageWithSelectMulti(c) => c.value_schema(),
            Self::ImageWithTextIn(c) => c.value_schema(),
            Self::DocumentWithTextIn(c) => c.value_schema(),
            Self::TableIn(c) => c.value_schema(),
            Self::TensorIn(c) => c.value_schema(),
            _ => return None,
        })
    }

    /// Whether the component's answer holds files.
    pub fn takes_files(&self) -> bool {
        matches!(
            self,
            Self::FileUpload(_)
                | Self::ImageUpload(_)
                | Self::ImageWithSelectOne(_)
                | Self::ImageWithSelectMulti(_)
                | Self::ImageWithTextIn(_)
                | Self::DocumentWithTextIn(_)
        )
    }

    /// The files the props name, with the field that holds them: images a page shows, files
    /// it offers for download.
    pub fn file_refs(&self) -> Option<(&'static str, &[FileRef])> {
        Some(match self {
            Self::ImageView(c) => ("images", &c.images),
            Self::FileDownload(c) => ("files", &c.files),
            Self::ImageWithSelectOne(c) => ("images", &c.images),
            Self::ImageWithSelectMulti(c) => ("images", &c.images),
            Self::ImageWithTextIn(c) => ("images", &c.images),
            _ => return None,
        })
    }

    /// Whether the component takes an answer: an input, not a view.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Self::TextIn(_)
                | Self::NumberIn(_)
                | Self::Slider(_)
                | Self::Checkbox(_)
                | Self::SelectOne(_)
                | Self::SelectMulti(_)
                | Self::FileUpload(_)
                | Self::ImageUpload(_)
                | Self::ImageWithSelectOne(_)
                | Self::ImageWithSelectMulti(_)
                | Self::ImageWithTextIn(_)
                | Self::DocumentWithTextIn(_)
                | Self::TableIn(_)
                | Self::TensorIn(_)
        )
    }
}

impl Component {
    /// Reads one component from untrusted JSON, recording every problem.
    pub(crate) fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let before = ctx.problems.len();
        let id = o.req(ctx, "id", string(64));
        if let Some(id) = &id
            && !is_component_id(id)
        {
            ctx.add(
                format!("{path}/id"),
                "must be a lowercase letter then up to 63 of a-z 0-9 _",
            );
        }
        let title = o.opt(ctx, "title", string(200));
        let description = o.opt(ctx, "description", string(2000));
        let required = o.opt(ctx, "required", boolean).unwrap_or(true);
        let ty = o.req(ctx, "type", string(64));
        let props = match ty.as_deref() {
            Some(t) if TYPES.contains(&t) => Props::read(ctx, &mut o, t),
            Some(t) => {
                ctx.add(
                    format!("{path}/type"),
                    format!("unknown component type {t:?}; known: {}", TYPES.join(", ")),
                );
                return None;
            }
            None => return None,
        };
        o.finish(ctx);
        if ctx.problems.len() != before {
            return None;
        }
        Some(Self {
            id: id?,
            props: props?,
            title,
            description,
            required,
        })
    }

    /// Parses a component from untrusted JSON.
    pub fn parse(v: &Value) -> Result<Self, Problems> {
        let mut ctx = Ctx::default();
        match Self::read(&mut ctx, v, "") {
            Some(c) if ctx.problems.is_empty() => Ok(c),
            _ => Err(Problems(ctx.problems)),
        }
    }

    /// Whether this component takes an answer.
    pub fn is_input(&self) -> bool {
        self.props.is_input()
    }

    /// Checks an answer (`None` or null: no answer) and returns every problem, paths relative
    /// to the value.
    pub fn check_value(&self, v: Option<&Value>) -> Vec<Problem> {
        let mut ctx = Ctx::default();
        match v {
            None | Some(Value::Null) if !self.is_input() => {}
            None | Some(Value::Null) if self.required => ctx.add("", "a value is required"),
            None | Some(Value::Null) => {}
            Some(v) => self.props.check(&mut ctx, v, ""),
        }
        ctx.problems
    }
}
