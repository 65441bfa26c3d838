// @ts-check
// End-to-end checks of the portal in a real browser against a running feather with the demo
// models (`feather demo`): a digit classified, a two-step review walked through and its CSV
// downloaded, a wrong file refused, a run reopened by its address after a reload, the iris form
// used from the keyboard, a model deployed from a fitted object filled from its examples, a
// tensor loaded from a .npy file, signing in to make a model private and a token, and no sideways
// scrolling at 375 px.
//
//   FEATHER_URL=http://127.0.0.1:5173 node e2e/portal.mjs
//
// FEATHER_URL is where the portal is served (`npm run dev`, or feather itself once it embeds
// the build). CHROMIUM names the browser (default /usr/bin/chromium); SAMPLES the folder of
// digit images that examples/digits/make_samples.py writes; TOKEN a token of the user `demo`.
// Screenshots go to test-results/.

import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FEATHER_URL ?? "http://127.0.0.1:5173").replace(/\/$/, "");
const SAMPLES = resolve(process.env.SAMPLES ?? join(here, "../../examples/digits/samples"));
const TENSORS = join(here, "../../examples/text-direction/samples");
const RESULTS = join(here, "../test-results");
const TIMEOUT = 90_000;

/** @typedef {import("playwright-core").Page} Page */

/** @param {Page} page @param {string} name */
const shot = (page, name) => page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });

/**
 * Waits until `read` gives `want`: a field shows its new value a render after the click.
 * @param {() => Promise<string>} read @param {string} want
 */
