// The HTTP API as browsers and scripts meet it, through the real handler: sessions from
// better-auth's own endpoints, personal access tokens (work until revoked), the origin
// and content-type rules for cookie-authenticated writes, the body limit; and the
// authorisation matrix of the account, token and runner procedures.
import { describeEachDatabase } from "@transcend/db/testing";
import { presets } from "@transcend/tasks";
import { beforeAll, describe, expect, it } from "vitest";
import { createAuth, type Auth } from "../auth";
import { MAX_BODY_BYTES } from "../request-guard";
import { seedDatabase } from "../seed";
import { registerRunner } from "../services/runners";
import { handleTrpcRequest } from "../trpc-handler";
import type { ContextUser } from "../trpc";
import { registerCommand, shellQuote } from "./runners";
import { callerAs, createUser, expectInvalidPaths, expectTrpcError } from "./test-support";

const SITE = "http://localhost:3000";

describeEachDatabase("HTTP API", (getDb) => {
  let auth: Auth;
  let cookie: string;
  const call = (request: Request) => handleTrpcRequest(request, { db: getDb(), publicOrigin: undefined, auth });
  const post = (procedure: string, input: unknown, headers: Record<string, string>) =>
    call(
      new Request(`${SITE}/api/trpc/${procedure}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ json: input }),
      }),
    );
  const get = (procedure: string, headers: Record<string, string> = {}) => call(new Request(`${SITE}/api/trpc/${procedure}`, { headers }));
  const data = async (response: Response) => ((await response.json()) as { result: { data: { json: unknown } } }).result.data.json;

  beforeAll(async () => {
    await seedDatabase(getDb());
    auth = createAuth(getDb(), { secret: "api-test-secret-api-test-secret-0123456789", baseURL: SITE });
    const signUp = await auth.handler(
      new Request(`${SITE}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: SITE },
        body: JSON.stringify({ name: "Script Writer", email: `scripts-${Date.now()}@example.com`, password: "a long enough password" }),
      }),
    );
    expect(signUp.status).toBe(200);
    cookie = signUp.headers
      .getSetCookie()
      .map((line) => line.split(";", 1)[0])
      .join("; ");
  });

  it("creates a token with the session, then works with the token alone until revoked", async () => {
    const created = await post("tokens.create", { name: "ci" }, { cookie, origin: SITE });
    expect(created.status).toBe(200);
    const { token, id, prefix } = (await data(created)) as { token: string; id: string; prefix: string };
    expect(token).toMatch(/^tpat_/);
    expect(token.startsWith(prefix)).toBe(true);

    const me = await get("account.me", { authorization: `Bearer ${token}` });
    expect(await data(me)).toMatchObject({ name: "Script Writer", authMethod: "token" });

    // A script on another machine: no cookie, any origin (or none).
    const submitted = await post(
      "runs.submit",
      { variant: { slug: presets[0]?.slug }, recipe: { slug: "tiny" }, seedCount: 1 },
      { authorization: `Bearer ${token}`, origin: "https://ci.example" },
    );
    expect(submitted.status).toBe(200);
    expect(((await data(submitted)) as { runs: unknown[] }).runs).toHaveLength(1);

    expect((await post("tokens.revoke", { id }, { cookie, origin: SITE })).status).toBe(200);
    const refused = await get("account.me", { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(401);
    expect((await get("account.me", { authorization: "Bearer tpat_made-up-token-value" })).status).toBe(401);
  });

  it("refuses cookie-authenticated writes that are not JSON from our own origin", async () => {
    const textPlain = await call(
      new Request(`${SITE}/api/trpc/tokens.create`, {
        method: "POST",
        headers: { "content-type": "text/plain", cookie, origin: "https://evil.example" },
        body: JSON.stringify({ json: { name: "stolen" } }),
      }),
    );
    expect(textPlain.status).toBe(403);
    const sameOriginText = await call(
      new Request(`${SITE}/api/trpc/tokens.create`, {
        method: "POST",
        headers: { "content-type": "text/plain", cookie, origin: SITE },
        body: JSON.stringify({ json: { name: "as text" } }),
      }),
    );
    expect(sameOriginText.status).toBe(415);
    expect((await post("tokens.create", { name: "x" }, { cookie, origin: "https://evil.example" })).status).toBe(403);
    expect((await post("tokens.create", { name: "x" }, { cookie, origin: "null" })).status).toBe(403);
    expect((await post("tokens.create", { name: "x" }, { cookie, "sec-fetch-site": "cross-site" })).status).toBe(403);
    // Our own page, behind a proxy that terminates TLS: the Origin's host is the Host header.
    expect((await post("tokens.create", { name: "proxied" }, { cookie, origin: "https://localhost:3000", host: "localhost:3000" })).status).toBe(200);
    // Nothing was created by the refused requests.
    const list = (await data(await get("tokens.list", { cookie }))) as Array<{ name: string }>;
    expect(list.map((token) => token.name).sort()).toEqual(["ci", "proxied"]);
  });

  it("refuses a body over the limit and answers reads anonymously", async () => {
    const big = await post("tokens.create", { name: "x".repeat(MAX_BODY_BYTES) }, { cookie, origin: SITE });
    expect(big.status).toBe(413);
    const board = await get("leaderboard.variants");
    expect(board.status).toBe(200);
    // README's curl: a leaderboard as JSON, input in the query string.
    const input = encodeURIComponent(JSON.stringify({ json: { slug: presets[0]?.slug } }));
    const variantBoard = await get(`leaderboard.variant?input=${input}`);
    expect(variantBoard.status).toBe(200);
    expect(await data(variantBoard)).toBeTypeOf("object");
    expect(await data(await get("account.me"))).toBeNull();
    expect((await post("tokens.create", { name: "anon" }, { origin: SITE })).status).toBe(401);
  });
});

