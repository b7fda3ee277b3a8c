import { describe, expect, it } from "vitest";
import { runnerSocketUrl, serverEndpoint } from "./server-url";

describe("runnerSocketUrl", () => {
  it.each([
    ["http://localhost:3000", "ws://localhost:3000/api/runner"],
    ["http://localhost:3000/", "ws://localhost:3000/api/runner"],
    ["https://transcend.example.org", "wss://transcend.example.org/api/runner"],
    ["localhost:3000", "ws://localhost:3000/api/runner"],
    ["wss://example.org/api/runner", "wss://example.org/api/runner"],
    ["https://example.org/transcend/", "wss://example.org/transcend/api/runner"],
  ])("%s → %s", (input, expected) => {
    expect(runnerSocketUrl(input).href).toBe(expected);
  });

  it("names the flag and an example when the address is not usable", () => {
    expect(() => runnerSocketUrl("ftp://example.org")).toThrow("--server must start with http://, https://, ws:// or wss://, not ftp://");
    expect(() => runnerSocketUrl("http://exa mple.org")).toThrow('--server must be the server\'s address, e.g. http://localhost:3000, not "http://exa mple.org"');
  });
});

describe("serverEndpoint", () => {
  it.each([
    ["http://localhost:3000", "http://localhost:3000/api/runners/register"],
    ["localhost:3000/", "http://localhost:3000/api/runners/register"],
    ["wss://example.org/api/runner", "https://example.org/api/runners/register"],
    ["https://example.org/transcend/", "https://example.org/transcend/api/runners/register"],
  ])("%s → %s", (input, expected) => {
    expect(serverEndpoint(input, "/api/runners/register").href).toBe(expected);
  });
});
