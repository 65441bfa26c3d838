//! Tables: rows of typed cells, as an input and as a view.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::problem::join;
use crate::read::{Ctx, Obj, kind, list, nonempty, string, uint, unique};

/// The type of one column's cells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CellType {
    String,
    Number,
    Integer,
    Boolean,
}

impl CellType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "number" => Self::Number,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            _ => return None,
        })
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            Self::String => v.is_string(),
            Self::Number => v.is_number(),
            Self::Integer => v.is_i64() || v.is_u64(),
            Self::Boolean => v.is_boolean(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }
}

/// A column of a `Table.In`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    #[schema(required = false)]
    pub cell: CellType,
}

impl Column {
    fn read(ctx: &mut Ctx, v: &Value, path: &str) -> Option<Self> {
        let mut o = Obj::new(ctx, v, path)?;
        let name = o.req(ctx, "name", nonempty(200));
        let cell = o.opt(ctx, "type", string(16)).map(|t| {
            CellType::parse(&t).unwrap_or_else(|| {
                ctx.add(
                    join(path, "type"),
                    "must be one of string, number, integer, boolean",
                );
                CellType::String
            })
        });
        o.finish(ctx);
        Some(Self {
            name: name?,
            cell: cell.unwrap_or(CellType::String),
        })
    }
}

/// Rows typed in by the person, one cell per column.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TableIn {
    pub columns: Vec<Column>,
    #[schema(required = false)]
    pub min_rows: u64,
    #[schema(required = false)]
    pub max_rows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<Vec<Vec<crate::schema::Cell>>>)]
    pub default: Option<Value>,
}

impl TableIn {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let columns = o.req(ctx, "columns", list(1, 256, Column::read));
        let min_rows = o.opt(ctx, "min_rows", uint(0, 100_000)).unwrap_or(1);
        let max_rows = o.opt(ctx, "max_rows", uint(1, 100_000)).unwrap_or(1000);
        let default = o.get("default");
        let columns = columns?;
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let before = ctx.problems.len();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                ctx.add(
                    join(&join(&o.path, "columns"), i),
                    format!("repeats column name {n:?}"),
                );
            }
        }
        if max_rows < min_rows {
            ctx.add(
                join(&o.path, "max_rows"),
                format!("must be at least min_rows ({min_rows})"),
            );
        }
        let t = Self {
            columns,
            min_rows,
            max_rows,
            default: default.as_ref().map(|(v, _)| (*v).clone()),
        };
        if let Some((v, p)) = default {
            t.check(ctx, v, &p);
        }
        (ctx.problems.len() == before).then_some(t)
    }

    pub(crate) fn check(&self, ctx: &mut Ctx, v: &Value, path: &str) {
        let width = self.columns.len();
        let (lo, hi) = (self.min_rows as usize, self.max_rows as usize);
        list(lo, hi, |ctx: &mut Ctx, row: &Value, p: &str| {
            list(width, width, |ctx: &mut Ctx, cell: &Value, cp: &str| {
                let i: usize = cp.rsplit('/').next()?.parse().ok()?;
                let col = &self.columns[i];
                if !col.cell.accepts(cell) {
                    ctx.add(
                        cp,
                        format!(
                            "expected {} for column {:?}, found {}",
                            col.cell.name(),
                            col.name,
                            kind(cell)
                        ),
                    );
                }
                Some(())
            })(ctx, row, p)
        })(ctx, v, path);
    }

    pub(crate) fn value_schema(&self) -> Value {
        let cells: Vec<Value> = self
            .columns
            .iter()
            .map(|c| json!({"type": c.cell.name()}))
            .collect();
        json!({"type": "array", "minItems": self.min_rows, "maxItems": self.max_rows,
               "items": {"type": "array", "prefixItems": cells, "items": false,
                         "minItems": self.columns.len()}})
    }
}

/// A table shown to the person.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TableView {
    pub columns: Vec<String>,
    /// One array a row, one scalar (string, number, boolean or null) per column.
    #[schema(value_type = Vec<Vec<crate::schema::Cell>>)]
    pub rows: Vec<Vec<Value>>,
}

impl TableView {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj) -> Option<Self> {
        let columns = o.req(ctx, "columns", list(1, 256, string(200)));
        if let Some(c) = &columns {
            unique(ctx, &join(&o.path, "columns"), c, "column");
        }
        let width = columns.as_ref().map(Vec::len);
        let rows = o.req(
            ctx,
            "rows",
            list(0, 1_000_000, |ctx: &mut Ctx, v: &Value, p: &str| {
                let Value::Array(cells) = v else {
                    ctx.add(p, format!("expected an array, found {}", kind(v)));
                    return None;
                };
                if width.is_some_and(|w| w != cells.len()) {
                    ctx.add(
                        p,
                        format!("must have {} cells, one per column", width.unwrap_or(0)),
                    );
                }
                for (i, c) in cells.iter().enumerate() {
                    if c.is_array() || c.is_object() {
                        ctx.add(join(p, i), "expected a string, number, boolean or null");
                    }
                }
                Some(cells.clone())
            }),
        );
        Some(Self {
            columns: columns?,
            rows: rows?,
        })
    }
}