describeEachDatabase("account, tokens and runners procedures", (getDb) => {
  let owner: ContextUser;
  let other: ContextUser;
  beforeAll(async () => {
    owner = await createUser(getDb(), "Keeper");
    other = await createUser(getDb(), "Visitor");
  });

  it("tokens: anonymous refused, others' tokens untouchable, own tokens listed without secrets", async () => {
    const anonymous = callerAs(getDb(), null);
    await expectTrpcError(anonymous.tokens.create({ name: "x" }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.tokens.list(), "UNAUTHORIZED");
    await expectTrpcError(anonymous.tokens.revoke({ id: "00000000-0000-4000-8000-000000000000" }), "UNAUTHORIZED");
    const created = await callerAs(getDb(), owner).tokens.create({ name: "laptop", expiresInDays: 30 });
    expect(created.expiresAt?.getTime()).toBeGreaterThan(Date.now());
    await expectTrpcError(callerAs(getDb(), other).tokens.revoke({ id: created.id }), "FORBIDDEN");
    expect(await callerAs(getDb(), other).tokens.list()).toEqual([]);
    const listed = await callerAs(getDb(), owner).tokens.list();
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect((await callerAs(getDb(), owner).tokens.revoke({ id: created.id })).revokedAt).not.toBeNull();
    expect(await expectInvalidPaths(callerAs(getDb(), owner).tokens.create({ name: "" }))).toContain("name");
    expect(await expectInvalidPaths(callerAs(getDb(), owner).tokens.create({ name: "ok", expiresInDays: 1000 }))).toContain("expiresInDays");
  });

  it("account.me: null for anonymous, the user otherwise", async () => {
    expect(await callerAs(getDb(), null).account.me()).toBeNull();
    expect(await callerAs(getDb(), owner, { authMethod: "token" }).account.me()).toMatchObject({ id: owner.id, authMethod: "token" });
  });

  it("runners: the register command, the owner's list, revocation by the owner only", async () => {
    const anonymous = callerAs(getDb(), null);
    await expectTrpcError(anonymous.runners.createRegistrationToken({ name: "box" }), "UNAUTHORIZED");
    await expectTrpcError(anonymous.runners.list(), "UNAUTHORIZED");
    await expectTrpcError(anonymous.runners.revoke({ runnerId: "00000000-0000-4000-8000-000000000000" }), "UNAUTHORIZED");

    const created = await callerAs(getDb(), owner).runners.createRegistrationToken({ name: "lab gpu" });
    expect(created.command).toBe(`transcend-runner register --server http://transcend.test --token ${created.token} --name 'lab gpu'`);
    const { runnerId } = await registerRunner(getDb(), { token: created.token, name: "lab gpu" });
    expect((await callerAs(getDb(), owner).runners.list()).map((runner) => runner.id)).toEqual([runnerId]);
    expect(await callerAs(getDb(), other).runners.list()).toEqual([]);
    await expectTrpcError(callerAs(getDb(), other).runners.revoke({ runnerId }), "FORBIDDEN");
    await callerAs(getDb(), owner).runners.revoke({ runnerId });
    expect((await callerAs(getDb(), owner).runners.list())[0]?.status).toBe("revoked");
    expect(await expectInvalidPaths(callerAs(getDb(), owner).runners.createRegistrationToken({ name: "x".repeat(101) }))).toContain("name");
    expect(await expectInvalidPaths(callerAs(getDb(), owner).runners.revoke({ runnerId: "nope" }))).toContain("runnerId");
  });
});

describe("register command", () => {
  it("quotes what a shell would split or expand", () => {
    expect(shellQuote("plain-name_1")).toBe("plain-name_1");
    expect(shellQuote("it's $HOME")).toBe(`'it'"'"'s $HOME'`);
    expect(registerCommand({ origin: "https://t.example", token: "trt_abc", name: "a b" })).toBe(
      "transcend-runner register --server https://t.example --token trt_abc --name 'a b'",
    );
  });
});