async function until(read, want) {
  const end = Date.now() + TIMEOUT;
  for (;;) {
    const got = await read();
    if (got === want || Date.now() > end) return assert.equal(got, want);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** @type {[string, (page: Page) => Promise<void>][]} */
const checks = [
  [
    "digits: an uploaded digit gets its label",
    async (page) => {
      await page.goto(`${BASE}/m/demo/digits`);
      await page.getByLabel("A digit").setInputFiles(join(SAMPLES, "digit-7.png"));
      await page.getByRole("button", { name: "Run" }).click();
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      await page.locator(".label-predicted-name").waitFor({ timeout: TIMEOUT });
      assert.equal(await page.locator(".label-predicted-name").textContent(), "7");
      // The title is set in an effect, after the render that shows the label.
      await page.waitForFunction(() => /digits/.test(document.title), undefined, { timeout: TIMEOUT });
      await shot(page, "digits-label");
    },
  ],
  [
    "digits: an example's picture fills the form and runs",
    async (page) => {
      await page.goto(`${BASE}/m/demo/digits`);
      const examples = page.getByRole("region", { name: "Examples" });
      await examples.getByRole("img", { name: "digit-7.png" }).waitFor({ timeout: TIMEOUT });
      await page.getByRole("button", { name: "Fill the form with example 2" }).click();
      await page.getByRole("button", { name: "Remove digit-7.png" }).waitFor({ timeout: TIMEOUT });
      await shot(page, "digits-example-filled");
      await page.getByRole("button", { name: "Run" }).click();
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      await page.locator(".label-predicted-name").waitFor({ timeout: TIMEOUT });
      assert.equal(await page.locator(".label-predicted-name").textContent(), "7");
      await shot(page, "digits-example-label");
    },
  ],
  [
    "digits: a file of the wrong type is refused before upload",
    async (page) => {
      await page.goto(`${BASE}/m/demo/digits`);
      await page.getByLabel("A digit").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
      const alert = page.getByRole("alert").first();
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? "", /notes\.txt is not an accepted type/);
      await page.getByRole("button", { name: "Run" }).click();
      await page.getByText("Choose an image").waitFor();
      assert.equal(new URL(page.url()).pathname, "/m/demo/digits");
      await shot(page, "digits-wrong-type");
    },
  ],
  [
    "review: both steps, then the CSV; the run reopens by its address",
    async (page) => {
      await page.goto(`${BASE}/m/demo/review`);
      const images = ["digit-7.png", "digit-4-dark.jpg", "digit-3.png"].map((f) => join(SAMPLES, f));
      await page.getByLabel("Images").setInputFiles(images);
      await page.getByRole("button", { name: "Run" }).click();
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      const next = page.locator(".step-next");
      await next.waitFor({ timeout: TIMEOUT });
      await shot(page, "review-step-1");

      // Correct the first image's label: the model's second guess.
      const first = next.locator(".item-card").first().getByRole("radio");
      const corrected = (await first.nth(1).getAttribute("id")) ?? "";
      await first.nth(1).check();
      const label = (await next.locator(`label[for="${corrected}"], label:has(#${corrected})`).first().textContent())?.trim();
      await page.getByRole("button", { name: "Finish" }).click();
      const link = page.getByRole("link", { name: "labels.csv" });
      await link.waitFor({ timeout: TIMEOUT });
      await page.getByText("The model was right about 2 of 3").waitFor();
      await shot(page, "review-step-2");

      const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
      const csv = await readFile((await download.path()) ?? "", "utf8");
      const rows = csv.trim().split("\n");
      assert.match(rows[0] ?? "", /^image,model_guess,label,pixel_0/);
      assert.equal(rows.length, 4);
      assert.equal(rows[1]?.split(",")[2], label);

      // Another device, or a reload: the address alone brings the whole run back.
      const url = page.url();
      await page.reload();
      await page.getByText("The model was right about 2 of 3").waitFor({ timeout: TIMEOUT });
      const fresh = await page.context().browser()?.newPage();
      assert.ok(fresh);
      await fresh.goto(url);
      await fresh.getByRole("link", { name: "labels.csv" }).waitFor({ timeout: TIMEOUT });
      await fresh.locator(".step--done").nth(1).waitFor({ timeout: TIMEOUT });
      await shot(fresh, "review-reopened");
      await fresh.close();
    },
  ],
  [
    "iris: the form is filled in and sent from the keyboard",
    async (page) => {
      await page.goto(`${BASE}/m/demo/iris`);
      const fields = { "Sepal length (cm)": "5.1", "Sepal width (cm)": "3.5", "Petal length (cm)": "1.4", "Petal width (cm)": "0.2" };
      for (const [label, value] of Object.entries(fields)) {
        await page.getByLabel(label).focus();
        await page.keyboard.press("Control+A");
        await page.keyboard.type(value);
      }
      // From the last field, Tab reaches the Run button; Enter sends the form.
      for (let i = 0; i < 10; i++) {
        const focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
        if (focused === "Run") break;
        await page.keyboard.press("Tab");
      }
      assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Run");
      await page.keyboard.press("Enter");
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      await page.locator(".label-predicted-name").waitFor({ timeout: TIMEOUT });
      assert.equal(await page.locator(".label-predicted-name").textContent(), "setosa");
      await shot(page, "iris-keyboard");
    },
  ],
  [
    "iris-onnx: a model in the ONNX format runs in the server, its fields named by the model",
    async (page) => {
      await page.goto(`${BASE}/m/demo/iris-onnx`);
      const fields = { "sepal length (cm)": "6.7", "sepal width (cm)": "3.0", "petal length (cm)": "5.2", "petal width (cm)": "2.3" };
      for (const [label, value] of Object.entries(fields)) {
        await page.getByLabel(label).fill(value);
      }
      await page.getByRole("button", { name: "Run" }).click();
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      await page.locator(".label-predicted-name").waitFor({ timeout: TIMEOUT });
      assert.equal(await page.locator(".label-predicted-name").textContent(), "virginica");
      await shot(page, "iris-onnx");
    },
  ],
  [
    "wine: a model deployed from a fitted object fills its form from an example, and says how it runs",
    async (page) => {
      await page.goto(`${BASE}/m/demo/wine`);
      await page.getByRole("region", { name: "Examples" }).waitFor({ timeout: TIMEOUT });
      await page.getByRole("button", { name: "Fill the form with example 1" }).click();
      await until(() => page.getByLabel("alcohol", { exact: true }).inputValue(), "14.23");
      await page.getByRole("button", { name: "Run" }).click();
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      await page.locator(".label-predicted-name").waitFor({ timeout: TIMEOUT });
      assert.equal(await page.locator(".label-predicted-name").textContent(), "cultivar 1");
      // The version's own Versions tab opens its details.
      await page.goto(`${BASE}/m/demo/wine@1?tab=versions`);
      await page.getByText("Deployed from").waitFor({ timeout: TIMEOUT });
      await page.getByText(/converted by skl2onnx/).waitFor();
      await shot(page, "wine-deployed");
    },
  ],
  [
    "text-direction: a pretrained ONNX model's tensor loaded from a .npy file",
    async (page) => {
      await page.goto(`${BASE}/m/demo/text-direction`);
      await page.getByText("An array of float32, 3 × 48 × 192, as JSON").waitFor();
      await page.getByLabel("File for Line of text").setInputFiles(join(TENSORS, "upside_down.npy"));
      await page.getByText("Loaded upside_down.npy.").waitFor();
      await page.getByRole("button", { name: "Run" }).click();
      await page.waitForURL(/\/r\/[^/]+$/, { timeout: TIMEOUT });
      await page.locator(".label-predicted-name").waitFor({ timeout: TIMEOUT });
      assert.equal(await page.locator(".label-predicted-name").textContent(), "upside down");
      await shot(page, "text-direction");
    },
  ],
  [
    "signed in: a model made private and back, and a token made and shown once",
    async (page) => {
      const token = process.env.TOKEN;
      assert.ok(token, "set TOKEN to a token of the user demo");
      await page.goto(`${BASE}/me`);
      await page.getByRole("textbox", { name: "Token", exact: true }).fill(token);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "My models" }).waitFor();
      const iris = page.locator(".my-model").filter({ has: page.getByText("demo/iris", { exact: true }) });
      await iris.getByRole("button", { name: "Make private" }).click();
      await iris.getByRole("button", { name: "Make public" }).waitFor();
      const anonymous = await fetch(`${BASE}/api/v1/models/demo/iris`);
      assert.equal(anonymous.status, 404, "a private model is visible without a token");
      await iris.getByRole("button", { name: "Make public" }).click();
      await iris.getByRole("button", { name: "Make private" }).waitFor();
      assert.equal((await fetch(`${BASE}/api/v1/models/demo/iris`)).status, 200);

      // A private model's pictures show for who may see it: an <img> sends no token, so the
      // portal fetches them with the session's.
      const digits = page.locator(".my-model").filter({ has: page.getByText("demo/digits", { exact: true }) });
      await digits.getByRole("button", { name: "Make private" }).click();
      await digits.getByRole("button", { name: "Make public" }).waitFor();
      await page.goto(`${BASE}/m/demo/digits`);
      const seven = page.getByRole("region", { name: "Examples" }).getByRole("img", { name: "digit-7.png" });
      await seven.waitFor({ timeout: TIMEOUT });
      const shown = await seven.evaluate((element) => {
        const img = /** @type {HTMLImageElement} */ (element);
        return img.complete
          ? img.naturalWidth
          : new Promise((done) => {
              img.addEventListener("load", () => done(img.naturalWidth), { once: true });
              img.addEventListener("error", () => done(0), { once: true });
            });
      });
      assert.ok(shown > 0, "a private model's example picture did not load for its owner");
      await page.goto(`${BASE}/me`);
      await digits.getByRole("button", { name: "Make public" }).click();
      await digits.getByRole("button", { name: "Make private" }).waitFor();

      await page.getByLabel(/^Label/).fill("e2e laptop");
      await page.getByRole("button", { name: "Create token" }).click();
      const secret = page.locator(".new-token-secret code");
      await secret.waitFor();
      const made = (await secret.textContent()) ?? "";
      assert.match(made, /^ftr_[0-9a-f]{48}$/);
      const me = await fetch(`${BASE}/api/v1/me`, { headers: { authorization: `Bearer ${made}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json()).user, "demo");
      await page.getByRole("button", { name: "Done, hide it" }).click();
      assert.equal(await page.locator(".new-token-secret").count(), 0, "the secret is still shown");
      await page.locator(".token-item", { hasText: "e2e laptop" }).waitFor();
      await shot(page, "me-page");
    },
  ],
  [
    "at 375 px nothing scrolls sideways",
    async (page) => {
      await page.setViewportSize({ width: 375, height: 800 });
      for (const path of ["/", "/m/demo/review", "/m/demo/iris?tab=api", "/m/demo/digits?tab=versions", "/me"]) {
        await page.goto(`${BASE}${path}`);
        await page.locator("main h1").waitFor();
        const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        assert.ok(scroll <= width, `${path} is ${scroll}px wide at ${width}px`);
      }
      await shot(page, "narrow-me");
    },
  ],
];

async function main() {
  await mkdir(RESULTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failed = 0;
  for (const [name, check] of checks) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    /** @type {string[]} */
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await check(page);
      assert.deepEqual(errors, [], "the page threw");
      console.log(`ok   ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}\n     ${e instanceof Error ? e.message : e}`);
      await shot(page, `failed-${checks.findIndex(([n]) => n === name)}`).catch(() => {});
    } finally {
      await context.close();
    }
  }
  await browser.close();
  console.log(failed ? `${failed} of ${checks.length} failed` : `all ${checks.length} passed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
