"use client";
// The form wired to the server: create (new or fork) or edit, then go to the saved version.
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { TaskVariantInput } from "@transcend/protocol";
import { useTRPC } from "@/trpc/react";
import { saveProblems } from "@/app/_lib/save-problems";
import { VariantForm } from "./variant-form";

export function VariantEditor({ initial, mode }: { initial: TaskVariantInput; mode: "create" | "edit" }) {
  const trpc = useTRPC();
  const router = useRouter();
  const create = useMutation(trpc.variants.create.mutationOptions());
  const edit = useMutation(trpc.variants.edit.mutationOptions());
  return (
    <VariantForm
      initial={initial}
      familyLocked={mode === "edit"}
      slugLocked={mode === "edit"}
      submitLabel={mode === "edit" ? "Save changes" : "Create task variant"}
      onSave={async (spec) => {
        try {
          if (mode === "edit") {
            const saved = await edit.mutateAsync({ spec });
            router.push(`/variants/${saved.id}?saved=${saved.outcome}`);
          } else {
            const saved = await create.mutateAsync({ spec });
            router.push(`/variants/${saved.id}?saved=created`);
          }
          router.refresh();
        } catch (error) {
          return saveProblems(error, { prefix: "spec.", conflictPath: "slug" });
        }
      }}
    />
  );
}
