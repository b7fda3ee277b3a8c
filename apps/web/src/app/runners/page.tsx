import type { Metadata } from "next";
import { RunnersView } from "./_components/runners-view";

export const metadata: Metadata = { title: "Runners" };

export default function RunnersPage() {
  return <RunnersView />;
}
