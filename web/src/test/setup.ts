// Each test starts from an empty page and an empty localStorage.
import { cleanup } from "@testing-library/preact";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
  localStorage.clear();
});
