// fast-check arbitraries drawn from a procedure's input schema (zod → JSON Schema with
// z.toJSONSchema), so a fuzzer follows every procedure as it changes without a list
// written by hand. Values are mostly valid, with each leaf at times pushed to or just
// past its boundary (length min−1/max+1, number min/max/±1, NaN, wrong type), since the
// interesting bugs live at the edge of what validation lets through. `pools` feed known
// ids and slugs into uuid and slug fields so that authorisation paths see real rows.
// (zod-fast-check targets zod 3; the repo runs zod 4, whose JSON Schema is the stable surface.)
import fc from "fast-check";

type JsonSchema = {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
};

export interface ValuePools {
  /** Real ids (runs, runners, tokens, variants, recipes of the test's users). */
  uuids: string[];
  /** Real slugs. */
  slugs: string[];
}

/** A value that is of the wrong kind for almost any field. */
const wrongKind: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, "", 0, -1, Number.NaN, Number.POSITIVE_INFINITY, true, [], {}, "__proto__", "constructor"),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1, maxKeys: 3 }),
);

const MAX_DEPTH = 8;
// Large bounds (a 10 000-item array) are exercised at their boundary only: a fuzz case
// that builds megabyte inputs would test the test machine's memory, not the procedure.
const CAP_LENGTH = 64;

export function arbitraryFromSchema(root: object, pools: ValuePools): fc.Arbitrary<unknown> {
  const schema = root as JsonSchema;
  const defs = schema.$defs ?? {};
  const build = (node: JsonSchema, depth: number): fc.Arbitrary<unknown> => {
    const valid = validArbitrary(node, depth);
    // One leaf in ~8 is off the edge or of the wrong kind.
    return fc.oneof({ arbitrary: valid, weight: 7 }, { arbitrary: fc.oneof(edgeArbitrary(node), wrongKind), weight: 1 });
  };

  const validArbitrary = (node: JsonSchema, depth: number): fc.Arbitrary<unknown> => {
    if (node.$ref) {
      const name = node.$ref.replace(/^#\/\$defs\//, "");
      const target = defs[name];
      return target && depth < MAX_DEPTH ? build(target, depth + 1) : wrongKind;
    }
    if (node.const !== undefined) return fc.constant(node.const);
    if (node.enum) return fc.constantFrom(...node.enum);
    const alternatives = node.anyOf ?? node.oneOf;
    if (alternatives && alternatives.length > 0) return fc.oneof(...alternatives.map((alt) => build(alt, depth + 1)));
    if (node.allOf && node.allOf.length > 0) return build(node.allOf[0] ?? {}, depth + 1);
    const type = Array.isArray(node.type) ? node.type[0] : node.type;
    switch (type) {
      case "string":
        return stringArbitrary(node, pools);
      case "integer":
      case "number":
        return numberArbitrary(node, type === "integer");
      case "boolean":
        return fc.boolean();
      case "null":
        return fc.constant(null);
      case "array": {
        if (depth >= MAX_DEPTH) return fc.constant([]);
        if (node.prefixItems) return fc.tuple(...node.prefixItems.map((item) => build(item, depth + 1)));
        const minLength = node.minItems ?? 0;
        const maxLength = Math.min(node.maxItems ?? minLength + 4, minLength + 4, CAP_LENGTH);
        return fc.array(build(node.items ?? {}, depth + 1), { minLength: Math.min(minLength, CAP_LENGTH), maxLength: Math.max(maxLength, Math.min(minLength, CAP_LENGTH)) });
      }
      case "object": {
        if (depth >= MAX_DEPTH) return fc.constant({});
        const properties = node.properties ?? {};
        const required = new Set(node.required ?? []);
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, child] of Object.entries(properties)) model[key] = build(child, depth + 1);
        const requiredKeys = Object.keys(properties).filter((key) => required.has(key));
        const record = fc.record(model, { requiredKeys });
        if (node.additionalProperties === false || Object.keys(properties).length > 0) {
          // Now and then an extra key: strict objects must refuse it, loose ones ignore it.
          return fc.oneof(
            { arbitrary: record, weight: 9 },
            { arbitrary: fc.tuple(record, fc.string({ minLength: 1, maxLength: 6 }), wrongKind).map(([value, key, extra]) => ({ ...value, [key]: extra })), weight: 1 },
          );
        }
        return fc.dictionary(fc.string({ maxLength: 8 }), wrongKind, { maxKeys: 4 });
      }
      default:
        // `{}`: anything (z.unknown, z.any) — or no input at all (z.void).
        return fc.oneof(fc.constant(undefined), wrongKind);
    }
  };

  return build(schema, 0);
}

