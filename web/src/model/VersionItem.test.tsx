import { describe, expect, it } from "vitest";
import { buildLogAbsent } from "./VersionItem";

describe("buildLogAbsent", () => {
  it("waits for output while building, and says who may read a finished build's log", () => {
    expect(buildLogAbsent("pending")).toBe("No build output yet.");
    expect(buildLogAbsent("building")).toBe("No build output yet.");
    expect(buildLogAbsent("failed")).toContain("owner");
    expect(buildLogAbsent("ready")).toContain("admins");
  });
});
