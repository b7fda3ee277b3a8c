import type { Metadata } from "next";
import { Suspense } from "react";
import { SkeletonRows } from "@/components/ui";
import { RunsList } from "./_components/runs-list";

export const metadata: Metadata = { title: "Runs" };

export default function RunsPage() {
  // The filters are read from the URL in the browser; Suspense is where that waits.
  return (
    <Suspense fallback={<SkeletonRows rows={5} rowClassName="h-12" label="Loading runs" />}>
      <RunsList />
    </Suspense>
  );
}
