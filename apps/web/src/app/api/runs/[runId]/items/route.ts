// Per-item outcomes of a graded run as JSON lines: one object per item and split with both
// models' greedy verdict and correct count of n. 404 until the run is graded: before that
// the items are the grader's secret.
import { z } from "zod";
// Relative imports (not "@/"): the grading tests load this handler under vitest, which has no alias.
import { getServerContext } from "../../../../../server/context";
import { runItemLines } from "../../../../../server/services/run-results";

export const dynamic = "force-dynamic";

const paramsSchema = z.object({ runId: z.string().uuid() });

export async function GET(_request: Request, context: { params: Promise<{ runId: string }> }): Promise<Response> {
  const params = paramsSchema.safeParse(await context.params);
  const notFound = () =>
    Response.json({ error: "No graded run with this id: per-item outcomes are published once a run is graded." }, { status: 404 });
  if (!params.success) return notFound();
  const lines = await runItemLines(getServerContext().db, params.data.runId);
  if (lines === undefined) return notFound();
  return new Response(lines.length === 0 ? "" : `${lines.join("\n")}\n`, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="run-${params.data.runId}-items.jsonl"`,
      "cache-control": "no-store",
    },
  });
}
