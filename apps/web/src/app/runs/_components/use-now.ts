"use client";
import { useEffect, useState } from "react";

/** The current time, refreshed every `intervalMs` while `live`; frozen otherwise. */
export function useNow(intervalMs: number, live = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!live) return;
    setNow(new Date());
    const timer = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, live]);
  return now;
}
