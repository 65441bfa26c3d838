// The API's JSON shapes, named for the portal. Every shape is the server's own: `schema.gen.ts`
// is generated from `openapi.json` (the document `feather schema openapi` prints, checked
// against the server by its tests) with openapi-typescript when the portal is built or tested.

import type { components } from "./schema.gen";

type S = components["schemas"];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Model = S["Model"];
export type ModelPage = S["ModelPage"];
export type Scope = S["Scope"];
export type Me = S["Me"];
export type TokenInfo = S["TokenInfo"];
export type CreatedToken = S["CreatedToken"];
export type NewToken = S["CreateToken"];
export type Grant = S["Grant"];
export type Version = S["Version"];
export type VersionDetail = S["VersionDetail"];
export type Step = S["Step"];
export type Provenance = S["Provenance"];
export type Manifest = S["Manifest"];
/** The server's environment; `reason` comes with `failed`. */
export type Environment = S["Environment"] & { reason?: string };
/** A file: exactly one source (`data`, `id`, `path` or `part`), read here as optional fields. */
export type FileRef = S["FileRef"] & { data?: string; id?: string; path?: string; part?: number };
export type StoredFile = S["StoredFile"];
export type CellType = S["CellType"];
/** One table cell: what a column of its type holds. */
export type Cell = string | number | boolean | null;

export type Component = S["Component"];
/** The component of one type, with what every component has. */
type Of<T extends Component["type"]> = Extract<Component, { type: T }>;

export type TextIn = Of<"Text.In">;
export type NumberIn = Of<"Number.In">;
export type Slider = Of<"Slider">;
export type Checkbox = Of<"Checkbox">;
export type SelectOne = Of<"List.SelectOne">;
export type SelectMulti = Of<"List.SelectMulti">;
export type FileUpload = Of<"File.Upload">;
export type ImageUpload = Of<"Image.Upload">;
export type ImageWithSelectOne = Of<"Image.WithSelectOne">;
export type ImageWithSelectMulti = Of<"Image.WithSelectMulti">;
export type ImageWithTextIn = Of<"Image.WithTextIn">;
export type DocumentWithTextIn = Of<"Document.WithTextIn">;
export type TableIn = Of<"Table.In">;
export type TensorIn = Of<"Tensor.In">;
export type TextView = Of<"Text.View">;
export type MarkdownView = Of<"Markdown.View">;
export type NumberView = Of<"Number.View">;
export type JsonView = Of<"Json.View">;
export type Label = Of<"Label">;
export type TableView = Of<"Table.View">;
export type ImageView = Of<"Image.View">;
export type DocumentView = Of<"Document.View">;
export type FileDownload = Of<"File.Download">;

export type InputComponent =
  | TextIn
  | NumberIn
  | Slider
  | Checkbox
  | SelectOne
  | SelectMulti
  | FileUpload
  | ImageUpload
  | ImageWithSelectOne
  | ImageWithSelectMulti
  | ImageWithTextIn
  | DocumentWithTextIn
  | TableIn
  | TensorIn;

export type ViewComponent =
  | TextView
  | MarkdownView
  | NumberView
  | JsonView
  | Label
  | TableView
  | ImageView
  | DocumentView
  | FileDownload;

export type StepView = S["StepView"];
export type NextStep = S["NextStep"];
export type RunStatus = S["RunStatus"];
export type RunView = S["RunView"];
export type Problem = S["Problem"];
export type ErrorBody = S["ErrorBody"];
