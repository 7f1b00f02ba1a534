/**
 * The console in a real browser (Debian's Chromium through playwright-core, headless) against a
 * real control plane reading the lab twin: login, the floor and a rack's GPUs, every view, the
 * dead-API banner, themes, and org scoping (an org viewer sees only its racks, and another org's
 * rack by URL is "not found"). Screenshots go to screenshots/ (git-ignored).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { buildConsole, type Lab, launchBrowser, startLab } from "./harness.ts";

// The callbacks given to page.evaluate and waitForFunction run in the browser, where these exist.
declare const document: { querySelector(s: string): { textContent: string | null } | null } & {
  querySelectorAll(
    s: string,
  ): Iterable<{ textContent: string | null; getAttribute(n: string): string | null }>;
};
declare const sessionStorage: { setItem(k: string, v: string): void };

const SHOTS = fileURLToPath(new URL("../../../screenshots/", import.meta.url));
let lab: Lab;
/** What the browser refused under the page's content security policy, on any page. */
const cspViolations: string[] = [];
let browser: Browser;

before(async () => {
  buildConsole();
  mkdirSync(SHOTS, { recursive: true });
  lab = await startLab(2);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await lab?.stop();
});

/** A page of a fresh browser context, already logged in with `token` when one is given. */
async function open(path: string, token?: string, colorScheme: "dark" | "light" = "dark"): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  if (token) await context.addInitScript((t) => sessionStorage.setItem("flightdeck.token", t), token);
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(lab.url + path);
  return page;
}

