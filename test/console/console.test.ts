import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createConfigLoader } from "../../src/config/load.js";
import { REDACTED } from "../../src/ingest/event.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import type { RunRecord } from "../../src/store/store.js";
import { eventually } from "../helpers/eventually.js";
import { startSink, type Sink } from "../helpers/sink.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import { tempProject, type TempProject } from "../helpers/temp-project.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** The README's screenshot is refreshed on request only, so a test run leaves the tree clean. */
const SCREENSHOT = process.env["UPDATE_SCREENSHOT"]
  ? path.join(REPO, "docs", "console-samples.png")
  : path.join(os.tmpdir(), "inlet-console-samples.png");
const ADMIN_TOKEN = "console-admin-token";
const SINK_TOKEN = "sink-secret-token";
const ENDPOINT = "5d9c1f3e-8a2b-4c6d-9e0f-1a2b3c4d5e6f";
/** Generous: the console polls every 2 s and Chromium in CI is slow to start. */
const UI_TIMEOUT_MS = 15_000;

const INTEGRATION = `kind: Integration
id: shop-cart
name: Cart events from the shop
endpoint: ${ENDPOINT}
auth:
  type: none
`;

const WORKFLOW = `kind: Workflow
id: forward-cart
trigger:
  type: business-event
  integration: shop-cart
nodes:
  - id: send-event
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK_URL }}/events"
    auth:
      type: bearer
      token: "{{ env.SINK_TOKEN }}"
    body:
      email: "{{ request.body.customer_email }}"
    retry: { attempts: 1 }
`;

function cart(orderNumber: string): Record<string, unknown> {
  return {
    order_number: orderNumber,
    customer_email: "example@example.com",
    products: [{ name: "Earwax", qty: 2 }],
    "a.b": "a key with a dot",
  };
}

// The server serves dist/console; build it from the current sources, as `npm run build` does.
beforeAll(async () => {
  await build({ configFile: path.join(REPO, "console", "vite.config.ts"), logLevel: "error" });
});

describe("serving the console", () => {
  let project: TempProject;
  let withToken: TestServer;
  let withoutToken: TestServer;

  beforeAll(async () => {
    project = await tempProject({ "integrations/shop.yaml": INTEGRATION });
    withToken = await startServer({ INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN_TOKEN });
    withoutToken = await startServer({ INLET_DIR: project.dir });
  });

  afterAll(async () => {
    await withToken?.shutdown();
    await withoutToken?.shutdown();
    project?.cleanup();
  });

  it("is off, like the admin API, when INLET_ADMIN_TOKEN is not set", async () => {
    const response = await fetch(`${withoutToken.url}/console/`);
    expect(response.status).toBe(404);
  });

  it("serves its page with a policy that lets it load only its own files", async () => {
    const redirect = await fetch(`${withToken.url}/console`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe("/console/");

    const page = await fetch(`${withToken.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    // Everything is bundled: no CDN script, no external stylesheet or font.
    const html = await page.text();
    expect(html).not.toContain("http");
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.filter((file) => file.endsWith(".js"))).toHaveLength(1);
    for (const file of assets) {
      const asset = await fetch(`${withToken.url}/console/${file}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("cache-control")).toContain("immutable");
      if (file.endsWith(".css")) expect(await asset.text()).not.toContain("http");
    }
  });

  it("answers unknown console files with the JSON 404 every other route uses", async () => {
    const response = await fetch(`${withToken.url}/console/nothing-here.js`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: "not-found", message: "No such file in the console" },
    });
  });
});

if (!existsSync(CHROMIUM)) {
  console.warn(`Skipping the web console browser tests: ${CHROMIUM} is missing (apt-get install chromium).`);
}

