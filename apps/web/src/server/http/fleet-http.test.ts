// The fleet's HTTP endpoints on a real HTTP server with a small checkpoint limit.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { describeEachDatabase } from "@transcend/db/testing";
import { artifacts, runArtifacts } from "@transcend/db/schema";
import { afterAll, beforeAll, expect, it } from "vitest";
import { claimRun } from "../services/queue";
import { createRunner, createUser, createVariantAndRecipe, queueRuns, testCapabilities } from "../test-fleet";
import { handleFleetRequest } from "./fleet-http";

describeEachDatabase("fleet HTTP endpoints", (getDb) => {
  let server: Server;
  let base = "";
  let artifactsDir = "";

  beforeAll(async () => {
    artifactsDir = mkdtempSync(path.join(os.tmpdir(), "transcend-fleet-http-"));
    server = createServer((request, response) => void handleFleetRequest({ db: getDb(), artifactsDir, maxArtifactBytes: 4096 }, request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(artifactsDir, { recursive: true, force: true });
  });

  it("refuses a checkpoint over the size limit, streamed or declared, and keeps nothing of it", async () => {
    const owner = await createUser(getDb());
    const { variantId, recipeId } = await createVariantAndRecipe(getDb(), owner);
    const [runId] = await queueRuns(getDb(), { submitterId: owner, variantId, recipeId, count: 1 });
    const runner = await createRunner(getDb(), owner);
    const claimed = await claimRun(getDb(), { runnerId: runner.runnerId, ownerId: owner, capabilities: testCapabilities });
    expect(claimed?.runId).toBe(runId);
    const url = `${base}/api/runs/${runId}/attempts/1/artifacts/origin`;
    const headers = (body: Uint8Array) => ({ authorization: `Bearer ${claimed?.attemptToken}`, "x-content-sha256": createHash("sha256").update(body).digest("hex") });

    const big = new Uint8Array(5000).fill(7);
    const declared = await fetch(url, { method: "PUT", headers: headers(big), body: big });
    expect(declared.status).toBe(413);
    // Without a Content-Length the limit is enforced while streaming.
    const streamed = await fetch(url, {
      method: "PUT",
      headers: headers(big),
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(big.subarray(i * 1000, (i + 1) * 1000));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await getDb().select().from(runArtifacts).where(eq(runArtifacts.runId, runId ?? ""))).toEqual([]);
    expect(readdirSync(path.join(artifactsDir, "tmp"))).toEqual([]);

    const small = new Uint8Array(4096).fill(1);
    const ok = await fetch(url, { method: "PUT", headers: headers(small), body: small });
    expect(ok.status).toBe(201);
    const sha = createHash("sha256").update(small).digest("hex");
    expect(await getDb().select().from(artifacts).where(eq(artifacts.sha256, sha))).toMatchObject([{ sizeBytes: 4096, kind: "origin" }]);
    // The same bytes uploaded again: stored once, content-addressed.
    expect((await fetch(url, { method: "PUT", headers: headers(small), body: small })).status).toBe(201);
    expect(readdirSync(path.join(artifactsDir, sha.slice(0, 2)))).toEqual([sha]);
  });

  it("answers malformed requests with 4xx, never 500", async () => {
    const post = (body: string, type = "application/json") => fetch(`${base}/api/runners/register`, { method: "POST", headers: { "content-type": type }, body });
    expect((await post("{")).status).toBe(400);
    expect((await post("x".repeat(10_000))).status).toBe(413);
    expect((await post("{}", "text/plain")).status).toBe(415);
    expect((await post(JSON.stringify({ token: 5, name: "n" }))).status).toBe(400);
    expect((await fetch(`${base}/api/runners/register`)).status).toBe(405);
    expect((await fetch(`${base}/api/runs/not-a-uuid/attempts/1/artifacts/origin`)).status).toBe(404);
    expect((await fetch(`${base}/api/runs/00000000-0000-4000-8000-000000000000/attempts/1/artifacts/weights`)).status).toBe(404);
    expect((await fetch(`${base}/api/runs/00000000-0000-4000-8000-000000000000/attempts/1/artifacts/final`)).status).toBe(404);
    expect((await fetch(`${base}/api/runs/00000000-0000-4000-8000-000000000000/attempts/1/artifacts/final`, { method: "DELETE" })).status).toBe(405);
  });
});
