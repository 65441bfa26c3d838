import { fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { beforeEach, describe, expect, it } from "vitest";
import type { Grant, Model } from "../api/types";
import { MePage } from "../pages/Me";
import { signIn } from "../session";
import { fakeApi } from "../test/api";
import { SharingPanel } from "./SharingPanel";

const base = "/api/v1/models/alice/digits";

const model = (visibility: "public" | "private"): Model => ({
  owner: "alice",
  name: "digits",
  title: "Digits",
  description: "",
  tags: [],
  visibility,
  latest_version: null,
  aliases: {},
  versions: 0,
  runs: 0,
  created_at: "",
  updated_at: "",
});

const grant = (user: string): Grant => ({ user, granted_by: "alice", created_at: "2024-03-01T00:00:00Z" });

beforeEach(() => signIn({ token: "ftr_session", user: "alice" }));

describe("SharingPanel", () => {
  it("makes a public model private with PATCH and then marks it and lists its shares", async () => {
    const api = fakeApi({
      "GET /api/v1/models?owner=alice&per_page=100": { body: { models: [model("public")], page: 1, per_page: 100, total: 1 } },
      [`GET ${base}/versions`]: { body: { versions: [] } },
      [`PATCH ${base}`]: { body: model("private") },
      [`GET ${base}/grants`]: { body: { grants: [grant("bob")] } },
      "GET /api/v1/me": { body: { user: "alice", role: "developer", scopes: ["run"], token: 1, expires_at: null } },
      "GET /api/v1/tokens": { body: { tokens: [] } },
    });
    render(<MePage />);
    const makePrivate = await screen.findByRole("button", { name: "Make private" });
    expect(screen.queryByText("private")).toBeNull();
    fireEvent.click(makePrivate);
    expect(await screen.findByRole("button", { name: "Make public" })).toBeTruthy();
    expect(api.to("PATCH", base).map((r) => r.body)).toEqual([{ visibility: "private" }]);
    const title = screen.getByRole("heading", { name: /Digits/ });
    expect(within(title).getByText("private").className).toContain("badge--warn");
    expect(await screen.findByText("bob")).toBeTruthy();
    expect(api.to("GET", `${base}/grants`)).toHaveLength(1);
  });

  it("lists nobody for a public model and asks nothing about it", async () => {
    const api = fakeApi({});
    render(<SharingPanel owner="alice" name="digits" visibility="public" onChanged={() => {}} />);
    expect(screen.getByText(/anyone can find it and run it/)).toBeTruthy();
    expect(screen.queryByLabelText("Share with user")).toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    expect(api.sent).toHaveLength(0);
  });

  it("shares a private model with a user and takes it back", async () => {
    let users = ["bob"];
    const api = fakeApi({
      [`GET ${base}/grants`]: () => ({ body: { grants: users.map(grant) } }),
      [`PUT ${base}/grants/carol`]: () => {
        users = [...users, "carol"];
        return { status: 204 };
      },
      [`DELETE ${base}/grants/bob`]: () => {
        users = users.filter((u) => u !== "bob");
        return { status: 204 };
      },
    });
    render(<SharingPanel owner="alice" name="digits" visibility="private" onChanged={() => {}} />);
    expect(await screen.findByText("bob")).toBeTruthy();
    fireEvent.input(screen.getByLabelText("Share with user"), { target: { value: " carol " } });
    fireEvent.click(screen.getByRole("button", { name: "Share" }));
    expect(await screen.findByText("carol")).toBeTruthy();
    expect(api.sent.filter((r) => r.method === "PUT").map((r) => r.path)).toEqual([`${base}/grants/carol`]);
    expect((screen.getByLabelText("Share with user") as HTMLInputElement).value).toBe("");
    fireEvent.click(screen.getByRole("button", { name: "Stop sharing with bob" }));
    await waitFor(() => expect(screen.queryByText("bob")).toBeNull());
    expect(api.sent.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`${base}/grants/bob`]);
    expect(screen.getByText("carol")).toBeTruthy();
  });

  it("shows why a share was refused and keeps the name typed", async () => {
    fakeApi({
      [`GET ${base}/grants`]: { body: { grants: [] } },
      [`PUT ${base}/grants/nobody`]: { status: 404, body: { error: { code: "not_found", message: "no user nobody" } } },
    });
    render(<SharingPanel owner="alice" name="digits" visibility="private" onChanged={() => {}} />);
    expect(await screen.findByText("Nobody yet.")).toBeTruthy();
    fireEvent.input(screen.getByLabelText("Share with user"), { target: { value: "nobody" } });
    fireEvent.click(screen.getByRole("button", { name: "Share" }));
    expect(await screen.findByText("no user nobody")).toBeTruthy();
    expect((screen.getByLabelText("Share with user") as HTMLInputElement).value).toBe("nobody");
  });
});
