"use client";
// The task variant form: family, splits (axis and parameters), pretraining and GRPO mixes,
// chain of thought and evaluation size, validated by the one schema that the server and the
// runners use (taskVariantSchema), with the message next to the field and a live preview.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { Controller, useFieldArray, useForm, useWatch, type FieldPath } from "react-hook-form";
import {
  TASK_FAMILIES,
  TASK_LIMITS,
  taskVariantSchema,
  type TaskFamilyName,
  type TaskVariant,
  type TaskVariantInput,
} from "@transcend/protocol";
import { Alert, Badge, Button, Card, CardHeader, Checkbox, Field, FieldError, Input, Select, Textarea } from "@/components/ui";
import {
  AXIS_OPTIONS,
  canAddSplit,
  canRemoveSplit,
  dropMixKey,
  errorAt,
  mixShares,
  newSplit,
  renameMixKey,
  startingVariant,
  toFormValues,
} from "../_lib/draft";
import { anyPath } from "./form-paths";
import { SplitParams } from "./split-params";
import { VariantPreview } from "./variant-preview";

const FAMILY_WORDS: Record<TaskFamilyName, string> = {
  "string-ops": "string-ops — apply a chain of operations to a word",
  "graph-path": "graph-path — find a path in a small directed graph",
  "mod-arith": "mod-arith — evaluate a chain of operations modulo p",
};

export interface SaveProblem {
  /** A form path (e.g. `slug`) to show the message next to, or none for the whole form. */
  path?: string;
  message: string;
}

