// The whole loop in a real browser against the real server, with a REAL runner daemon:
// sign up → register a runner on the runners page → start `transcend-runner` with the
// command the page showed → submit one seed of a cut-down tiny recipe → the run page
// moves through its states live (no reload) and shows graded results → the owner
// reproduces it and cancels the reproduction while another user (and a signed-out
// visitor) can do neither → the leaderboard shows the row. A screenshot of each page is
// attached to the test's report.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test, type APIRequestContext, type APIResponse, type Page, type TestInfo } from "@playwright/test";

const here = path.dirname(fileURLToPath(import.meta.url));
const runnerBin = path.resolve(here, "../../runner/bin/transcend-runner.js");

// Every phase runs, on a model and item counts small enough to finish in well under a
// minute on a busy 2-core machine, yet long enough (pretraining ~10 s) that the page shows
// a training state live. It learns little; the test is about the whole loop.
const FAST_RECIPE = {
  model: { layers: 1, dModel: 16, heads: 2, contextLength: 64 },
  // Long enough that pretraining outlasts the page's first look on an idle machine (200
  // steps once finished between two looks, and the page saw only assigned → graded).
  pretraining: { steps: 1500, batchSize: 8, learningRate: 3e-3, warmupSteps: 10 },
  grpo: { steps: 4, promptsPerStep: 4, groupSize: 4, maxNewTokens: 24, learningRate: 1e-3 },
  evaluation: { itemsPerSplit: 8, samplesPerItem: 4, kValues: [1, 4], maxNewTokens: 24 },
  seeds: [1],
};

const RUN_TIMEOUT_MS = 180_000;

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  // Written into the test's output folder (kept after a pass) and attached to the report.
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
  // A line per step in the test's output says how far a failed run got.
  console.log(`run-flow: ${name}`);
}

/** Calls a tRPC procedure as the signed-in browser does (same origin, JSON, superjson envelope). */
async function trpcMutation<T>(request: APIRequestContext, baseURL: string, procedure: string, input: unknown): Promise<T> {
  const response = await request.post(`/api/trpc/${procedure}`, {
    headers: { origin: baseURL, "content-type": "application/json" },
    data: JSON.stringify({ json: input }),
  });
  const text = await response.text();
  expect(response.status(), `${procedure}: ${text}`).toBe(200);
  return (JSON.parse(text) as { result: { data: { json: T } } }).result.data.json;
}

async function trpcQuery<T>(request: APIRequestContext, procedure: string, input?: unknown): Promise<T> {
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const response = await request.get(`/api/trpc/${procedure}${query}`);
  const text = await response.text();
  expect(response.status(), `${procedure}: ${text}`).toBe(200);
  return (JSON.parse(text) as { result: { data: { json: T } } }).result.data.json;
}

/**
 * A cancel request made as the page's own client makes it (same origin, JSON), so the
 * request guard lets it through and only the procedure's owner check can refuse it.
 */
async function forgeCancel(request: APIRequestContext, baseURL: string, runId: string): Promise<APIResponse> {
  return request.post("/api/trpc/runs.cancel", {
    headers: { origin: baseURL, "content-type": "application/json" },
    data: JSON.stringify({ json: { runId, reason: "forged" } }),
  });
}

