"use client";
// The recipe form wired to the server: create (from a preset or a fork) or edit.
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { RecipePresetName } from "@transcend/protocol";
import { useTRPC } from "@/trpc/react";
import { saveProblems } from "@/app/_lib/save-problems";
import type { RecipeSpecInput } from "../_lib/spec";
import { RecipeEstimate } from "./recipe-estimate";
import { RecipeForm } from "./recipe-form";

export function RecipeEditor({
  initial,
  mode,
  preset,
}: {
  initial: RecipeSpecInput;
  mode: "create" | "edit";
  /** Shows the preset picker with this one chosen (new recipes only). */
  preset?: RecipePresetName;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const create = useMutation(trpc.recipes.create.mutationOptions());
  const edit = useMutation(trpc.recipes.edit.mutationOptions());
  return (
    <RecipeForm
      initial={initial}
      initialPreset={preset}
      showPresets={mode === "create" && preset !== undefined}
      slugLocked={mode === "edit"}
      submitLabel={mode === "edit" ? "Save changes" : "Create recipe"}
      aside={(values) => <RecipeEstimate values={values} />}
      onSave={async (spec) => {
        try {
          if (mode === "edit") {
            const saved = await edit.mutateAsync({ spec });
            router.push(`/recipes/${saved.id}?saved=${saved.outcome}`);
          } else {
            const saved = await create.mutateAsync({ spec });
            router.push(`/recipes/${saved.id}?saved=created`);
          }
          router.refresh();
        } catch (error) {
          return saveProblems(error, { prefix: "spec.", conflictPath: "slug" });
        }
      }}
    />
  );
}
