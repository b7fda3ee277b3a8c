import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canonicalJson,
  decodeSafetensors,
  encodeSafetensors,
  findOrigin,
  loadCheckpoint,
  originKey,
  saveCheckpoint,
  sha256Hex,
  storeOrigin,
} from "./checkpoints";
import { createGpt, disposeGpt, type Gpt, gptForward } from "./model";
import { testRng, useTestBackend } from "./test-support";

let dir = "";
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), "transcend-checkpoints-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = { vocabSize: 12, contextLength: 16, dModel: 16, layers: 2, heads: 2, positionalEncoding: "learned", dropout: 0 } as const;

function logits(gpt: Gpt): number[] {
  return tf.tidy(() => Array.from(gptForward(gpt, tf.tensor2d([[1, 5, 7, 3, 2]], undefined, "int32")).dataSync()));
}

describe("safetensors", () => {
  it("round-trips tensors and metadata; the header is 8-byte aligned", () => {
    const tensors = new Map([
      ["b", { shape: [3], data: new Float32Array([1, -2, 3.5]) }],
      ["a.weight", { shape: [2, 2], data: new Float32Array([0.25, 0, -1, 7]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { format: "test" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ format: "test" });
    expect(Array.from(decoded.tensors.get("a.weight")?.data ?? [])).toEqual([0.25, 0, -1, 7]);
    expect(decoded.tensors.get("b")?.shape).toEqual([3]);
  });
});

describe("checkpoints", () => {
  it("save → load gives the same logits, under the sha256 of the file", async () => {
    const gpt = createGpt(config, testRng(1));
    const ref = await saveCheckpoint(gpt, dir, { kind: "test" });
    expect(path.basename(ref.path)).toBe(`${ref.sha256}.safetensors`);
    expect(sha256Hex(new Uint8Array(await readFile(ref.path)))).toBe(ref.sha256);
    expect(JSON.parse(await readFile(ref.configPath, "utf8"))).toMatchObject({ sha256: ref.sha256, config, kind: "test" });
    const { gpt: loaded } = await loadCheckpoint(ref.path);
    expect(logits(loaded)).toEqual(logits(gpt));
    // Same weights → same address.
    expect((await saveCheckpoint(loaded, dir)).sha256).toBe(ref.sha256);
    disposeGpt(gpt);
    disposeGpt(loaded);
  });

  it("refuses a checkpoint whose bytes no longer match its name", async () => {
    const gpt = createGpt(config, testRng(2));
    const ref = await saveCheckpoint(gpt, dir);
    const bytes = new Uint8Array(await readFile(ref.path));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await writeFile(ref.path, bytes);
    await expect(loadCheckpoint(ref.path)).rejects.toThrow(/corrupt/);
    disposeGpt(gpt);
  });

  it("caches origins by what produced them", async () => {
    const producedBy = { model: config, seed: 3, pretraining: { steps: 10 } };
    expect(originKey(producedBy)).toBe(originKey({ seed: 3, pretraining: { steps: 10 }, model: config }));
    expect(originKey(producedBy)).not.toBe(originKey({ ...producedBy, seed: 4 }));
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
    const key = originKey(producedBy);
    expect(await findOrigin(dir, key)).toBeUndefined();
    const gpt = createGpt(config, testRng(3));
    const ref = await storeOrigin(dir, gpt, key, { finalLoss: 1.5 }, {});
    const found = await findOrigin<{ finalLoss: number }>(dir, key);
    expect(found?.record.checkpoint).toBe(ref.sha256);
    expect(found?.record.pretraining.finalLoss).toBe(1.5);
    disposeGpt(gpt);
  });
});
