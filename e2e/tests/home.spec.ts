import { expect, test } from "@playwright/test";

test("the home page says what Transcend is and links to the leaderboard", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle("Transcend");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Does GRPO take a model beyond what its pretraining made possible?");

  await page.getByRole("link", { name: "View the leaderboard" }).click();
  await expect(page).toHaveURL(/\/leaderboard$/);
  await expect(page.getByRole("heading", { level: 1, name: "Leaderboard" })).toBeVisible();
});

test("the leaderboard's empty state says there are no graded runs yet", async ({ page }) => {
  await page.goto("/leaderboard");
  await expect(page.getByRole("heading", { name: "No graded runs yet" })).toBeVisible();
  await expect(page.getByText("There are no graded runs yet")).toBeVisible();
  // The seeded preset task variants are listed, each waiting for its first run.
  await expect(page.getByRole("heading", { name: "Task variants" })).toBeVisible();
  await expect(page.getByText("no graded runs").first()).toBeVisible();
});

test("the header links between the pages", async ({ page }) => {
  await page.goto("/leaderboard");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Transcend" }).click();
  await expect(page).toHaveURL(/\/$/);
});