/** What the window shows (not the whole page): small enough to keep a few in the docs. */
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${name}.png` });

describe("the console", { timeout: 180_000 }, () => {
  it("logs in with a pasted token and shows live numbers on the overview", async () => {
    const page = await open("/");
    await page.getByLabel("API token").waitFor();
    await shot(page, "login");
    await page.getByLabel("API token").fill("not-a-token");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
    await page.getByLabel("API token").fill(lab.adminToken);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    assert.match(page.url(), /\/overview$/);
    const tokens = page.getByRole("region", { name: "Tokens per second" }).locator(".value");
    await page.waitForFunction((el) => el !== null && el.textContent !== "–", await tokens.elementHandle(), {
      timeout: 30_000,
    });
    await page.waitForTimeout(2500);
    await shot(page, "overview-first");
    await page.context().close();
  });

  it("shows the floor and opens a rack with its GPUs' live power, temperature, utilization and cap", async () => {
    const page = await open("/floor", lab.adminToken);
    const racks = page.locator("a.rack");
    await racks.first().waitFor();
    assert.deepEqual(await racks.evaluateAll((as) => as.map((a) => a.getAttribute("data-rack"))), [
      "rack:r01",
      "rack:r02",
      "rack:r03",
      "rack:r04",
    ]);
    // Keyboard: the rack tiles are links; arrow keys move between them, Enter opens one.
    await page.locator('a.rack[data-rack="rack:r01"]').focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Rack r02" }).waitFor();
    assert.match(page.url(), /\/floor\/rack\/rack%3Ar02$/);
    assert.equal(await page.title(), "Floor · Flightdeck");
    const gpuRows = page.locator("tr[data-gpu]");
    await gpuRows.nth(31).waitFor();
    assert.equal(await gpuRows.count(), 32);
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll("tr[data-gpu] td:first-of-type")];
      return cells.length > 0 && cells.every((c) => / W$/.test(c.textContent ?? ""));
    });
    await page.waitForFunction(() =>
      [...document.querySelectorAll("td[data-cap]")].every((c) => c.getAttribute("data-cap") !== ""),
    );
    // The job on each GPU, and what holds its cap, from the power service.
    await page.locator("tr[data-gpu]").getByRole("link", { name: "acme-chat" }).first().waitFor();
    await page.getByLabel("Temperature").check();
    await page.waitForFunction(() => /°C/.test(document.querySelector(".legend")?.textContent ?? ""));
    await shot(page, "floor-rack");
    await page.keyboard.press("Escape");
    await page.waitForURL(/\/floor\?by=temperature$/);
    assert.equal(await page.getByRole("heading", { name: "Rack r02" }).count(), 0);
    await page.context().close();
  });

  it("shows workloads, topology, orgs, events and power", async () => {
    const page = await open("/workloads", lab.adminToken);
    await page.locator("table.list tbody tr").nth(3).waitFor({ timeout: 30_000 });
    const jobs = await page.locator("table.list tbody th").allTextContents();
    for (const job of ["acme-chat", "acme-pretrain", "globex-code", "globex-finetune"])
      assert.ok(jobs.includes(job), job);
    // Placement: the training job's 48 GPUs fill r01 and half of r02 (the twin places in order).
    const pretrain = page
      .getByRole("row")
      .filter({ has: page.getByRole("rowheader", { name: "acme-pretrain" }) });
    await pretrain.getByRole("link", { name: "r01" }).waitFor({ timeout: 30_000 });
    await shot(page, "workloads");
    await pretrain.getByRole("link", { name: "topology" }).click();
    await page.locator(".graph canvas").first().waitFor();
    const jobGraph = (await page.locator(".graph").getAttribute("aria-label")) ?? "";
    assert.match(jobGraph, /job acme-pretrain/);
    assert.match(jobGraph, /r01-dgx1 \(8 GPUs\)/);
    await shot(page, "topology-job");

    await page.getByRole("link", { name: "Topology" }).click();
    await page.locator(".graph canvas").first().waitFor();
    const graph = await page.locator(".graph").getAttribute("aria-label");
    assert.match(graph ?? "", /r01-dgx1 \(8 GPUs\)/);
    assert.match(graph ?? "", /NVLink r01-dgx1/);
    assert.match(graph ?? "", /ib\/su1-leaf/);
    await shot(page, "topology");

    await page.getByRole("link", { name: "Orgs" }).click();
    await page.getByRole("rowheader", { name: /acme/ }).waitFor();
    await page.getByRole("rowheader", { name: /globex/ }).waitFor();
    // Users and API tokens per org, counted (the last two columns).
    await page.waitForFunction(() =>
      [...document.querySelectorAll("table.list tbody tr td:last-child")].every((c) =>
        /^\d+$/.test(c.textContent ?? ""),
      ),
    );
    await shot(page, "orgs");

    await page.getByRole("link", { name: "Events" }).click();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.getByRole("link", { name: "Power" }).click();
    await page.getByRole("heading", { name: "Power", exact: true }).waitFor();
    await page.locator("table.list tbody tr").first().waitFor();
    await shot(page, "power");
    await page.context().close();
  });

  it("lists an Xid event and links it to its GPU on the floor", async () => {
    const res = await fetch(`${lab.sim.url}/sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "xid79", target: "gpu:r03-dgx2/5" }),
    });
    assert.ok(res.ok, await res.text());
    const page = await open("/events", lab.adminToken);
    const link = page.getByRole("link", { name: "gpu:r03-dgx2/5" }).first();
    await link.waitFor({ timeout: 30_000 });
    await shot(page, "events");
    await link.click();
    await page.getByRole("heading", { name: "Rack r03" }).waitFor();
    await page.locator('tr.marked[data-gpu="gpu:r03-dgx2/5"]').waitFor();
    // The floor marks the rack, and says so to a screen reader.
    await page.locator('a.rack[data-rack="rack:r03"] .xid-mark').waitFor();
    assert.match(
      (await page.locator('a.rack[data-rack="rack:r03"]').getAttribute("aria-label")) ?? "",
      /1 Xid event/,
    );
    assert.equal(await page.locator('a.rack[data-rack="rack:r01"] .xid-mark').count(), 0);
    await page.context().close();
  });

  it("shows an org viewer only its own racks, and another org's rack by URL as not found", async () => {
    const token = await lab.tokenFor("globex", "org-viewer");
    const page = await open("/floor", token, "light");
    await page.locator("a.rack").first().waitFor();
    assert.deepEqual(
      await page.locator("a.rack").evaluateAll((as) => as.map((a) => a.getAttribute("data-rack"))),
      ["rack:r03", "rack:r04"],
    );
    assert.equal(await page.getByRole("link", { name: "Orgs" }).count(), 0);
    await page.goto(`${lab.url}/floor/rack/${encodeURIComponent("rack:r01")}`);
    const alert = page.getByRole("alert").filter({ hasText: "not yours" });
    await alert.waitFor();
    assert.equal(await page.getByRole("heading", { name: "Rack r01" }).count(), 0);
    assert.equal(await page.locator("tr[data-gpu]").count(), 0);
    await shot(page, "org-viewer-not-yours");
    // Nor through a GPU link or the topology of that rack.
    await page.goto(`${lab.url}/floor/gpu/${encodeURIComponent("gpu:r01-dgx1/0")}`);
    await page.getByRole("alert").filter({ hasText: "not yours" }).waitFor();
    await page.goto(`${lab.url}/topology/${encodeURIComponent("rack:r01")}`);
    await page.getByRole("alert").filter({ hasText: "not yours" }).waitFor();
    // The overview is about its own racks: their GPUs' power, not the facility's.
    await page.goto(`${lab.url}/overview`);
    await page.getByRole("region", { name: "GPU power" }).waitFor();
    assert.equal(await page.getByRole("region", { name: "Facility power" }).count(), 0);
    await page.locator(".attention a").nth(3).waitFor();
    assert.deepEqual(
      await page
        .locator(".attention a")
        .allTextContents()
        .then((t) => [...new Set(t)].sort()),
      ["r03", "r04"],
    );
    await page.context().close();
  });

  it("goes back to the login, saying why, when the token is revoked", async () => {
    const { token, id } = await lab.tokenWithId("acme", "org-admin");
    const page = await open("/events", token);
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await lab.store.revokeToken(id, "test");
    await page.getByRole("alert").filter({ hasText: "logged out" }).waitFor({ timeout: 15_000 });
    await page.getByLabel("API token").waitFor();
    await page.context().close();
  });

  it("shows a banner when the API stops answering, and switches themes", async () => {
    const page = await open("/overview", lab.adminToken);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    // Later in the run every job reports: the overview as an operator sees it on a running factory.
    await page.locator(".attention a").nth(7).waitFor();
    await page.waitForTimeout(4000);
    await shot(page, "overview");
    assert.equal(await page.locator("html").getAttribute("data-theme"), "dark");
    await page.getByRole("button", { name: "Switch to light theme" }).click();
    assert.equal(await page.locator("html").getAttribute("data-theme"), "light");
    await page.route("**/v1/**", (route) => route.abort("connectionrefused"));
    await page.getByRole("alert").filter({ hasText: "does not answer" }).waitFor({ timeout: 15_000 });
    await shot(page, "api-down");
    await page.unroute("**/v1/**");
    await page
      .getByRole("alert")
      .filter({ hasText: "does not answer" })
      .waitFor({ state: "detached", timeout: 15_000 });
    await page.context().close();
  });

  it("lowers the facility target and shows the caps coming down, with the reason", async () => {
    const page = await open("/power", lab.adminToken);
    await page.locator("table.power-tree tbody tr").first().waitFor({ timeout: 30_000 });
    const peak = Number(await page.locator("[data-target-watts]").getAttribute("data-peak-watts"));
    assert.ok(peak > 0);
    // Before: every GPU of r01 at its maximum, 700 W for an H100 SXM.
    await page.goto(`${lab.url}/floor/rack/${encodeURIComponent("rack:r01")}`);
    await page.waitForFunction(() =>
      [...document.querySelectorAll("td[data-cap]")].some((c) => c.getAttribute("data-cap") === "700"),
    );
    await page.goto(`${lab.url}/power`);
    await page.getByLabel("Operator's target, % of the facility's peak").fill("60");
    await page.getByRole("button", { name: "Set target" }).click();
    await page.getByRole("status").filter({ hasText: "60 %" }).waitFor();
    await page.locator('[data-target-watts]:not([data-target-watts=""])').waitFor();
    assert.equal(
      Number(await page.locator("[data-target-watts]").getAttribute("data-target-watts")),
      peak * 0.6,
    );
    await page.locator("table.actions tbody tr").first().waitFor({ timeout: 30_000 });
    await shot(page, "power-target");
    // The BMCs' limits, read back by the collector, come down on the floor.
    await page.goto(`${lab.url}/floor/rack/${encodeURIComponent("rack:r01")}`);
    await page.waitForFunction(
      () => {
        const caps = [...document.querySelectorAll("td[data-cap]")].map((c) => c.getAttribute("data-cap"));
        return caps.length === 32 && caps.every((c) => c !== "" && Number(c) < 700);
      },
      undefined,
      { timeout: 30_000 },
    );
    // Each GPU says what holds its cap now: the facility's budget.
    await page.locator("tr[data-gpu] td[data-cap]").filter({ hasText: "facility" }).first().waitFor();
    // For the picture: the GPUs' draw follows their new caps within a few readings.
    await page
      .waitForFunction(
        () => {
          const first = [...document.querySelectorAll("tr[data-gpu] td:first-of-type")][0];
          return first !== undefined && Number.parseFloat(first.textContent ?? "") <= 250;
        },
        undefined,
        { timeout: 15_000 },
      )
      .catch(() => {});
    await shot(page, "floor-capped");
    await page.getByRole("link", { name: "GPU 0" }).first().click();
    await page.getByRole("heading", { name: /Why gpu:r01-dgx1\/0 has its cap/ }).waitFor();
    await page
      .locator(".lead")
      .filter({ hasText: "capped at" })
      .waitFor()
      .catch(async (err) => {
        await shot(page, "power-why-failed");
        throw err;
      });
    await shot(page, "power-why");
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByRole("status").filter({ hasText: "cleared" }).waitFor();
    // A demand-response event: added for later, listed, cancelled.
    await page.getByLabel("Starting in").fill("60");
    await page.getByRole("button", { name: "Add event" }).click();
    const cancel = page.getByRole("button", { name: /^Cancel event dr-/ });
    await cancel.waitFor();
    await cancel.click();
    await page.getByRole("status").filter({ hasText: "cancelled" }).waitFor();
    await cancel.waitFor({ state: "detached" });
    await page.context().close();
  });

  it("serves the app for client routes and leaves the API's own paths alone", async () => {
    for (const path of ["/", "/floor/rack/rack%3Ar01", "/events"]) {
      const res = await fetch(lab.url + path);
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /<div id="root">/);
    }
    for (const path of ["/v1/nothing-here", "/nothing-here", "/assets/missing.js"]) {
      const res = await fetch(lab.url + path);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get("content-type") ?? "", /problem\+json/, path);
    }
    assert.equal((await fetch(`${lab.url}/v1/kpi`)).status, 401);
  });

  it("broke no rule of the page's content security policy on any page above", () => {
    assert.deepEqual(cspViolations, []);
  });
});
