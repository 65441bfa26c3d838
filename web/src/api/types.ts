// The API's JSON shapes, as the server writes them (crates/store/src/registry.rs,
// crates/server/src/exec/views.rs, crates/spec). Only what the portal reads is typed.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A model and what its newest version says of itself. */
export interface Model {
  owner: string;
  name: string;
  title: string;
  /** Markdown. */
  description: string;
  tags: string[];
  /** Private models are shown only to their owner, the users granted them, and admins. */
  visibility?: "public" | "private";
  latest_version: number | null;
  aliases: Record<string, number>;
  versions: number;
  /** How many runs the model has had; servers that do not count runs leave it out. */
  runs?: number;
  created_at: string;
  updated_at: string;
}

export interface ModelPage {
  models: Model[];
  page: number;
  per_page: number;
  total: number;
}

export type Scope = "publish" | "run" | "admin";

/** The signed-in user and what the session's own token may do. */
export interface Me {
  user: string;
  role: "admin" | "developer";
  scopes: Scope[];
  /** The id of the token this request was made with. */
  token: number;
  expires_at: string | null;
}

/** A token as listed: never the secret itself, only its first characters. */
export interface TokenInfo {
  id: number;
  user: string;
  label: string | null;
  /** Such as `ftr_3fa2c1`. */
  prefix: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** A token just made: the server keeps only its hash, so `token` is seen this once. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export interface NewToken {
  scopes: Scope[];
  expires_in_days?: number;
  label?: string;
}

/** A user a private model is shared with. */
export interface Grant {
  user: string;
  granted_by: string;
  created_at: string;
}

export interface Version {
  version: number;
  /** `sha256:<hex>` of the bundle. */
  digest: string;
  bundle_size: number;
  bundle_files: number;
  published_by: string;
  created_at: string;
}

export interface VersionDetail extends Version {
  owner: string;
  name: string;
  manifest: Manifest;
}

export interface Step {
  name: string;
  title: string;
  description: string;
}

export interface Provenance {
  sdk: string;
  python: string;
  platform: string;
  packages: Record<string, string>;
  git?: { commit: string; branch?: string; dirty: boolean };
}

export interface Manifest {
  schema: string;
  name: string;
  title: string;
  description: string;
  tags: string[];
  runtime: { kind: string; python: string; entry: string; requirements: string[] };
  init: Component[];
  steps: Step[];
  provenance: Provenance;
}

/** `pending`, `building`, `ready`, or `failed` with the reason. */
export interface Environment {
  key: string;
  status: "pending" | "building" | "ready" | "failed";
  reason?: string;
  /** The build's output: only for the model's owner and admins. */
  log?: string | null;
}

/** A file: exactly one of `data`, `id` or `path`, and what is known of it. */
export interface FileRef {
  data?: string;
  id?: string;
  path?: string;
  name?: string;
  type?: string;
  size?: number;
}

/** A file stored on the server, as `POST /api/v1/files` answers. */
export interface StoredFile {
  id: string;
  name?: string;
  type: string;
  size: number;
}

interface Base<T extends string> {
  id: string;
  type: T;
  title?: string;
  description?: string;
  required?: boolean;
}

export type CellType = "string" | "number" | "integer" | "boolean";
export type Cell = string | number | boolean | null;

export interface TextIn extends Base<"Text.In"> {
  default_text?: string;
  num_inputs?: number;
  max_chars?: number;
  placeholder?: string;
  multiline?: boolean;
}
export interface NumberIn extends Base<"Number.In"> {
  min?: number;
  max?: number;
  step?: number;
  default?: number;
  integer?: boolean;
}
export interface Slider extends Base<"Slider"> {
  min: number;
  max: number;
  step?: number;
  default?: number;
}
export interface Checkbox extends Base<"Checkbox"> {
  default?: boolean;
}
export interface SelectOne extends Base<"List.SelectOne"> {
  items: string[];
  style?: "radio" | "dropdown";
  default?: string;
}
export interface SelectMulti extends Base<"List.SelectMulti"> {
  items: string[];
  style?: "checkbox" | "dropdown";
  min_selected?: number;
  max_selected?: number;
  default?: string[];
}
export interface FileUpload extends Base<"File.Upload"> {
  types?: string[];
  min_files?: number;
  max_files?: number;
  max_size?: number;
}
export interface ImageUpload extends Base<"Image.Upload"> {
  types?: string[];
  max_size?: number;
}
export interface ImageWithSelectOne extends Base<"Image.WithSelectOne"> {
  images: FileRef[];
  lists: string[][];
  captions?: string[];
  default?: string[];
}
export interface ImageWithSelectMulti extends Base<"Image.WithSelectMulti"> {
  images: FileRef[];
  lists: string[][];
  captions?: string[];
}
export interface ImageWithTextIn extends Base<"Image.WithTextIn"> {
  images: FileRef[];
  captions?: string[];
  default_text?: string[];
  max_chars?: number;
}
export interface DocumentWithTextIn extends Base<"Document.WithTextIn"> {
  documents: string[];
  titles?: string[];
  default_text?: string[];
  max_chars?: number;
}
export interface TableIn extends Base<"Table.In"> {
  columns: { name: string; type?: CellType }[];
  min_rows?: number;
  max_rows?: number;
  default?: Cell[][];
}
export interface TextView extends Base<"Text.View"> {
  text: string;
}
export interface MarkdownView extends Base<"Markdown.View"> {
  text: string;
}
export interface JsonView extends Base<"Json.View"> {
  data: Json;
}
export interface Label extends Base<"Label"> {
  confidences: Record<string, number>;
  label?: string;
  num_top_classes?: number;
}
export interface TableView extends Base<"Table.View"> {
  columns: string[];
  rows: Cell[][];
}
export interface ImageView extends Base<"Image.View"> {
  images: FileRef[];
  captions?: string[];
}
export interface DocumentView extends Base<"Document.View"> {
  documents: string[];
  titles?: string[];
}
export interface FileDownload extends Base<"File.Download"> {
  files: FileRef[];
}

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
  | TableIn;

export type ViewComponent =
  | TextView
  | MarkdownView
  | JsonView
  | Label
  | TableView
  | ImageView
  | DocumentView
  | FileDownload;

export type Component = InputComponent | ViewComponent;

/** One step that ran. */
export interface StepView {
  index: number;
  name: string;
  title: string;
  /** The answers it was given, files as stored references; null for a failed step. */
  inputs: Record<string, Json> | null;
  outputs: Component[];
  error: { code: string; message: string } | null;
  created_at: string;
}

export interface NextStep {
  index: number;
  name: string;
  title: string;
  description: string;
  components: Component[];
}

export type RunStatus = "awaiting_input" | "running" | "completed" | "failed";

export interface RunView {
  id: string;
  /** `owner/name`. */
  model: string;
  version: number;
  status: RunStatus;
  steps: StepView[];
  next: NextStep | null;
  created_at: string;
  updated_at: string;
}

/** A problem with a value, located by a JSON Pointer such as `/inputs/image/size`. */
export interface Problem {
  path: string;
  reason: string;
}

/** The body of every error response. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: {
      problems?: Problem[];
      traceback?: string;
      run?: string;
      reason?: string;
      [key: string]: Json | Problem[] | undefined;
    } | null;
  };
}