function stringArbitrary(node: JsonSchema, pools: ValuePools): fc.Arbitrary<string> {
  const minLength = node.minLength ?? 0;
  const maxLength = Math.min(node.maxLength ?? 40, minLength + CAP_LENGTH);
  const choices: fc.Arbitrary<string>[] = [];
  if (node.format === "uuid") {
    choices.push(fc.uuid());
    if (pools.uuids.length > 0) choices.push(fc.constantFrom(...pools.uuids));
  } else if (node.format === "email") {
    choices.push(fc.emailAddress());
  } else if (node.format === "uri" || node.format === "url") {
    choices.push(fc.webUrl());
  } else if (node.format === "date-time") {
    choices.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
  } else if (node.pattern) {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(node.pattern);
    } catch {
      pattern = undefined;
    }
    if (pattern) {
      // Filters here only ever drop a few values: a filter that rejects everything never ends.
      choices.push(fc.stringMatching(pattern, { size: "xsmall" }).map((s) => (s.length > maxLength ? s.slice(0, maxLength) : s)));
      const slugs = pools.slugs.filter((slug) => pattern.test(slug));
      if (slugs.length > 0) choices.push(fc.constantFrom(...slugs));
    }
  }
  choices.push(fc.string({ minLength, maxLength, unit: "grapheme" }));
  return fc.oneof(...choices);
}

function numberArbitrary(node: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = node.minimum ?? (node.exclusiveMinimum !== undefined ? node.exclusiveMinimum + (integer ? 1 : 1e-9) : undefined);
  const max = node.maximum ?? (node.exclusiveMaximum !== undefined ? node.exclusiveMaximum - (integer ? 1 : 1e-9) : undefined);
  if (integer) {
    const lo = Math.max(min ?? -1e6, Number.MIN_SAFE_INTEGER);
    const hi = Math.min(max ?? 1e6, Number.MAX_SAFE_INTEGER);
    return fc.oneof(fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }), fc.constantFrom(Math.ceil(lo), Math.floor(hi)));
  }
  return fc.oneof(
    fc.double({ min: min ?? -1e6, max: max ?? 1e6, noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(...[min, max].filter((v): v is number => v !== undefined), 0),
  );
}

/** Values just outside the node's limits. */
function edgeArbitrary(node: JsonSchema): fc.Arbitrary<unknown> {
  const values: unknown[] = [];
  if (node.minLength !== undefined && node.minLength > 0) values.push("x".repeat(node.minLength - 1));
  if (node.maxLength !== undefined) values.push("x".repeat(Math.min(node.maxLength + 1, 100_001)));
  for (const bound of [node.minimum, node.exclusiveMinimum]) if (bound !== undefined) values.push(bound - 1, bound - 0.5);
  for (const bound of [node.maximum, node.exclusiveMaximum]) if (bound !== undefined) values.push(bound + 1, bound + 0.5);
  if (node.maxItems !== undefined && node.maxItems < 10_000) values.push(Array.from({ length: node.maxItems + 1 }, () => 0));
  if (node.minItems !== undefined && node.minItems > 0) values.push([]);
  if (node.type === "string") values.push("\u0000", "a\u202Eb", "'; drop table runs; --", "../../etc/passwd", "\ud800");
  if (node.type === "integer" || node.type === "number") values.push(Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53, 1.5);
  return values.length > 0 ? fc.constantFrom(...values) : wrongKind;
}
