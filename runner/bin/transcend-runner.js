#!/usr/bin/env node
// The runner is TypeScript executed through tsx: no build step between a `git pull`
// and a working runner. tsx's ESM hook is registered before the CLI is imported.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
await main(process.argv);
