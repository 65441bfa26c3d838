// The models on this server, searched as you type; the query lives in the address.

import { useEffect, useState } from "preact/hooks";
import { searchModels } from "../api/endpoints";
import type { Model } from "../api/types";
import { useTitle } from "../hooks/useTitle";
import { ModelCard } from "../model/ModelCard";
import { homeHref, navigate } from "../router";
import { ErrorBox } from "../ui/ErrorBox";
import { Busy } from "../ui/Spinner";

const PER_PAGE = 24;

export function HomePage({ q }: { q: string }) {
  useTitle(q ? `Models matching “${q}”` : "Models");
  const [text, setText] = useState(q);
  const [models, setModels] = useState<Model[] | null>(null);
  const [total, setTotal] = useState(0);
  // A new query starts again from its first page.
  const [paging, setPaging] = useState({ q, page: 1 });
  const page = paging.q === q ? paging.page : 1;
  const [error, setError] = useState<unknown>(null);

  // Back and forward change the query under the search box: show it.
  useEffect(() => {
    if (q !== text.trim()) setText(q);
  }, [q]);

  // Typing waits a moment before it searches, and replaces the address rather than piling up history.
  useEffect(() => {
    if (text === q) return;
    const t = window.setTimeout(() => navigate(homeHref(text.trim()), { replace: true }), 250);
    return () => window.clearTimeout(t);
  }, [text]);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    searchModels({ q, page, per_page: PER_PAGE }, abort.signal).then(
      (r) => {
        setModels((old) => (page === 1 || !old ? r.models : [...old, ...r.models]));
        setTotal(r.total);
      },
      (e: unknown) => !abort.signal.aborted && setError(e),
    );
    return () => abort.abort();
  }, [q, page]);

  return (
    <div class="page home-page">
      <header class="page-header hero">
        <h1>Models</h1>
        <p class="muted">Run a model in the browser, or call it from your code.</p>
        <form
          class="search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(homeHref(text.trim()), { replace: true });
          }}
        >
          <label for="search" class="visually-hidden">
            Search models
          </label>
          <input
            id="search"
            type="search"
            placeholder="Search by name, owner or description"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </form>
      </header>
      {error !== null && <ErrorBox error={error} />}
      {models === null && error === null && <Busy text="Loading models…" />}
      {models !== null && (
        <>
          <p class="muted" role="status">
            {total === 0 ? (q ? `No model matches “${q}”.` : "No models yet.") : `${total} model${total === 1 ? "" : "s"}`}
          </p>
          <ul class="model-grid">
            {models.map((m) => (
              <ModelCard key={`${m.owner}/${m.name}`} m={m} />
            ))}
          </ul>
          {models.length < total && (
            <button type="button" class="button" onClick={() => setPaging({ q, page: page + 1 })}>
              Show more
            </button>
          )}
        </>
      )}
    </div>
  );
}
