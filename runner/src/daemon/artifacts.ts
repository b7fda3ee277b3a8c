// Checkpoint upload: HTTP PUT of the file to the server, authorised by the attempt's own
// token (it can upload for this attempt only), with the sha256 the server checks the
// bytes against. Checkpoints do not go over the WebSocket: frames stay small.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { AttemptRef } from "@transcend/protocol";
import { describeSocketError } from "../connection/runner-connection";
import { serverEndpoint } from "../connection/server-url";

export type ArtifactKind = "origin" | "final";

/** Attempts per upload: a restarting server or a dropped connection gets two more chances. */
export const UPLOAD_ATTEMPTS = 3;
/** Between upload attempts: about the time a server needs to restart. */
export const UPLOAD_RETRY_DELAY_MS = 2_000;
/** A checkpoint of the largest recipe is tens of megabytes: minutes even on a slow uplink. */
export const UPLOAD_TIMEOUT_MS = 10 * 60_000;

export function artifactUrl(server: string, ref: AttemptRef, kind: ArtifactKind): URL {
  return serverEndpoint(server, `/api/runs/${encodeURIComponent(ref.runId)}/attempts/${ref.attempt}/artifacts/${kind}`);
}

export type UploadOutcome = { ok: true; sha256: string; bytes: number } | { ok: false; error: string };

export async function uploadArtifact(options: {
  server: string;
  ref: AttemptRef;
  kind: ArtifactKind;
  file: string;
  attemptToken: string;
  retryDelayMs?: number;
}): Promise<UploadOutcome> {
  const body = await readFile(options.file);
  const sha256 = createHash("sha256").update(body).digest("hex");
  const url = artifactUrl(options.server, options.ref, options.kind);
  let error = "";
  for (let attempt = 1; attempt <= UPLOAD_ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${options.attemptToken}`,
          "content-type": "application/octet-stream",
          "x-content-sha256": sha256,
        },
        body,
        signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, sha256, bytes: body.length };
      error = `HTTP ${response.status} from ${url.pathname}`;
      // Only a server error may go away by itself; 4xx (token refused, too large, no such endpoint) will not.
      if (response.status < 500) break;
    } catch (cause) {
      error = describeSocketError((cause as { cause?: unknown }).cause ?? cause);
    }
    if (attempt < UPLOAD_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? UPLOAD_RETRY_DELAY_MS));
  }
  return { ok: false, error };
}
