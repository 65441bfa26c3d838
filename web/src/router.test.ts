import { describe, expect, it } from "vitest";
import { modelHref, parseRoute, runHref } from "./router";

describe("parseRoute", () => {
  it("reads the home page and its query", () => {
    expect(parseRoute("/")).toEqual({ page: "home", q: "" });
    expect(parseRoute("/", "?q=digit")).toEqual({ page: "home", q: "digit" });
  });

  it("reads a model, with or without a version", () => {
    expect(parseRoute("/m/demo/digits")).toEqual({ page: "model", owner: "demo", name: "digits", tab: "use" });
    expect(parseRoute("/m/owner/name@3")).toEqual({
      page: "model",
      owner: "owner",
      name: "name",
      version: "3",
      tab: "use",
    });
    expect(parseRoute("/m/owner/name@latest", "?tab=api")).toMatchObject({ version: "latest", tab: "api" });
  });

  it("falls back to the Use tab for an unknown tab", () => {
    expect(parseRoute("/m/a/b", "?tab=nope")).toMatchObject({ tab: "use" });
  });

  it("reads a run", () => {
    expect(parseRoute("/r/r_abc123")).toEqual({ page: "run", id: "r_abc123" });
  });

  it("reads the signed-in user's page", () => {
    expect(parseRoute("/me")).toEqual({ page: "me" });
  });

  it("refuses malformed paths", () => {
    expect(parseRoute("/m/demo")).toMatchObject({ page: "not-found" });
    expect(parseRoute("/m/demo/digits@")).toMatchObject({ page: "not-found" });
    expect(parseRoute("/r/a/b")).toMatchObject({ page: "not-found" });
    expect(parseRoute("/m/%E0%A4%A/x")).toMatchObject({ page: "not-found" });
  });

  it("round-trips the links it makes", () => {
    expect(parseRoute(modelHref("demo", "digits", 3))).toMatchObject({ name: "digits", version: "3" });
    const [path, search] = modelHref("demo", "digits", undefined, "versions").split("?");
    expect(parseRoute(path!, `?${search}`)).toMatchObject({ tab: "versions" });
    expect(parseRoute(runHref("r_1"))).toEqual({ page: "run", id: "r_1" });
  });
});
