import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { BundleContext } from "../catalogue/bundle";
import type { Component } from "../api/types";
import { StepForm } from "./StepForm";

const uploadFile = vi.fn(async (f: File) => ({ id: "f_up", name: f.name, type: f.type, size: f.size }));
vi.mock("../api/endpoints", () => ({
  uploadFile: (f: File) => uploadFile(f),
  fileUrl: (id: string) => `/api/v1/files/${id}`,
}));

const components: Component[] = [
  { id: "help", type: "Markdown.View", text: "Fill **both**." },
  { id: "count", type: "Number.In", title: "Count", min: 0, max: 10 },
  { id: "name", type: "Text.In", title: "Name" },
];

function setup(onSubmit: (inputs: unknown) => Promise<void>) {
  render(<StepForm formId="f" components={components} submitLabel="Run" onSubmit={onSubmit} />);
  return { run: () => fireEvent.submit(screen.getByRole("button", { name: "Run" }).closest("form")!) };
}

describe("StepForm", () => {
  it("shows views among the inputs and sends the answers", async () => {
    const onSubmit = vi.fn(async () => {});
    const { run } = setup(onSubmit);
    expect(screen.getByText("both").tagName).toBe("STRONG");
    fireEvent.input(screen.getByLabelText("Count"), { target: { value: "4" } });
    fireEvent.input(screen.getByLabelText("Name"), { target: { value: "Ada" } });
    run();
    await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ count: 4, name: "Ada" }));
  });

  it("checks before sending and shows the problem beside its field", async () => {
    const onSubmit = vi.fn(async () => {});
    const { run } = setup(onSubmit);
    fireEvent.input(screen.getByLabelText("Count"), { target: { value: "12" } });
    run();
    await screen.findByText("Must be at most 10");
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Count").getAttribute("aria-invalid")).toBe("true");
  });

  it("maps the server's 422 problems to their fields", async () => {
    const { run } = setup(async () => {
      throw new ApiError(422, "invalid_inputs", "the inputs are invalid", {
        problems: [{ path: "/inputs/name", reason: "must be at most 3 characters" }],
      });
    });
    fireEvent.input(screen.getByLabelText("Count"), { target: { value: "1" } });
    run();
    const message = await screen.findByText("Must be at most 3 characters");
    expect(screen.getByLabelText("Name").getAttribute("aria-describedby")).toContain(message.closest("ul")!.id);
  });

  it("shows a worker's error as a readable message and is busy while it runs", async () => {
    let fail: (e: unknown) => void = () => {};
    const { run } = setup(() => new Promise((_, reject) => (fail = reject)));
    fireEvent.input(screen.getByLabelText("Count"), { target: { value: "1" } });
    run();
    await waitFor(() => expect(screen.getByRole("button", { name: "Working…" })).toBeTruthy());
    expect(document.querySelector("form")!.getAttribute("aria-busy")).toBe("true");
    fail(new ApiError(500, "step_failed", 'step "classify" raised ValueError: bad pixels', { run: "r_1" }));
    await screen.findByText("The model raised an error");
    expect(screen.getByText('step "classify" raised ValueError: bad pixels')).toBeTruthy();
    expect(screen.getByRole("link", { name: "Open the run" }).getAttribute("href")).toBe("/r/r_1");
    expect(document.querySelector("form")!.getAttribute("aria-busy")).toBe("false");
  });

  it("fills the form with an example at a click, and sends it", async () => {
    const onSubmit = vi.fn(async () => {});
    const examples = [
      { count: 3, name: "Ada" },
      { count: 7, name: "Grace" },
    ];
    render(<StepForm formId="f" components={components} submitLabel="Run" onSubmit={onSubmit} examples={examples} />);
    const table = screen.getByRole("region", { name: "Examples" });
    expect(table.textContent).toContain("Grace");
    fireEvent.click(screen.getByRole("button", { name: "Fill the form with example 2" }));
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("Grace");
    expect((screen.getByLabelText("Count") as HTMLInputElement).value).toBe("7");
    fireEvent.submit(screen.getByRole("button", { name: "Run" }).closest("form")!);
    await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ count: 7, name: "Grace" }));
  });

  it("fills a file input with the file of the bundle an example names, and sends it by path", async () => {
    const fetched: string[] = [];
    vi.stubGlobal("fetch", async (url: string) => {
      fetched.push(url);
      return new Response(new Blob(["\x89PNG"]), { status: 200, headers: { "content-type": "image/png" } });
    });
    uploadFile.mockClear();
    const onSubmit = vi.fn(async () => {});
    const withImage: Component[] = [
      { id: "photo", type: "Image.Upload", title: "Photo", types: ["image/png"] },
      { id: "caption", type: "Text.In", title: "Caption" },
    ];
    const examples = [{ photo: { path: "samples/dot.png" }, caption: "a dot" }];
    render(
      <BundleContext.Provider value={{ owner: "alice", name: "pets", version: 3 }}>
        <StepForm formId="f" components={withImage} submitLabel="Run" onSubmit={onSubmit} examples={examples} />
      </BundleContext.Provider>,
    );
    const url = "/api/v1/models/alice/pets/versions/3/files/samples/dot.png";
    const table = screen.getByRole("region", { name: "Examples" });
    expect(table.querySelector("img")?.getAttribute("src")).toBe(url);
    fireEvent.click(screen.getByRole("button", { name: "Fill the form with example 1" }));
    await waitFor(() => expect((screen.getByLabelText("Caption") as HTMLInputElement).value).toBe("a dot"));
    expect(fetched).toEqual([url]);
    expect(screen.getByRole("button", { name: "Remove dot.png" })).toBeTruthy();
    fireEvent.submit(screen.getByRole("button", { name: "Run" }).closest("form")!);
    await waitFor(() =>
      expect(onSubmit).toHaveBeenCalledWith({ photo: { path: "samples/dot.png" }, caption: "a dot" }),
    );
    expect(uploadFile).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });

  it("shows no examples when there are none", () => {
    setup(async () => {});
    expect(screen.queryByRole("region", { name: "Examples" })).toBeNull();
  });
});
