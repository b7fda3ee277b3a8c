// A page on another site must not be able to make a signed-in user's browser change
// anything here (CSRF). A `text/plain` POST needs no CORS preflight, so the tRPC endpoint
// itself has to refuse it; these tests check that it does, from a real foreign page and
// from a forged request that carries the victim's session cookie.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";

const FOREIGN_ORIGIN = "http://attacker.example";

/**
 * Another site on this machine: `localhost` is a different origin and a different site
 * from `127.0.0.1`. (A public name would not do: Chromium's private-network rules stop a
 * public page's request to a loopback server before it is sent, which would prove nothing
 * about the server.)
 */
function foreignSiteOf(baseURL: string): string {
  const url = new URL(baseURL);
  return `http://localhost:${url.port}`;
}
// A mutation with an effect that is easy to observe: creating a personal access token,
// which `tokens.list` would then show.
const MUTATION = "tokens.create";

// Signing up and a few requests; generous, because the machines this runs on are shared.
test.describe.configure({ timeout: 120_000 });

async function signUp(page: Page): Promise<void> {
  const email = `csrf-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
  await page.goto("/sign-up?next=%2Frunners");
  await page.getByLabel("Name").fill("CSRF victim");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/runners$/, { timeout: 30_000 });
}

async function accessTokenCount(request: APIRequestContext): Promise<number> {
  const response = await request.get("/api/trpc/tokens.list");
  expect(response.status(), await response.text()).toBe(200);
  const body = (await response.json()) as { result: { data: { json: unknown[] } } };
  return body.result.data.json.length;
}

test("a foreign page's text/plain POST to a tRPC mutation is refused", async ({ page, baseURL }) => {
  if (!baseURL) throw new Error("baseURL is not configured");
  await signUp(page);
  const before = await accessTokenCount(page.request);

  // An attacker's page on another site with the classic CSRF form: a POST with
  // enctype="text/plain" (no CORS preflight), its one field crafted so the body reads as
  // tRPC's JSON. Submitting it navigates to our answer, so the refusal is observable.
  const foreign = foreignSiteOf(baseURL);
  const action = `${baseURL}/api/trpc/${MUTATION}`;
  await page.route(`${foreign}/attacker`, (route) =>
    route.fulfill({
      status: 200,
      contentType: "text/html",
      body: `<!doctype html><title>attacker</title>
        <form id="csrf" method="POST" enctype="text/plain" action="${action}">
          <input type="hidden" name='{"json":{"name":"attacker","pad":"' value='"}}'>
        </form>`,
    }),
  );
  await page.goto(`${foreign}/attacker`);
  const refused = page.waitForResponse((response) => response.url() === action && response.request().method() === "POST");
  await page.locator("#csrf").evaluate((form) => (form as unknown as { submit(): void }).submit());
  const response = await refused;
  expect([403, 415]).toContain(response.status());
  expect(await accessTokenCount(page.request)).toBe(before);
});

test("a forged cross-origin POST carrying the session cookie is refused, as text/plain and as JSON", async ({ page, baseURL }) => {
  if (!baseURL) throw new Error("baseURL is not configured");
  await signUp(page);
  const before = await accessTokenCount(page.request);
  const body = JSON.stringify({ json: { name: "attacker" } });

  const plain = await page.request.post(`/api/trpc/${MUTATION}`, {
    headers: { origin: FOREIGN_ORIGIN, "content-type": "text/plain" },
    data: body,
  });
  expect([403, 415]).toContain(plain.status());

  const json = await page.request.post(`/api/trpc/${MUTATION}`, {
    headers: { origin: FOREIGN_ORIGIN, "content-type": "application/json" },
    data: body,
  });
  expect(json.status()).toBe(403);

  const nullOrigin = await page.request.post(`/api/trpc/${MUTATION}`, {
    headers: { origin: "null", "content-type": "application/json" },
    data: body,
  });
  expect(nullOrigin.status()).toBe(403);
  expect(await accessTokenCount(page.request)).toBe(before);

  // The same request from our own origin as JSON goes through: the refusals above are the
  // origin and content-type checks, not a broken procedure.
  const own = await page.request.post(`/api/trpc/${MUTATION}`, {
    headers: { origin: baseURL, "content-type": "application/json" },
    data: body,
  });
  expect(own.status(), await own.text()).toBe(200);
  expect(await accessTokenCount(page.request)).toBe(before + 1);
});
