"use client";
// Times render in the reader's zone. The server renders in its own zone, so the text
// may differ at hydration; React is told that this difference is expected.

export function LocalTime({ at, withDate = false }: { at: Date; withDate?: boolean }) {
  const text = withDate
    ? at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })
    : at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return (
    <time dateTime={at.toISOString()} title={at.toISOString()} suppressHydrationWarning>
      {text}
    </time>
  );
}
