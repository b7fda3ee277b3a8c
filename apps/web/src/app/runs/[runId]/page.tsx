import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { RunLive } from "../_components/run-live";

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function generateMetadata({ params }: { params: Promise<{ runId: string }> }): Promise<Metadata> {
  const { runId } = await params;
  return { title: `Run ${runId.slice(0, 8)}` };
}

export default async function RunPage({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  // Anything that is not a run id is not a page, rather than an input error from the API.
  if (!RUN_ID.test(runId)) notFound();
  return <RunLive runId={runId.toLowerCase()} />;
}
