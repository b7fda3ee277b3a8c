import { cn } from "./cn";

/** A placeholder of the size of what is loading, so nothing moves when it arrives. */
export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden className={cn("animate-pulse rounded-md bg-slate-200 dark:bg-slate-800", className)} />;
}

/** A list's loading state: rows of the list's height, announced once to screen readers. */
export function SkeletonRows({ rows = 3, label = "Loading", rowClassName = "h-14" }: { rows?: number; label?: string; rowClassName?: string }) {
  return (
    <div role="status" aria-live="polite" className="space-y-2">
      <span className="sr-only">{label}…</span>
      {Array.from({ length: rows }, (_, index) => (
        <Skeleton key={index} className={cn("w-full", rowClassName)} />
      ))}
    </div>
  );
}
