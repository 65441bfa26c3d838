import { fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { beforeEach, describe, expect, it } from "vitest";
import type { Me, TokenInfo } from "../api/types";
import { MePage } from "../pages/Me";
import { session, signIn } from "../session";
import { fakeApi, type Routes } from "../test/api";
import { offeredScopes } from "./NewTokenForm";
import { TokensPanel } from "./TokensPanel";

const me: Me = { user: "alice", role: "developer", scopes: ["publish", "run"], token: 3, expires_at: null };

const token = (t: Partial<TokenInfo> & { id: number }): TokenInfo => ({
  user: "alice",
  label: null,
  prefix: `ftr_00000${t.id}`,
  scopes: ["run"],
  created_at: "2024-01-01T00:00:00Z",
  expires_at: null,
  revoked_at: null,
  ...t,
});

const tokens = [
  token({ id: 4, label: "laptop", expires_at: "2999-06-01T00:00:00Z" }),
  token({ id: 3, scopes: ["publish", "run"] }),
  token({ id: 2, label: "ci", expires_at: "2001-01-01T00:00:00Z" }),
  token({ id: 1, label: "old", revoked_at: "2024-05-01T10:00:00Z" }),
];

const routes = (extra: Routes = {}): Routes => ({
  "GET /api/v1/me": { body: me },
  "GET /api/v1/tokens": { body: { tokens } },
  ...extra,
});

/** The list item of the token with this label or prefix. */
const item = async (text: string) => (await screen.findByText(text)).closest("li")!;

beforeEach(() => signIn({ token: "ftr_session", user: "alice" }));

describe("TokensPanel", () => {
  it("shows each token's state and which one this session uses", async () => {
    const api = fakeApi(routes());
    render(<TokensPanel />);
    const laptop = await item("laptop");
    expect(within(laptop).getByText(`expires ${new Date("2999-06-01T00:00:00Z").toLocaleDateString()}`)).toBeTruthy();
    expect(within(laptop).queryByText("(this session)")).toBeNull();
    const mine = await item("ftr_000003…");
    expect(within(mine).getByText("(this session)")).toBeTruthy();
    expect(within(mine).getByText("active")).toBeTruthy();
    expect(within(mine).getByText("publish")).toBeTruthy();
    const ci = await item("ci");
    expect(within(ci).getByText("expired")).toBeTruthy();
    expect(within(ci).queryByRole("button", { name: "Revoke" })).toBeNull();
    const old = await item("old");
    expect(within(old).getByText(`revoked ${new Date("2024-05-01T10:00:00Z").toLocaleDateString()}`)).toBeTruthy();
    expect(within(old).queryByRole("button", { name: "Revoke" })).toBeNull();
    expect(screen.getAllByRole("button", { name: "Revoke" })).toHaveLength(2);
    expect(screen.getAllByText("(this session)")).toHaveLength(1);
    expect(api.to("GET", "/api/v1/tokens")[0]!.authorization).toBe("Bearer ftr_session");
  });

  it("creates a token from the form and shows its secret once", async () => {
    const api = fakeApi(
      routes({
        "POST /api/v1/tokens": { status: 201, body: { ...token({ id: 5, label: "ci box" }), token: "ftr_secret_5" } },
      }),
    );
    render(<TokensPanel />);
    const publish = (await screen.findByLabelText("publish")) as HTMLInputElement;
    expect(publish.checked).toBe(true);
    expect((screen.getByLabelText("run") as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByLabelText("admin")).toBeNull();
    fireEvent.click(publish);
    fireEvent.input(screen.getByLabelText(/^Label/), { target: { value: " ci box " } });
    fireEvent.input(screen.getByLabelText(/^Expires in days/), { target: { value: "30" } });
    fireEvent.click(screen.getByRole("button", { name: "Create token" }));
    expect(await screen.findByText("ftr_secret_5")).toBeTruthy();
    expect(api.to("POST", "/api/v1/tokens").map((r) => r.body)).toEqual([
      { scopes: ["run"], label: "ci box", expires_in_days: 30 },
    ]);
    expect(screen.getByText(/will not be shown again/)).toBeTruthy();
    await waitFor(() => expect(api.to("GET", "/api/v1/tokens")).toHaveLength(2));
    expect((screen.getByLabelText(/^Label/) as HTMLInputElement).value).toBe("");
    fireEvent.click(screen.getByRole("button", { name: "Done, hide it" }));
    expect(screen.queryByText("ftr_secret_5")).toBeNull();
  });

  it("leaves out what it would not send and shows the server's refusal", async () => {
    const api = fakeApi(
      routes({
        "POST /api/v1/tokens": {
          status: 403,
          body: { error: { code: "forbidden", message: "this token lacks the `admin` scope, so it cannot give it" } },
        },
      }),
    );
    render(<TokensPanel />);
    fireEvent.click(await screen.findByRole("button", { name: "Create token" }));
    expect(await screen.findByText(/lacks the `admin` scope/)).toBeTruthy();
    expect(api.to("POST", "/api/v1/tokens")[0]!.body).toEqual({ scopes: ["publish", "run"] });
    expect(screen.queryByText(/will not be shown again/)).toBeNull();
  });

  it("offers only the scopes the session's token has, and any to an admin", () => {
    expect(offeredScopes({ ...me, scopes: ["run"] })).toEqual(["run"]);
    expect(offeredScopes({ ...me, role: "admin", scopes: ["run"] })).toEqual(["run"]);
    expect(offeredScopes({ ...me, role: "admin", scopes: ["admin"] })).toEqual(["publish", "run", "admin"]);
  });

  it("revokes another token and reloads the list", async () => {
    const api = fakeApi(routes({ "DELETE /api/v1/tokens/4": { body: tokens[0] } }));
    render(<TokensPanel />);
    fireEvent.click(within(await item("laptop")).getByRole("button", { name: "Revoke" }));
    expect(screen.getByText("Revoke laptop? Whatever uses it is refused from now on.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Revoke the token" }));
    await waitFor(() => expect(api.to("DELETE", "/api/v1/tokens/4")).toHaveLength(1));
    await waitFor(() => expect(api.to("GET", "/api/v1/tokens")).toHaveLength(2));
    expect(session()).not.toBeNull();
  });

  it("signs out after revoking the session's own token", async () => {
    const api = fakeApi(
      routes({
        "GET /api/v1/models?owner=alice&per_page=100": { body: { models: [], page: 1, per_page: 100, total: 0 } },
        "DELETE /api/v1/tokens/3": { body: tokens[1] },
      }),
    );
    render(<MePage />);
    fireEvent.click(within(await item("ftr_000003…")).getByRole("button", { name: "Revoke" }));
    expect(screen.getByText(/You will be signed out/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Revoke the token" }));
    expect(await screen.findByRole("heading", { name: "Sign in with a token" })).toBeTruthy();
    expect(api.to("DELETE", "/api/v1/tokens/3")).toHaveLength(1);
    expect(session()).toBeNull();
  });
});
