import { render, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BundleContext } from "../catalogue/bundle";
import { signIn, signOut } from "../session";
import { RefImage } from "../widgets/views/RefImage";

const url = "/api/v1/models/alice/pets/versions/3/files/samples/dot.png";

function show() {
  return render(
    <BundleContext.Provider value={{ owner: "alice", name: "pets", version: 3 }}>
      <RefImage image={{ path: "samples/dot.png" }} alt="a dot" />
    </BundleContext.Provider>,
  );
}

describe("files of the server on screen", () => {
  afterEach(() => {
    signOut();
    vi.unstubAllGlobals();
  });

  it("signed out, an image loads from its own address", () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    const { container } = show();
    expect(container.querySelector("img")?.getAttribute("src")).toBe(url);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("signed in, an image is fetched with the token (a private model's needs it) and shown from an object URL", async () => {
    const asked: [string, Record<string, string>][] = [];
    vi.stubGlobal("fetch", async (u: string, init: RequestInit) => {
      asked.push([u, init.headers as Record<string, string>]);
      return new Response(new Blob(["\x89PNG"]), { status: 200, headers: { "content-type": "image/png" } });
    });
    const revoked: string[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: () => "blob:dot", revokeObjectURL: (u: string) => revoked.push(u) }));
    signIn({ token: "ftr_secret", user: "alice" });
    const { container, unmount } = show();
    await waitFor(() => expect(container.querySelector("img")?.getAttribute("src")).toBe("blob:dot"));
    expect(asked).toEqual([[url, { authorization: "Bearer ftr_secret" }]]);
    unmount();
    expect(revoked).toEqual(["blob:dot"]);
  });
});