function startProcess(args: string[], testInfo: TestInfo, label: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = "";
  const child = spawn(process.execPath, [runnerBin, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => testInfo.attach(`${label} output`, { body: output, contentType: "text/plain" }));
  return { child, output: () => output, exited };
}

test("sign up, register a runner, submit a run and watch it graded live, reproduce it and cancel the reproduction, then find it on the leaderboard", async ({ page, browser, baseURL }, testInfo) => {
  test.setTimeout(RUN_TIMEOUT_MS + 120_000);
  if (!baseURL) throw new Error("baseURL is not configured");
  const configDir = mkdtempSync(path.join(os.tmpdir(), "transcend-e2e-runner-"));
  let daemon: ReturnType<typeof startProcess> | undefined;

  try {
    // 1. Sign up with the form.
    const email = `flow-${Date.now()}@example.org`;
    await page.goto("/sign-up?next=%2Frunners");
    await page.getByLabel("Name").fill("Flow Tester");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse battery staple");
    await screenshot(page, testInfo, "sign-up");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/runners$/);

    // 2. Register a runner on the runners page; the page shows the command to run.
    await page.goto("/runners");
    await expect(page.getByRole("heading", { level: 1, name: "Runners" })).toBeVisible();
    await page.getByLabel("Runner name").fill("e2e-runner");
    await page.getByRole("button", { name: "Create registration command" }).click();
    const commandBlock = page.getByTestId("register-command");
    await expect(commandBlock).toBeVisible();
    const command = (await commandBlock.locator("pre code").innerText()).trim();
    await screenshot(page, testInfo, "runners-register");
    const token = /--token (\S+)/.exec(command)?.[1];
    expect(token, command).toBeTruthy();
    expect(command).toMatch(/^npx transcend-runner register --server \S+ --token \S+ --name e2e-runner\nnpx transcend-runner start$/);

    // 3. The real daemon: register with the page's token, then start.
    const register = startProcess(["register", "--server", baseURL, "--token", token ?? "", "--name", "e2e-runner", "--config", configDir], testInfo, "runner register");
    expect(await register.exited, register.output()).toBe(0);
    daemon = startProcess(["start", "--config", configDir], testInfo, "runner start");
    const runnerRow = page.getByTestId("runners-table").getByRole("row", { name: /e2e-runner/ });
    await expect(runnerRow).toHaveAttribute("data-runner-status", "idle", { timeout: 60_000 });
    await screenshot(page, testInfo, "runners-status");

    // 4. A cut-down tiny recipe and one seed on a preset task variant.
    const variants = await trpcQuery<{ items: { id: string; slug: string }[] }>(page.request, "variants.list", { owner: "presets", limit: 100 });
    const variant = variants.items.find((v) => v.slug === "string-ops-depth-partial") ?? variants.items[0];
    expect(variant, "a preset task variant is seeded").toBeTruthy();
    const stamp = Date.now().toString(36);
    const recipeName = `E2E fast ${stamp}`;
    const recipe = await trpcMutation<{ id: string }>(page.request, baseURL, "recipes.create", {
      spec: { ...FAST_RECIPE, slug: `e2e-fast-${stamp}`, name: recipeName },
    });
    const submitted = await trpcMutation<{ runs: { id: string }[] }>(page.request, baseURL, "runs.submit", {
      variant: { id: variant?.id },
      recipe: { id: recipe.id },
      // A fresh seed: the same seed would reuse the previous run's cached origin checkpoint
      // and skip pretraining, too fast for the page to show it.
      seeds: [1 + Math.floor(Math.random() * 1_000_000)],
    });
    const runId = submitted.runs[0]?.id;
    expect(runId).toBeTruthy();

    // 5. The run page, opened once: every state change must arrive without a reload.
    await page.goto(`/runs/${runId}`);
    const badge = page.getByTestId("run-state");
    const seen: string[] = [];
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    for (;;) {
      const state = (await badge.getAttribute("data-state")) ?? "";
      if (state !== seen[seen.length - 1]) {
        seen.push(state);
        await screenshot(page, testInfo, `run-${seen.length}-${state}`);
      }
      if (state === "graded" || state === "failed" || state === "cancelled") break;
      if (Date.now() > deadline) throw new Error(`the run did not finish in ${RUN_TIMEOUT_MS / 1000} s; states seen: ${seen.join(" → ")}\n${daemon.output()}`);
      await page.waitForTimeout(250);
    }
    testInfo.annotations.push({ type: "states seen live", description: seen.join(" → ") });
    expect(seen[seen.length - 1], `states seen: ${seen.join(" → ")}\n${daemon.output()}`).toBe("graded");
    // At least one state between the first and the last arrived while the page was open.
    expect(seen.length).toBeGreaterThanOrEqual(3);

    await expect(page.getByTestId("results-table")).toBeVisible();
    await expect(page.getByTestId("correct-mass-scatter")).toBeVisible();
    await expect(page.getByRole("list", { name: "State timeline" })).toContainText("Graded");
    await screenshot(page, testInfo, "run-graded");

    // 6. The owner reproduces the graded run. The only connected runner is the owner's
    // own, which a reproduction may not use, so the new run waits and the page says why.
    await page.getByRole("button", { name: "Reproduce" }).click();
    await expect(page).not.toHaveURL(new RegExp(`/runs/${runId}$`));
    const reproductionId = /\/runs\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
    expect(reproductionId, page.url()).toBeTruthy();
    await expect(badge).toHaveAttribute("data-state", "queued");
    await expect(page.getByRole("link", { name: (runId ?? "").slice(0, 8), exact: true })).toHaveAttribute("href", `/runs/${runId}`);
    await expect(page.getByTestId("queued-reason")).toHaveText(
      "Not assigned yet: A reproduction must run on a runner of another owner than the original's; none is connected.",
    );
    const cancelButton = page.getByRole("button", { name: "Cancel run" });
    await expect(cancelButton).toBeVisible();
    await screenshot(page, testInfo, "reproduction-queued");

    // 7. Someone else's run: a signed-out visitor and then another user see it but no
    // cancel control, and a cancel request forged with the page's own endpoint is refused.
    const visitor = await browser.newContext({ baseURL });
    try {
      const visitorPage = await visitor.newPage();
      await visitorPage.goto(`/runs/${reproductionId}`);
      const visitorBadge = visitorPage.getByTestId("run-state");
      await expect(visitorBadge).toHaveAttribute("data-state", "queued");
      await expect(visitorPage.getByRole("button", { name: "Cancel run" })).toHaveCount(0);
      const anonymous = await forgeCancel(visitor.request, baseURL, reproductionId ?? "");
      expect(anonymous.status(), await anonymous.text()).toBe(401);

      const signUp = await visitor.request.post("/api/auth/sign-up/email", {
        headers: { origin: baseURL },
        data: { name: "Other User", email: `other-${Date.now()}@example.org`, password: "another long enough password" },
      });
      expect(signUp.status(), await signUp.text()).toBe(200);
      await visitorPage.reload();
      await expect(visitorBadge).toHaveAttribute("data-state", "queued");
      // Signed in now (the header names the account), and still no cancel control.
      await expect(visitorPage.getByRole("link", { name: "Other User" })).toBeVisible();
      await expect(visitorPage.getByRole("button", { name: "Cancel run" })).toHaveCount(0);
      const foreign = await forgeCancel(visitor.request, baseURL, reproductionId ?? "");
      expect(foreign.status(), await foreign.text()).toBe(403);
      expect(await foreign.text()).toContain("This run belongs to someone else.");
      await screenshot(visitorPage, testInfo, "reproduction-as-other-user");

      // 8. The owner cancels it from its page. The state changes in place (a marker set on
      // the window survives, so no reload happened), and the other user's open page learns
      // of it through its own live channel, with no action of its own.
      await page.evaluate(() => Object.assign(globalThis, { __beforeCancel: true }));
      await cancelButton.click();
      await page.getByRole("dialog").getByRole("button", { name: "Cancel run" }).click();
      await expect(badge).toHaveAttribute("data-state", "cancelled");
      await expect(cancelButton).toHaveCount(0);
      await expect(page.getByTestId("queued-reason")).toHaveCount(0);
      expect(await page.evaluate(() => (globalThis as { __beforeCancel?: boolean }).__beforeCancel)).toBe(true);
      await screenshot(page, testInfo, "reproduction-cancelled");
      await expect(visitorBadge).toHaveAttribute("data-state", "cancelled");
    } finally {
      await visitor.close();
    }

    // The runs list shows the reproduction cancelled.
    await page.goto("/runs");
    const listed = page.getByTestId("runs-table").locator(`tr[data-run-id="${reproductionId}"]`);
    await expect(listed).toContainText("reproduction");
    await expect(listed.locator("[data-state]")).toHaveAttribute("data-state", "cancelled");
    await screenshot(page, testInfo, "runs-list");

    // 9. The task variant's leaderboard shows the recipe's row (one seed: listed, not yet ranked).
    await page.goto(`/leaderboard/${variant?.slug ?? ""}`);
    await expect(page.getByText(recipeName).first()).toBeVisible({ timeout: 15_000 });
    await screenshot(page, testInfo, "leaderboard");
  } finally {
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill("SIGTERM");
      const stopped = await Promise.race([daemon.exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 10_000))]);
      if (!stopped) daemon.child.kill("SIGKILL");
    }
    rmSync(configDir, { recursive: true, force: true });
  }
});
