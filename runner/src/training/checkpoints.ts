// Checkpoints: weights in safetensors (8-byte header length, JSON header, raw little-endian
// float32) beside a JSON file with the model config, both named by the sha256 of the
// safetensors bytes. Origin (pretrained) checkpoints are also indexed by a hash of
// everything that produced them, so GRPO recipes that share a pretraining reuse one.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ModelConfig } from "./config";
import { type Gpt, gptFromValues, namedWeights } from "./model";

export const CHECKPOINT_FORMAT = "transcend-gpt/1";

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  if (os.endianness() !== "LE") throw new Error("safetensors are little-endian; this host is not");
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name);
    if (!tensor) continue;
    const bytes = tensor.data.length * 4;
    header[name] = { dtype: "F32", shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerText = JSON.stringify(header);
  headerText += " ".repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(headerText, "utf8");
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const tensor = tensors.get(name);
    if (!tensor) continue;
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length * 4), position);
    position += tensor.data.length * 4;
  }
  return out;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function decodeSafetensors(bytes: Uint8Array): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error("not a safetensors file: shorter than its header length");
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new Error("not a safetensors file: header runs past the end");
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString("utf8")) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const entry = value as HeaderEntry;
    if (entry.dtype !== "F32") throw new Error(`tensor ${name}: dtype ${entry.dtype} is not supported (F32 only)`);
    const [begin, end] = entry.data_offsets;
    if (dataStart + end > bytes.length || end - begin !== 4 * entry.shape.reduce((a, b) => a * b, 1))
      throw new Error(`tensor ${name}: data offsets do not match its shape`);
    // Copied out, so the floats are aligned whatever the header length was.
    const data = new Float32Array(bytes.slice(dataStart + begin, dataStart + end).buffer);
    tensors.set(name, { shape: entry.shape, data });
  }
  return { tensors, metadata };
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** JSON with object keys sorted, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export interface CheckpointRef {
  sha256: string;
  /** The .safetensors file. */
  path: string;
  /** The JSON file beside it: format, model config, what produced it. */
  configPath: string;
}

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}

/** Writes `<dir>/<sha256>.safetensors` and `<dir>/<sha256>.json`. */
export async function saveCheckpoint(gpt: Gpt, dir: string, about: Record<string, unknown> = {}): Promise<CheckpointRef> {
  const tensors = new Map<string, NamedTensor>(
    namedWeights(gpt).map(([name, v]) => [name, { shape: [...v.shape], data: v.dataSync() as Float32Array }]),
  );
  const bytes = encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, config: JSON.stringify(gpt.config) });
  const sha256 = sha256Hex(bytes);
  await mkdir(dir, { recursive: true });
  const ref = { sha256, path: path.join(dir, `${sha256}.safetensors`), configPath: path.join(dir, `${sha256}.json`) };
  await writeAtomically(ref.path, bytes);
  await writeAtomically(ref.configPath, JSON.stringify({ format: CHECKPOINT_FORMAT, sha256, config: gpt.config, ...about }, null, 2));
  return ref;
}

/** Loads a checkpoint's model; verifies the bytes against the sha256 in the file name when there is one. */
export async function loadCheckpoint(file: string, trainable = true): Promise<{ gpt: Gpt; sha256: string }> {
  const bytes = new Uint8Array(await readFile(file));
  const sha256 = sha256Hex(bytes);
  const named = path.basename(file, ".safetensors");
  if (/^[0-9a-f]{64}$/.test(named) && named !== sha256) throw new Error(`checkpoint ${file} is corrupt: its sha256 is ${sha256}`);
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== CHECKPOINT_FORMAT || !metadata.config) throw new Error(`${file} is not a ${CHECKPOINT_FORMAT} checkpoint`);
  const config = JSON.parse(metadata.config) as ModelConfig;
  const gpt = gptFromValues(config, new Map([...tensors].map(([name, t]) => [name, t.data])), trainable);
  return { gpt, sha256 };
}

// ---------------------------------------------------------------------------------------
// Origin cache: <cacheDir>/origins/<key>.json → the checkpoint and the pretraining report.

export interface OriginRecord<Report> {
  key: string;
  checkpoint: string; // sha256
  pretraining: Report;
}

/** The hash of everything that determines a pretrained model. */
export function originKey(producedBy: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(producedBy));
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
  return path.join(base, "transcend-runner");
}

export async function findOrigin<Report>(cacheDir: string, key: string): Promise<{ record: OriginRecord<Report>; file: string } | undefined> {
  try {
    const record = JSON.parse(await readFile(path.join(cacheDir, "origins", `${key}.json`), "utf8")) as OriginRecord<Report>;
    const file = path.join(cacheDir, "checkpoints", `${record.checkpoint}.safetensors`);
    await readFile(path.join(cacheDir, "checkpoints", `${record.checkpoint}.json`)); // both halves present
    return { record, file };
  } catch {
    return undefined;
  }
}

export async function storeOrigin<Report>(cacheDir: string, gpt: Gpt, key: string, pretraining: Report, about: Record<string, unknown>): Promise<CheckpointRef> {
  const ref = await saveCheckpoint(gpt, path.join(cacheDir, "checkpoints"), { kind: "origin", originKey: key, ...about });
  await mkdir(path.join(cacheDir, "origins"), { recursive: true });
  const record: OriginRecord<Report> = { key, checkpoint: ref.sha256, pretraining };
  await writeAtomically(path.join(cacheDir, "origins", `${key}.json`), JSON.stringify(record, null, 2));
  return ref;
}
