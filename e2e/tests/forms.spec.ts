// The forms in a real browser against the real server: sign up → create a task variant
// with the form (its live preview visible) → create a recipe from the tiny preset → submit
// one seed → the run appears. A screenshot of each page is attached to the test's report.
import { expect, test, type Page, type TestInfo } from "@playwright/test";

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

test("sign up, create a task variant and a recipe with the forms, submit one seed, and find the run", async ({ page }, testInfo) => {
  // Five pages and three saves; a configured timeout may be longer (e.g. against `next dev`).
  test.setTimeout(Math.max(180_000, testInfo.timeout));
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

  // 1. Sign up; the header then shows the account.
  await page.goto("/sign-up?next=%2Fvariants%2Fnew");
  await page.getByLabel("Name").fill("Form Tester");
  await page.getByLabel("Email").fill(`forms-${unique}@example.org`);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await screenshot(page, testInfo, "sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/variants\/new$/);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

  // 2. The task variant form: the preview shows generated examples token by token.
  await expect(page.getByRole("heading", { name: "Live preview" })).toBeVisible();
  const examples = page.getByRole("list", { name: /^Examples of split / });
  await expect(examples.getByRole("listitem").first()).toBeVisible();
  await expect(page.locator('[data-role="answer"]').first()).toBeVisible();

  // A validation message appears next to its field, and goes once the value is fixed.
  const slug = page.getByLabel("Slug");
  await slug.fill("Not A Slug");
  await slug.blur();
  await expect(page.getByText("a slug is lowercase letters and digits separated by single dashes")).toBeVisible();
  await slug.fill(`e2e-variant-${unique}`);
  await page.getByLabel("Name", { exact: true }).fill(`E2E variant ${unique}`);
  // The preview follows the form: the id split's words may now be 6 atoms long.
  await page.getByLabel("max").first().fill("6");
  await screenshot(page, testInfo, "variant-form");
  await page.getByRole("button", { name: "Create task variant" }).click();
  await expect(page).toHaveURL(new RegExp(`/variants/${UUID}\\?saved=created$`));
  await expect(page.getByText("Task variant created.")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: `E2E variant ${unique}` })).toBeVisible();
  const variantId = new URL(page.url()).pathname.split("/").pop() ?? "";
  await screenshot(page, testInfo, "variant-detail");

  // 3. A recipe from the tiny preset, with its size and compute estimate.
  await page.goto("/recipes/new?preset=tiny");
  await expect(page.getByRole("radio", { name: /tiny/ })).toBeChecked();
  await page.getByLabel("Recipe name").fill(`E2E recipe ${unique}`);
  await page.getByLabel("Slug").fill(`e2e-recipe-${unique}`);
  await expect(page.getByTestId("parameter-count")).toBeVisible();
  await screenshot(page, testInfo, "recipe-form");
  await page.getByRole("button", { name: "Create recipe" }).click();
  await expect(page).toHaveURL(new RegExp(`/recipes/${UUID}\\?saved=created$`));
  await expect(page.getByText("Recipe created.")).toBeVisible();
  const recipeId = new URL(page.url()).pathname.split("/").pop() ?? "";
  await screenshot(page, testInfo, "recipe-detail");

  // 4. Submit one seed of that variant and recipe.
  await page.goto(`/submit?variant=${variantId}&recipe=${recipeId}`);
  await expect(page.getByLabel("Task variant version")).toHaveValue(variantId);
  await expect(page.getByLabel("Recipe version")).toHaveValue(recipeId);
  await page.getByLabel("Seeds").fill("1");
  await screenshot(page, testInfo, "submit");
  await page.getByRole("button", { name: "Submit 1 run" }).click();
  await expect(page.getByRole("heading", { name: "1 run queued" })).toBeVisible();
  await expect(page.getByTestId("queue-position")).toHaveText(/^\d+$/);
  await screenshot(page, testInfo, "submitted");

  // 5. The run appears: its page says it is queued (no runner is connected in this test).
  await page.getByRole("link", { name: "Run with seed 1" }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${UUID}$`));
  await expect(page.getByText(/queued/i).first()).toBeVisible();
  await screenshot(page, testInfo, "run");
});

test("pages work on a phone-sized screen, and the theme toggle switches to dark", async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto("/recipes");
  await page.getByRole("button", { name: "Open menu" }).click();
  await expect(page.locator("#mobile-menu").getByRole("link", { name: "Variants" })).toBeVisible();
  await page.getByRole("button", { name: /theme \(switch to light theme\)/i }).click();
  await page.getByRole("button", { name: /theme \(switch to dark theme\)/i }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.reload();
  // The choice is a cookie the server reads: no flash of the other theme.
  await expect(page.locator("html")).toHaveClass(/dark/);
  await screenshot(page, testInfo, "recipes-phone-dark");
});

test("the security headers are sent", async ({ request }) => {
  const response = await request.get("/");
  const headers = response.headers();
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  // Plain HTTP (no TRANSCEND_HTTPS): no HSTS, or browsers would refuse the site.
  expect(headers["strict-transport-security"]).toBeUndefined();
});

test("a recipe that needs a GPU says so on its page", async ({ page }, testInfo) => {
  test.setTimeout(Math.max(90_000, testInfo.timeout));
  const unique = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  await page.goto("/sign-up?next=%2Frecipes%2Fnew%3Fpreset%3Dtiny");
  await page.getByLabel("Name").fill("GPU Tester");
  await page.getByLabel("Email").fill(`gpu-${unique}@example.org`);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("radio", { name: /tiny/ })).toBeChecked();
  await page.getByLabel("Recipe name").fill(`GPU recipe ${unique}`);
  await page.getByLabel("Slug").fill(`gpu-recipe-${unique}`);

  const requirements = page.getByRole("region", { name: "Runner requirements" });
  await requirements.getByLabel("GPU required").check();
  await requirements.getByLabel("Minimum memory").fill("2.5");
  // Past the limit, the message sits by the field until the value is fixed.
  const cores = requirements.getByLabel("Minimum cores");
  await cores.fill("999");
  await cores.blur();
  await expect(requirements.getByRole("alert")).toContainText("256");
  await cores.fill("4");
  await expect(requirements.getByRole("alert")).toHaveCount(0);
  await screenshot(page, testInfo, "recipe-form-requirements");
  await page.getByRole("button", { name: "Create recipe" }).click();
  await expect(page).toHaveURL(new RegExp(`/recipes/${UUID}\\?saved=created$`));

  const shown = page.getByRole("region", { name: "Runner requirements" });
  await expect(shown.getByRole("definition")).toHaveText(["yes", "2.5 GiB", "4"]);
  await screenshot(page, testInfo, "recipe-detail-requirements");
});
