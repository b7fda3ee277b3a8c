// HTTP endpoints of the runner fleet, served by the custom server beside the gateway:
//   POST /api/runners/register                                  {token, name} → {runnerId, credential}
//   PUT  /api/runs/:runId/attempts/:attempt/artifacts/:kind     checkpoint upload (attempt token)
//   GET  /api/runs/:runId/attempts/:attempt/artifacts/:kind     checkpoint download
// Checkpoints are streamed to disk while their sha256 is computed, never held in memory,
// and stored content-addressed (one origin checkpoint reused by several runs is one file).
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@transcend/db";
import { artifacts, runArtifacts, runs } from "@transcend/db/schema";
import { isFleetError } from "../services/fleet-errors";
import { attemptForToken } from "../services/queue";
import { registerRunner, runnerNameSchema, secretSchema } from "../services/runners";
import { bearerToken } from "../services/secrets";

/** Largest checkpoint accepted: the biggest recipe within limits is far below it. */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;
const MAX_JSON_BODY_BYTES = 4 * 1024;

export const ARTIFACT_KINDS = ["origin", "final"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface FleetHttpOptions {
  db: Db;
  /** Where checkpoints are stored; several instances need it on shared storage. */
  artifactsDir: string;
  maxArtifactBytes?: number;
  log?: (line: string) => void;
}

const ARTIFACT_PATH = /^\/api\/runs\/([0-9a-f-]{36})\/attempts\/(\d{1,4})\/artifacts\/([a-z]+)$/;

/** Whether this module serves `pathname` (the caller then leaves the request to it). */
export function isFleetPath(pathname: string): boolean {
  return pathname === "/api/runners/register" || ARTIFACT_PATH.test(pathname);
}

export async function handleFleetRequest(options: FleetHttpOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const pathname = (request.url ?? "/").split("?", 1)[0] ?? "/";
  try {
    if (pathname === "/api/runners/register") {
      if (request.method !== "POST") return sendJson(response, 405, { error: "Use POST." }, { allow: "POST" });
      return await register(options, request, response);
    }
    const match = ARTIFACT_PATH.exec(pathname);
    if (match) {
      const params = artifactParamsSchema.safeParse({ runId: match[1], attempt: match[2], kind: match[3] });
      if (!params.success) return sendJson(response, 404, { error: "No such artifact: the kind is origin or final." });
      if (request.method === "PUT") return await upload(options, params.data, request, response);
      if (request.method === "GET" || request.method === "HEAD") return await download(options, params.data, request, response);
      return sendJson(response, 405, { error: "Use PUT to upload or GET to download." }, { allow: "GET, HEAD, PUT" });
    }
    sendJson(response, 404, { error: "Not found." });
  } catch (error) {
    options.log?.(`${request.method} ${pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
    if (!response.headersSent) sendJson(response, 500, { error: "The server failed to handle this request." });
    else response.destroy();
  }
}

// ── registration ────────────────────────────────────────────────────────────────

const registerBodySchema = z.object({ token: secretSchema, name: runnerNameSchema });

async function register(options: FleetHttpOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  if (!body.ok) return sendJson(response, body.status, { error: body.error });
  const parsed = registerBodySchema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return sendJson(response, 400, { error: `Invalid registration: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}.` });
  }
  try {
    const { runnerId, credential } = await registerRunner(options.db, parsed.data);
    sendJson(response, 201, { runnerId, credential });
  } catch (error) {
    if (!isFleetError(error)) throw error;
    // 410: the token existed but is spent or stale — a new one will work; 401: never valid.
    const status = error.code === "token_used" || error.code === "token_expired" ? 410 : 401;
    sendJson(response, status, { error: error.message, code: error.code });
  }
}

// ── artifacts ───────────────────────────────────────────────────────────────────

const artifactParamsSchema = z.object({
  runId: z.string().uuid(),
  attempt: z.coerce.number().int().min(1).max(1000),
  kind: z.enum(ARTIFACT_KINDS),
});
type ArtifactParams = z.infer<typeof artifactParamsSchema>;

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

function blobPath(artifactsDir: string, sha256: string): string {
  return path.join(artifactsDir, sha256.slice(0, 2), sha256);
}

async function upload(options: FleetHttpOptions, params: ArtifactParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  const attempt = token === undefined ? undefined : await attemptForToken(options.db, token);
  if (!attempt || attempt.runId !== params.runId || attempt.attempt !== params.attempt) {
    return refuseBody(request, response, 401, "This upload needs the attempt token the server sent with the run (Authorization: Bearer).");
  }
  if (!attempt.current) return refuseBody(request, response, 409, "This attempt is over; its checkpoints are no longer accepted.");
  const expected = sha256Schema.safeParse(String(request.headers["x-content-sha256"] ?? "").toLowerCase());
  if (!expected.success) return refuseBody(request, response, 400, "Send the checkpoint's sha256 (64 hex digits) in x-content-sha256.");
  const limit = options.maxArtifactBytes ?? MAX_ARTIFACT_BYTES;
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return refuseBody(request, response, 413, `A checkpoint may be at most ${limit} bytes.`);

  const tmpDir = path.join(options.artifactsDir, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const tmpFile = path.join(tmpDir, `${params.runId}-${params.attempt}-${randomBytes(6).toString("hex")}`);
  const hash = createHash("sha256");
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) return callback(new PayloadTooLarge());
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(request, meter, createWriteStream(tmpFile, { mode: 0o600 }));
  } catch (error) {
    await rm(tmpFile, { force: true });
    if (error instanceof PayloadTooLarge) {
      response.setHeader("connection", "close");
      return sendJson(response, 413, { error: `A checkpoint may be at most ${limit} bytes.` });
    }
    throw error;
  }
  const actual = hash.digest("hex");
  if (actual !== expected.data) {
    await rm(tmpFile, { force: true });
    return sendJson(response, 422, { error: `The body's sha256 is ${actual}, not the ${expected.data} announced in x-content-sha256; upload it again.` });
  }
  const finalPath = blobPath(options.artifactsDir, actual);
  await mkdir(path.dirname(finalPath), { recursive: true });
  await rename(tmpFile, finalPath);
  await options.db.transaction(async (tx) => {
    await tx.insert(artifacts).values({ sha256: actual, sizeBytes: size, kind: params.kind }).onConflictDoNothing();
    await tx
      .insert(runArtifacts)
      .values({ runId: params.runId, attempt: params.attempt, name: params.kind, sha256: actual })
      .onConflictDoUpdate({ target: [runArtifacts.runId, runArtifacts.attempt, runArtifacts.name], set: { sha256: actual } });
  });
  sendJson(response, 201, { sha256: actual, sizeBytes: size });
}

class PayloadTooLarge extends Error {}

async function download(options: FleetHttpOptions, params: ArtifactParams, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const [row] = await options.db
    .select({ sha256: runArtifacts.sha256, sizeBytes: artifacts.sizeBytes, state: runs.state })
    .from(runArtifacts)
    .innerJoin(artifacts, eq(artifacts.sha256, runArtifacts.sha256))
    .innerJoin(runs, eq(runs.id, runArtifacts.runId))
    .where(and(eq(runArtifacts.runId, params.runId), eq(runArtifacts.attempt, params.attempt), eq(runArtifacts.name, params.kind)));
  if (!row) return sendJson(response, 404, { error: "This attempt uploaded no such checkpoint." });
  // Graded runs are public, like their results; before that only the attempt's runner may read back.
  if (row.state !== "graded") {
    const token = bearerToken(request.headers.authorization);
    const attempt = token === undefined ? undefined : await attemptForToken(options.db, token);
    if (!attempt || attempt.runId !== params.runId || attempt.attempt !== params.attempt) {
      return sendJson(response, 403, { error: "Checkpoints become public when the run is graded." });
    }
  }
  const file = blobPath(options.artifactsDir, row.sha256);
  const info = await stat(file).catch(() => undefined);
  if (!info) return sendJson(response, 404, { error: "The checkpoint file is missing on this server." });
  response.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": String(info.size),
    "content-disposition": `attachment; filename="${params.runId}-${params.attempt}-${params.kind}.ckpt"`,
    "x-content-sha256": row.sha256,
    etag: `"${row.sha256}"`,
    "cache-control": "public, max-age=31536000, immutable",
  });
  if (request.method === "HEAD") return void response.end();
  await pipeline(createReadStream(file), response);
}

// ── helpers ─────────────────────────────────────────────────────────────────────

type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; error: string };

async function readJson(request: IncomingMessage, limit: number): Promise<JsonBody> {
  const type = request.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) return { ok: false, status: 415, error: "Send JSON (content-type: application/json)." };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      return { ok: false, status: 413, error: `The body may be at most ${limit} bytes.` };
    }
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { ok: false, status: 400, error: "The body is not valid JSON." };
  }
}

/** Answers before reading the body, and closes the connection so the unread body is not parsed as a request. */
function refuseBody(request: IncomingMessage, response: ServerResponse, status: number, error: string): void {
  response.setHeader("connection", "close");
  sendJson(response, status, { error });
  request.resume();
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  response.end(JSON.stringify(body));
}
