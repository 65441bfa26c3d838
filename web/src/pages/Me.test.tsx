import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { session } from "../session";
import { fakeApi } from "../test/api";
import { MePage } from "./Me";

describe("MePage", () => {
  it("signs in as the user the server says the typed token belongs to", async () => {
    const api = fakeApi({
      "GET /api/v1/me": { body: { user: "alice", role: "developer", scopes: ["run"], token: 7, expires_at: null } },
    });
    render(<MePage />);
    fireEvent.input(screen.getByLabelText("Token"), { target: { value: " ftr_typed " } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(session()).toEqual({ token: "ftr_typed", user: "alice" }));
    expect(api.to("GET", "/api/v1/me")[0]!.authorization).toBe("Bearer ftr_typed");
  });
});
