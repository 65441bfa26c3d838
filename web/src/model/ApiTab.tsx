// How programs call this model: curl, Python and JavaScript, with its first example's inputs
// (else inputs made from its components), and its OpenAPI document.

import { useMemo, useState } from "preact/hooks";
import { modelOpenApiUrl, platformOpenApiUrl } from "../api/endpoints";
import type { VersionDetail } from "../api/types";
import { type Snippets, snippets } from "../snippets/snippets";
import { CopyButton } from "../ui/CopyButton";

const LANGS: { key: keyof Snippets; label: string }[] = [
  { key: "curl", label: "curl" },
  { key: "python", label: "Python" },
  { key: "javascript", label: "JavaScript" },
];

export function ApiTab({ detail, version }: { detail: VersionDetail; version: string | undefined }) {
  const [lang, setLang] = useState<keyof Snippets>("curl");
  const code = useMemo(
    () =>
      snippets({
        server: window.location.origin,
        owner: detail.owner,
        name: detail.name,
        ...(version !== undefined ? { version } : {}),
        manifest: detail.manifest,
      }),
    [detail, version],
  );
  const oneCall = detail.manifest.steps.length === 1;
  return (
    <div class="api-tab">
      <p>
        {oneCall
          ? "One call runs the model: send the inputs, get the outputs."
          : `This model runs in ${detail.manifest.steps.length} steps: start a run with the inputs, then answer each step the run waits for.`}{" "}
        Files are uploaded first and passed by id (or, as the examples do, named by their path in the version's bundle);
        output files are downloaded from <code>/api/v1/files/&lt;id&gt;</code>.
        No token is needed to run a public model.
      </p>
      <div class="segmented" role="group" aria-label="Language">
        {LANGS.map((l) => (
          <button
            key={l.key}
            type="button"
            class={`segment${lang === l.key ? " segment--on" : ""}`}
            aria-pressed={lang === l.key}
            onClick={() => setLang(l.key)}
          >
            {l.label}
          </button>
        ))}
      </div>
      <div class="code-block">
        <div class="code-actions">
          <CopyButton text={code[lang]} />
        </div>
        <pre tabIndex={0} aria-label={`${lang} example`}>
          <code>{code[lang]}</code>
        </pre>
      </div>
      <h2>Reference</h2>
      <ul>
        <li>
          <a href={modelOpenApiUrl(detail.owner, detail.name)} data-native>
            This model's OpenAPI document
          </a>{" "}
          (its inputs and outputs as JSON Schema)
        </li>
        <li>
          <a href={platformOpenApiUrl} data-native>
            The whole API's OpenAPI document
          </a>
        </li>
      </ul>
    </div>
  );
}
