"use client";
import { useState } from "react";
import { Button } from "./button";

/** Copies `text`; says "Copied" for a moment (the label keeps its width). */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      variant="secondary"
      size="sm"
      onClick={async () => {
        await navigator.clipboard.writeText(text);
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      <span className="grid">
        <span className={copied ? "invisible col-start-1 row-start-1" : "col-start-1 row-start-1"}>{label}</span>
        <span aria-live="polite" className={copied ? "col-start-1 row-start-1" : "invisible col-start-1 row-start-1"}>
          Copied
        </span>
      </span>
    </Button>
  );
}
