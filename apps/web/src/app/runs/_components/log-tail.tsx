"use client";
import { useEffect, useRef } from "react";

/**
 * The end of the runner's log in a scrollable monospace box. It follows new lines while
 * the reader is at the bottom and stays put once they scroll up to read.
 */
export function LogTail({ text, truncated, live }: { text: string; truncated?: boolean; live: boolean }) {
  const box = useRef<HTMLPreElement>(null);
  const following = useRef(true);

  useEffect(() => {
    const element = box.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [text]);

  return (
    <section aria-labelledby="logs-heading" className="space-y-3">
      <div className="flex items-baseline justify-between gap-2">
        <h2 id="logs-heading" className="text-lg font-semibold tracking-tight">
          Logs
        </h2>
        {truncated && <p className="text-xs text-slate-500 dark:text-slate-400">showing the last lines</p>}
      </div>
      {text.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-500 dark:border-slate-700 dark:text-slate-400">
          {live ? "No log lines yet; they stream here while the runner works." : "The runner sent no log lines for this run."}
        </p>
      ) : (
        <pre
          ref={box}
          tabIndex={0}
          aria-label="Runner log"
          data-testid="run-log"
          onScroll={(event) => {
            const element = event.currentTarget;
            following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
          }}
          className="max-h-80 overflow-auto rounded-lg bg-slate-950 p-4 font-mono text-xs leading-relaxed text-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500"
        >
          {text}
        </pre>
      )}
    </section>
  );
}
