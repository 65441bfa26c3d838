// Errors in words a person can act on: what happened, and the worker's own message when a
// model's code failed.

import { ApiError } from "./client";

export interface Described {
  title: string;
  message: string;
  /** The Python traceback, shown to the model's owner only. */
  traceback?: string;
  /** The run the error happened in, when one was recorded. */
  run?: string;
}

export function describeError(e: unknown): Described {
  if (!(e instanceof ApiError)) {
    return { title: "Something went wrong", message: e instanceof Error ? e.message : String(e) };
  }
  const extra: Pick<Described, "traceback" | "run"> = {};
  if (typeof e.details.traceback === "string") extra.traceback = e.details.traceback;
  if (typeof e.details.run === "string") extra.run = e.details.run;
  const d = (title: string, message = e.message): Described => ({ title, message, ...extra });
  switch (e.code) {
    case "step_failed":
      return d("The model raised an error");
    case "worker_crashed":
      return d("The model's worker stopped unexpectedly", `${e.message}. Trying again usually works.`);
    case "step_timeout":
      return d("The step took too long", e.message);
    case "environment_not_ready":
      return d(
        "This version is not ready to run yet",
        typeof e.details.reason === "string" ? `${e.message} (${e.details.reason})` : e.message,
      );
    case "invalid_inputs":
      return d("Some answers need a change");
    case "step_in_progress":
      return d("This step is already being answered", "Another request is running it; reload the run to see its outcome.");
    case "too_large":
      return d("Too large", e.message);
    case "unauthorized":
      return d("Sign in again", `${e.message}. The token may have been revoked.`);
    case "forbidden":
      return d("Not allowed", e.message);
    case "not_found":
      return d("Not found");
    case "network":
      return d("No connection");
    default:
      return d(e.status >= 500 ? "The server had a problem" : "The request was refused");
  }
}
