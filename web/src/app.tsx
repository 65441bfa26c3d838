// The page frame (header, main, footer) and the page the address asks for.

import { useEffect } from "preact/hooks";
import { platformOpenApiUrl } from "./api/endpoints";
import { useTitle } from "./hooks/useTitle";
import { HomePage } from "./pages/Home";
import { MePage } from "./pages/Me";
import { ModelPage } from "./pages/Model";
import { RunPage } from "./pages/Run";
import { homeHref, onLinkClick, type Route, useRoute } from "./router";
import { useSession } from "./session";

function NotFound({ path }: { path: string }) {
  useTitle("Not found");
  return (
    <div class="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <a href={homeHref()}>See the models</a>.
      </p>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "home":
      return <HomePage q={route.q} />;
    case "model":
      return <ModelPage key={`${route.owner}/${route.name}`} {...route} version={route.version} />;
    case "run":
      return <RunPage key={route.id} id={route.id} />;
    case "me":
      return <MePage />;
    case "not-found":
      return <NotFound path={route.path} />;
  }
}

export function App() {
  const route = useRoute();
  const session = useSession();
  useEffect(() => {
    document.addEventListener("click", onLinkClick);
    return () => document.removeEventListener("click", onLinkClick);
  }, []);
  // A new page moves the focus to its content, as a full page load would.
  useEffect(() => {
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [route.page, route.page === "run" ? route.id : route.page === "model" ? `${route.owner}/${route.name}` : ""]);
  return (
    <>
      <a class="skip-link" href="#main" data-native>
        Skip to the content
      </a>
      <header class="site-header">
        <div class="site-header-inner">
          <a class="brand" href={homeHref()}>
            <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
              <path d="M26 4C14 6 7 13 6 26l3 2c1-5 3-9 6-12-2 4-3 7-3 11 9-1 15-8 14-23z" fill="currentColor" />
            </svg>
            feather
          </a>
          <nav class="site-nav" aria-label="Site">
            <a href={homeHref()} aria-current={route.page === "home" ? "page" : undefined}>
              Models
            </a>
            <a href="/me" aria-current={route.page === "me" ? "page" : undefined}>
              {session ? "My models" : "Sign in"}
            </a>
          </nav>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
      <footer class="site-footer">
        <a href={platformOpenApiUrl}>API reference (OpenAPI)</a>
      </footer>
    </>
  );
}