export function VariantForm({
  initial,
  submitLabel,
  familyLocked = false,
  slugLocked = false,
  onSave,
}: {
  initial: TaskVariantInput;
  submitLabel: string;
  /** Editing keeps the family: a different family is a different variant. */
  familyLocked?: boolean;
  /** Editing keeps the slug: it names the variant whose new version this is. */
  slugLocked?: boolean;
  /** Saves the validated variant; resolves to problems to show, or nothing on success. */
  onSave: (variant: TaskVariant) => Promise<SaveProblem[] | void>;
}) {
  const form = useForm<TaskVariantInput, unknown, TaskVariant>({
    resolver: zodResolver(taskVariantSchema),
    defaultValues: toFormValues(initial),
    mode: "onTouched",
  });
  const { control, register, handleSubmit, getValues, setValue, reset, setError, formState } = form;
  const { errors, isSubmitting } = formState;
  const splitsArray = useFieldArray({ control, name: "splits" as never });
  const [formProblem, setFormProblem] = useState<string>();

  const family = useWatch({ control, name: "family" });
  const splits = useWatch({ control, name: "splits" }) ?? [];
  const chainOfThought = useWatch({ control, name: "chainOfThought" }) ?? true;
  const pretrainingMix = useWatch({ control, name: "pretrainingMix" }) ?? {};
  const grpoMix = useWatch({ control, name: "grpoMix" }) ?? {};
  const evalSplits = useWatch({ control, name: "evalSplits" }) ?? [];
  const pretrainingShares = mixShares(pretrainingMix);
  const grpoShares = mixShares(grpoMix);

  // Validation re-runs on every change once the form has been submitted, so the mixes'
  // messages follow renamed splits.
  const revalidate = () => {
    if (formState.isSubmitted) void form.trigger();
  };

  const renameSplit = (index: number, to: string) => {
    const from = getValues(anyPath(`splits.${index}.name`)) as string;
    setValue(anyPath(`splits.${index}.name`), to, { shouldDirty: true, shouldValidate: formState.isSubmitted });
    setValue("pretrainingMix", renameMixKey(getValues("pretrainingMix"), from, to), { shouldDirty: true });
    setValue("grpoMix", renameMixKey(getValues("grpoMix"), from, to), { shouldDirty: true });
    setValue(
      "evalSplits",
      getValues("evalSplits").map((name) => (name === from ? to : name)),
      { shouldDirty: true },
    );
    revalidate();
  };

  const removeSplit = (index: number) => {
    const name = getValues(anyPath(`splits.${index}.name`)) as string;
    splitsArray.remove(index);
    setValue("pretrainingMix", dropMixKey(getValues("pretrainingMix"), name), { shouldDirty: true });
    setValue("grpoMix", dropMixKey(getValues("grpoMix"), name), { shouldDirty: true });
    setValue(
      "evalSplits",
      getValues("evalSplits").filter((split) => split !== name),
      { shouldDirty: true },
    );
    revalidate();
  };

  const addSplit = () => {
    const split = newSplit(getValues("splits"));
    splitsArray.append(split as never);
    setValue("pretrainingMix", { ...getValues("pretrainingMix"), [split.name]: 0 }, { shouldDirty: true });
    setValue("grpoMix", { ...getValues("grpoMix"), [split.name]: 0 }, { shouldDirty: true });
    setValue("evalSplits", [...getValues("evalSplits"), split.name], { shouldDirty: true });
    revalidate();
  };

  const changeFamily = (next: TaskFamilyName) => {
    const { slug, name, description } = getValues();
    // Split parameters differ by family: start the new family from its preset, keeping the naming.
    reset({ ...toFormValues(startingVariant(next)), slug, name, description }, { keepDefaultValues: true });
  };

  const setWeight = (mixName: "pretrainingMix" | "grpoMix", split: string, raw: string) => {
    const weight = raw === "" ? Number.NaN : Number(raw);
    setValue(mixName, { ...getValues(mixName), [split]: weight }, { shouldDirty: true });
    revalidate();
  };

  const toggleEvaluated = (split: string, evaluated: boolean) => {
    const current = getValues("evalSplits");
    const names = getValues("splits").map((s) => s.name);
    const next = evaluated ? names.filter((name) => name === split || current.includes(name)) : current.filter((name) => name !== split);
    setValue("evalSplits", next, { shouldDirty: true });
    revalidate();
  };

  const onSubmit = handleSubmit(async (variant) => {
    setFormProblem(undefined);
    const problems = await onSave(variant);
    for (const problem of problems ?? []) {
      if (problem.path) setError(problem.path as FieldPath<TaskVariantInput>, { type: "server", message: problem.message });
      else setFormProblem(problem.message);
    }
  });

  const errorCount = countErrors(errors);

  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)] lg:items-start">
      <div className="space-y-6">
        <Card aria-labelledby="basics">
          <CardHeader id="basics" title="The variant" description="A task family, and how its splits are used." />
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Name" hint="shown on the leaderboard; up to 120 characters" error={errors.name?.message}>
              <Input autoComplete="off" {...register("name")} />
            </Field>
            <Field
              label="Slug"
              hint={slugLocked ? "a new version keeps its slug; fork it to make another" : "its address: lowercase letters and digits joined by dashes, 3–64"}
              error={errors.slug?.message}
            >
              <Input autoComplete="off" spellCheck={false} className="font-mono" readOnly={slugLocked} {...register("slug")} />
            </Field>
            <Field className="sm:col-span-2" label="Description" hint={`what this variant tests; up to ${TASK_LIMITS.variant.textLength} characters`} error={errors.description?.message}>
              <Textarea rows={2} {...register("description")} />
            </Field>
            <Field className="sm:col-span-2" label="Task family" hint={familyLocked ? "a new version keeps its family; fork it to change the family" : "changing the family starts its splits from that family's preset"} error={errors.family?.message}>
              <Select
                disabled={familyLocked}
                value={family}
                onChange={(event) => changeFamily(event.target.value as TaskFamilyName)}
              >
                {TASK_FAMILIES.map((name) => (
                  <option key={name} value={name}>
                    {FAMILY_WORDS[name]}
                  </option>
                ))}
              </Select>
            </Field>
          </div>
        </Card>

        <Card aria-labelledby="splits-heading">
          <CardHeader
            id="splits-heading"
            title="Splits"
            description="One in-distribution split (axis id), and OOD splits that differ from it along exactly one axis."
            actions={
              <Button variant="secondary" size="sm" onClick={addSplit} disabled={!canAddSplit(splitsArray.fields.length)}>
                Add split
              </Button>
            }
          />
          <FieldError message={errorAt(errors, "splits")} />
          <ol className="space-y-4">
            {splitsArray.fields.map((field, index) => (
              <li key={field.id} className="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
                <div className="mb-4 grid gap-4 sm:grid-cols-[1fr_1fr_auto] sm:items-start">
                  <Controller
                    control={control}
                    name={anyPath(`splits.${index}.name`)}
                    render={({ field: nameField }) => (
                      <Field label="Split name" hint="lowercase, 1–32 characters" error={errorAt(errors, `splits.${index}.name`)}>
                        <Input
                          autoComplete="off"
                          spellCheck={false}
                          className="font-mono"
                          name={nameField.name}
                          ref={nameField.ref}
                          value={String(nameField.value ?? "")}
                          onBlur={nameField.onBlur}
                          onChange={(event) => renameSplit(index, event.target.value)}
                        />
                      </Field>
                    )}
                  />
                  <Field label="Axis" hint="how it differs from id" error={errorAt(errors, `splits.${index}.axis`)}>
                    <Select {...register(anyPath(`splits.${index}.axis`))}>
                      {AXIS_OPTIONS.map((option) => (
                        <option key={option.value} value={option.value}>
                          {option.label}
                        </option>
                      ))}
                    </Select>
                  </Field>
                  <Button
                    variant="ghost"
                    size="sm"
                    className="sm:mt-7"
                    onClick={() => removeSplit(index)}
                    disabled={!canRemoveSplit(splitsArray.fields.length)}
                    aria-label={`Remove split ${splits[index]?.name ?? index + 1}`}
                  >
                    Remove
                  </Button>
                </div>
                <SplitParams family={family} control={control} register={register} errors={errors} base={`splits.${index}.params`} />
                <FieldError message={errorAt(errors, `splits.${index}.params`)} />
              </li>
            ))}
          </ol>
        </Card>

        <Card aria-labelledby="mixes-heading">
          <CardHeader
            id="mixes-heading"
            title="Mixes and evaluation"
            description="Weights are normalised, so only their ratios matter. Pretraining only on id is zero overlap; a little OOD in pretraining is partial overlap — the variable the study is about."
          />
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm">
              <thead>
                <tr className="text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                  <th scope="col" className="py-2 pr-3">Split</th>
                  <th scope="col" className="py-2 pr-3">Pretraining weight</th>
                  <th scope="col" className="py-2 pr-3">GRPO weight</th>
                  <th scope="col" className="py-2">Evaluated</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
                {splits.map((split, index) => (
                  <tr key={splitsArray.fields[index]?.id ?? index}>
                    <th scope="row" className="py-2 pr-3 text-left align-top font-mono font-medium">
                      {split.name || "—"} <Badge className="ml-1">{split.axis}</Badge>
                    </th>
                    {(["pretrainingMix", "grpoMix"] as const).map((mixName) => {
                      const mix = mixName === "pretrainingMix" ? pretrainingMix : grpoMix;
                      const shares = mixName === "pretrainingMix" ? pretrainingShares : grpoShares;
                      const weight = mix[split.name];
                      const message = errorAt(errors, `${mixName}.${split.name}`);
                      return (
                        <td key={mixName} className="py-2 pr-3 align-top">
                          <div className="flex items-center gap-2">
                            <Input
                              type="number"
                              inputMode="decimal"
                              min={0}
                              max={1_000_000}
                              step="any"
                              className="w-24"
                              aria-label={`${mixName === "pretrainingMix" ? "Pretraining" : "GRPO"} weight of ${split.name}`}
                              aria-invalid={message ? true : undefined}
                              value={weight === undefined || Number.isNaN(weight) ? "" : weight}
                              onChange={(event) => setWeight(mixName, split.name, event.target.value)}
                            />
                            <span className="w-12 text-right text-xs tabular-nums text-slate-500 dark:text-slate-400">
                              {formatShare(shares?.[split.name])}
                            </span>
                          </div>
                          <FieldError message={message} />
                        </td>
                      );
                    })}
                    <td className="py-2 align-top">
                      <Checkbox
                        aria-label={`Evaluate ${split.name}`}
                        checked={evalSplits.includes(split.name)}
                        onChange={(event) => toggleEvaluated(split.name, event.target.checked)}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="mt-2 space-y-1">
            <FieldError message={errorAt(errors, "pretrainingMix") && `Pretraining mix: ${errorAt(errors, "pretrainingMix")}`} />
            <FieldError message={errorAt(errors, "grpoMix") && `GRPO mix: ${errorAt(errors, "grpoMix")}`} />
            <FieldError message={errorAt(errors, "evalSplits") ?? firstNested(errors, "evalSplits")} />
          </div>
          <div className="mt-5 grid gap-4 sm:grid-cols-2">
            <Field
              label="Evaluation items per split"
              hint={`held-out items the server generates per evaluated split; 1–${TASK_LIMITS.variant.evalItemsPerSplit} (a recipe may override it)`}
              error={errors.evalItemsPerSplit?.message}
            >
              <Input type="number" inputMode="numeric" min={1} max={TASK_LIMITS.variant.evalItemsPerSplit} step={1} {...register("evalItemsPerSplit", { valueAsNumber: true })} />
            </Field>
            <div className="space-y-1.5 sm:pt-7">
              <label className="inline-flex items-center gap-2 text-sm font-medium">
                <Checkbox {...register("chainOfThought")} />
                Chain of thought
              </label>
              <p className="text-xs text-slate-500 dark:text-slate-400">training sequences show the intermediate steps before the answer</p>
            </div>
          </div>
        </Card>

        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" pending={isSubmitting}>
            {submitLabel}
          </Button>
          {errorCount > 0 && (
            <p role="status" className="text-sm text-rose-600 dark:text-rose-400">
              {errorCount === 1 ? "1 field needs attention" : `${errorCount} fields need attention`}
            </p>
          )}
        </div>
        {formProblem && <Alert tone="error" title="Not saved">{formProblem}</Alert>}
      </div>

      <div className="lg:sticky lg:top-6">
        <VariantPreview family={family} splits={splits} chainOfThought={chainOfThought} />
      </div>
    </form>
  );
}

function formatShare(share: number | undefined): string {
  if (share === undefined) return "—";
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;
}

/** How many messages the form shows (each leaf error counts once). */
function countErrors(errors: unknown): number {
  if (errors === null || typeof errors !== "object") return 0;
  let count = typeof (errors as { message?: unknown }).message === "string" ? 1 : 0;
  for (const [key, value] of Object.entries(errors)) {
    if (key === "ref" || key === "message" || key === "type" || key === "types") continue;
    count += countErrors(value);
  }
  return count;
}

/** The first message under a path (e.g. one evalSplits entry), for a list shown in one place. */
function firstNested(errors: unknown, path: string): string | undefined {
  const node = (errors as Record<string, unknown> | undefined)?.[path];
  if (node === null || typeof node !== "object") return undefined;
  for (const value of Object.values(node)) {
    const message = (value as { message?: unknown } | null)?.message;
    if (typeof message === "string") return message;
  }
  return undefined;
}