describe.skipIf(!existsSync(CHROMIUM))("web console in a real browser", () => {
  let project: TempProject;
  let server: TestServer;
  let sink: Sink;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;
  let sinkFails = false;
  const pageProblems: string[] = [];

  async function send(body: Record<string, unknown>, requestId: string): Promise<void> {
    const response = await fetch(`${server.url}/v1/incoming/${ENDPOINT}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-ID": requestId },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  async function admin<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${server.url}${pathAndQuery}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  beforeAll(async () => {
    sink = await startSink();
    sink.respond(() =>
      sinkFails ? { status: 500, body: { error: "down" } } : { status: 202, body: { ok: true } },
    );
    project = await tempProject({
      "integrations/shop.yaml": INTEGRATION,
      "workflows/forward.yaml": WORKFLOW,
    });
    server = await startServer({
      INLET_DIR: project.dir,
      INLET_ADMIN_TOKEN: ADMIN_TOKEN,
      SINK_URL: sink.url,
      SINK_TOKEN,
    });
    userDataDir = mkdtempSync(path.join(os.tmpdir(), "inlet-chromium-"));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1360, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) pageProblems.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await server?.shutdown();
    await sink?.close();
    project?.cleanup();
  });

  it("takes a user from the endpoint URL to a valid dedup: block picked from a live sample", async () => {
    await send(cart("A-1001"), "req-1");
    await send(cart("A-1002"), "req-2");

    await page.goto(`${server.url}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/");

    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "That token was refused" }).waitFor();
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();

    const card = page.getByRole("article", { name: "Cart events from the shop" });
    const endpointUrl = await card.locator(".endpoint-url").textContent();
    expect(endpointUrl).toBe(`http://localhost:${server.port}/v1/incoming/${ENDPOINT}`);
    await card.getByText("2 received, 0 duplicates").waitFor();
    expect(page.url()).not.toContain(ADMIN_TOKEN);

    await card.getByRole("link", { name: /Samples and dedup fields/ }).click();
    await page.getByRole("heading", { level: 1, name: "Samples of Cart events from the shop" }).waitFor();
    const valueOf = (flatPath: string) =>
      page
        .getByRole("row")
        .filter({ has: page.getByLabel(flatPath, { exact: true }) })
        .locator(".value");
    expect(await valueOf("body.order_number").textContent()).toBe('"A-1002"');
    expect(await valueOf('body["a.b"]').textContent()).toBe('"a key with a dot"');
    expect(await valueOf("body.products.0.qty").textContent()).toBe("2");

    // A request sent while the page is open shows up without a reload.
    await send(cart("A-1003"), "req-3");
    await valueOf("body.order_number").filter({ hasText: '"A-1003"' }).waitFor();

    await page.getByRole("checkbox", { name: "body.order_number", exact: true }).check();
    await page.getByRole("checkbox", { name: "headers.x-request-id", exact: true }).check();
    const yamlBlock = page.locator("#dedup-yaml");
    const twoPaths = "dedup:\n  params:\n    - body.order_number\n    - headers.x-request-id\n";
    expect(await yamlBlock.textContent()).toBe(twoPaths);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await browser.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    await page.getByRole("button", { name: "Copy YAML" }).click();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(twoPaths);

    await project.write("integrations/shop.yaml", INTEGRATION + twoPaths);
    const loaded = await createConfigLoader(builtinRegistry).load(project.dir);
    expect(loaded.ok ? [] : loaded.diagnostics).toEqual([]);

    for (const flatPath of ['body["a.b"]', "body.customer_email", "body.products.0.name"]) {
      await page.getByRole("checkbox", { name: flatPath, exact: true }).check();
    }
    const sixth = page.getByRole("checkbox", { name: "body.products.0.qty", exact: true });
    await sixth.click();
    await page.getByRole("alert").filter({ hasText: "at most 5 paths" }).waitFor();
    expect(await sixth.isChecked()).toBe(false);
    await page.getByText("5 of 5 picked").waitFor();
    const fivePaths = [
      "body.order_number",
      "headers.x-request-id",
      'body["a.b"]',
      "body.customer_email",
      "body.products.0.name",
    ];
    const fiveYaml = (await yamlBlock.textContent()) ?? "";
    expect(parse(fiveYaml)).toEqual({ dedup: { params: fivePaths } });
    await project.write("integrations/shop.yaml", INTEGRATION + fiveYaml);
    const reloaded = await createConfigLoader(builtinRegistry).load(project.dir);
    expect(reloaded.ok ? [] : reloaded.diagnostics).toEqual([]);

    expect(pageProblems).toEqual([]);
  });

  it("shows a failed run's error and retries it into a run whose outgoing request has its token redacted", async () => {
    sinkFails = true;
    await send(cart("B-2001"), "req-fail");
    const failed = await eventually(async () => {
      const { runs } = await admin<{ runs: RunRecord[] }>("/v1/admin/runs?status=failed");
      expect(runs).toHaveLength(1);
      return runs[0]!;
    });
    sinkFails = false;

    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Runs" }).click();
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("link", { name: failed.runId }).click();
    await page.getByText("answered 500").first().waitFor();

    await page.getByRole("button", { name: "Retry this run" }).click();
    await page.waitForURL((url) => url.hash.startsWith("#/runs/") && !url.hash.endsWith(failed.runId));
    await page.locator(".node .badge-succeeded").waitFor();
    await page.getByText(/Outgoing request: POST/).click();
    const request = (await page.locator("pre.http").textContent()) ?? "";
    expect(request).toContain(`POST ${sink.url}/events`);
    expect(request).toContain(`Authorization: ${REDACTED}`);
    expect(request).not.toContain(SINK_TOKEN);
    expect(request).toContain('"email": "example@example.com"');

    // Retried once: the failed run now links to its retry instead of offering another.
    await page.goBack();
    await page.getByText("Retried by run").waitFor();
    expect(await page.getByRole("button", { name: "Retry this run" }).count()).toBe(0);

    await page.getByRole("link", { name: "Config" }).click();
    await page.getByText("shop.yaml").first().waitFor();
    expect(pageProblems).toEqual([]);
  });

  it("sends the user back to the login form with a message when the server refuses the kept token", async () => {
    await page.evaluate(`sessionStorage.setItem("inlet.adminToken", "a-rotated-token")`);
    await page.reload();
    await page.getByRole("alert").filter({ hasText: "refused the admin token (401)" }).waitFor();
    expect(await page.evaluate(`sessionStorage.getItem("inlet.adminToken")`)).toBeNull();
    await page.getByLabel("Admin token").waitFor();
    expect(pageProblems).toEqual([]);
  });
});
