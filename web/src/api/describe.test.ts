import { describe, expect, it } from "vitest";
import { ApiError } from "./client";
import { describeError } from "./describe";

describe("describeError", () => {
  it("says what a worker's failure means, keeping its message and traceback", () => {
    const e = new ApiError(500, "step_failed", 'step "classify" raised ValueError: bad', {
      traceback: "Traceback ...",
      run: "r_1",
    });
    expect(describeError(e)).toEqual({
      title: "The model raised an error",
      message: 'step "classify" raised ValueError: bad',
      traceback: "Traceback ...",
      run: "r_1",
    });
  });

  it("covers timeouts, crashes, environments and the network", () => {
    expect(describeError(new ApiError(504, "step_timeout", "over 60 s")).title).toBe("The step took too long");
    expect(describeError(new ApiError(502, "worker_crashed", "the worker died")).message).toContain("Trying again");
    const env = new ApiError(409, "environment_not_ready", "this version cannot run yet: building", { reason: "uv failed" });
    expect(describeError(env)).toMatchObject({ title: "This version is not ready to run yet", message: expect.stringContaining("uv failed") });
    expect(describeError(new ApiError(0, "network", "the server could not be reached")).title).toBe("No connection");
    const racing = new ApiError(409, "step_in_progress", "run r_1's step is already being answered by another request");
    expect(describeError(racing)).toMatchObject({ title: "This step is already being answered", message: expect.stringContaining("reload") });
    expect(describeError(new Error("boom"))).toEqual({ title: "Something went wrong", message: "boom" });
  });
});
