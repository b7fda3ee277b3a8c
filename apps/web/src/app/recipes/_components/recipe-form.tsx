"use client";
// The recipe form: start from a preset, then every field of recipeSchema with its meaning,
// unit and limits, validated by that same schema (client, server and runner share it).
import { zodResolver } from "@hookform/resolvers/zod";
import { useState, type ReactNode } from "react";
import { Controller, useForm, useWatch, type Control, type FieldPath, type UseFormRegister } from "react-hook-form";
import type { RecipePresetName } from "@transcend/protocol";
import { Alert, Button, Card, CardHeader, Checkbox, Field, Input, Select, cn } from "@/components/ui";
import { errorAt } from "@/app/variants/_lib/draft";
import {
  PRESET_NAMES,
  PRESET_WORDS,
  SECTIONS,
  fieldsOf,
  formatIntegerList,
  fromShown,
  limitText,
  parseIntegerList,
  toShown,
  type RecipeField,
} from "../_lib/fields";
import { recipeFromPreset, recipeSpecFormSchema, withoutEmptyRequirements, type RecipeSpec, type RecipeSpecInput } from "../_lib/spec";

export interface SaveProblem {
  path?: string;
  message: string;
}

const path = (value: string) => value as FieldPath<RecipeSpecInput>;

export function RecipeForm({
  initial,
  initialPreset,
  submitLabel,
  showPresets = false,
  slugLocked = false,
  aside,
  onSave,
}: {
  initial: RecipeSpecInput;
  initialPreset?: RecipePresetName;
  submitLabel: string;
  showPresets?: boolean;
  /** Editing keeps the slug: it names the recipe whose new version this is. */
  slugLocked?: boolean;
  /** Drawn beside the form (the estimate), given the values as they are typed. */
  aside?: (values: RecipeSpecInput) => ReactNode;
  onSave: (recipe: RecipeSpec) => Promise<SaveProblem[] | void>;
}) {
  const form = useForm<RecipeSpecInput, unknown, RecipeSpec>({
    resolver: zodResolver(recipeSpecFormSchema),
    defaultValues: structuredClone(initial),
    mode: "onTouched",
  });
  const { control, register, handleSubmit, reset, getValues, setError, formState } = form;
  const { errors, isSubmitting } = formState;
  const [preset, setPreset] = useState<RecipePresetName | undefined>(initialPreset);
  const [formProblem, setFormProblem] = useState<string>();
  const values = useWatch({ control }) as RecipeSpecInput;

  const onSubmit = handleSubmit(async (recipe) => {
    setFormProblem(undefined);
    // An unticked GPU box and empty minimums mean no requirement: stored as none, so
    // saving an older recipe unchanged is still "unchanged".
    const problems = await onSave(withoutEmptyRequirements(recipe));
    for (const problem of problems ?? []) {
      if (problem.path) setError(path(problem.path), { type: "server", message: problem.message });
      else setFormProblem(problem.message);
    }
  });

  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem] lg:items-start">
      <div className="space-y-6">
        {showPresets && (
          <Card aria-labelledby="preset-heading">
            <CardHeader id="preset-heading" title="Start from a preset" description="Each preset fills every field; change what you like below." />
            <div role="radiogroup" aria-labelledby="preset-heading" className="grid gap-3 sm:grid-cols-3">
              {PRESET_NAMES.map((name) => (
                <label
                  key={name}
                  className={cn(
                    "cursor-pointer rounded-lg border p-3 text-sm focus-within:outline-2 focus-within:outline-indigo-500",
                    preset === name
                      ? "border-indigo-500 bg-indigo-50 dark:border-indigo-400 dark:bg-indigo-950/50"
                      : "border-slate-200 hover:border-slate-300 dark:border-slate-800 dark:hover:border-slate-700",
                  )}
                >
                  <input
                    type="radio"
                    name="preset"
                    value={name}
                    className="sr-only"
                    checked={preset === name}
                    onChange={() => {
                      setPreset(name);
                      // A preset replaces the settings; the slug and name typed so far stay.
                      const { slug, name: recipeName } = getValues();
                      reset({ ...recipeFromPreset(name), slug, name: recipeName });
                    }}
                  />
                  <span className="block font-semibold">{name}</span>
                  <span className="mt-1 block text-xs text-slate-600 dark:text-slate-400">{PRESET_WORDS[name]}</span>
                </label>
              ))}
            </div>
          </Card>
        )}

        <Card aria-labelledby="recipe-name">
          <CardHeader id="recipe-name" title="Name" />
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Recipe name" hint="shown on the leaderboard; 1–80 characters" error={errors.name?.message}>
              <Input autoComplete="off" {...register("name")} />
            </Field>
            <Field
              label="Slug"
              hint={slugLocked ? "a new version keeps its slug; fork it to make another" : "its address: lowercase letters and digits joined by dashes, 3–64"}
              error={errors.slug?.message}
            >
              <Input autoComplete="off" spellCheck={false} className="font-mono" readOnly={slugLocked} {...register("slug")} />
            </Field>
          </div>
        </Card>

        {SECTIONS.map((section) => (
          <Card key={section.key} aria-labelledby={`section-${section.key}`}>
            <CardHeader id={`section-${section.key}`} title={section.title} description={section.description} />
            <FieldError message={errorAt(errors, section.key)} />
            <div className="grid gap-4 sm:grid-cols-2">
              {fieldsOf(section.key).map((field) => (
                <RecipeFieldControl key={field.path} field={field} control={control} register={register} errors={errors} />
              ))}
            </div>
          </Card>
        ))}

        <Card aria-labelledby="seeds-heading">
          <CardHeader id="seeds-heading" title="Seeds" description="The recipe's default seeds; the submit page decides how many runs to start." />
          <Controller
            control={control}
            name="seeds"
            render={({ field }) => (
              <ListInput
                label="Seeds"
                hint="integers 0–2147483647; 1–32 values, comma-separated"
                error={errorAt(errors, "seeds") ?? firstChildError(errors, "seeds")}
                value={field.value}
                onChange={field.onChange}
                onBlur={field.onBlur}
              />
            )}
          />
        </Card>

        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" pending={isSubmitting}>
            {submitLabel}
          </Button>
          {Object.keys(errors).length > 0 && (
            <p role="status" className="text-sm text-rose-600 dark:text-rose-400">
              Some fields need attention
            </p>
          )}
        </div>
        {formProblem && (
          <Alert tone="error" title="Not saved">
            {formProblem}
          </Alert>
        )}
      </div>
      {aside && <div className="space-y-4 lg:sticky lg:top-6">{aside(values)}</div>}
    </form>
  );
}

function FieldError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <p role="alert" className="mb-3 text-xs font-medium text-rose-600 dark:text-rose-400">
      {message}
    </p>
  );
}

function firstChildError(errors: unknown, key: string): string | undefined {
  const node = (errors as Record<string, unknown> | undefined)?.[key];
  if (node === null || typeof node !== "object") return undefined;
  for (const value of Object.values(node)) {
    const message = (value as { message?: unknown } | null)?.message;
    if (typeof message === "string") return message;
  }
  return undefined;
}

/** A comma-separated list of integers, edited as text and held as numbers. */
function ListInput({
  label,
  hint,
  error,
  value,
  onChange,
  onBlur,
}: {
  label: string;
  hint: string;
  error?: string;
  value: unknown;
  onChange: (value: number[]) => void;
  onBlur: () => void;
}) {
  const numbers = Array.isArray(value) ? (value as number[]) : [];
  // The text is kept while typing ("1, 4, "), and only re-derived when the value changes from outside.
  const [text, setText] = useState(formatIntegerList(numbers));
  const shown = sameList(parseIntegerList(text), numbers) ? text : formatIntegerList(numbers);
  return (
    <Field label={label} hint={hint} error={error}>
      <Input
        inputMode="numeric"
        autoComplete="off"
        className="font-mono"
        value={shown}
        onBlur={onBlur}
        onChange={(event) => {
          setText(event.target.value);
          onChange(parseIntegerList(event.target.value));
        }}
      />
    </Field>
  );
}

/** A number typed in the field's unit (GiB) and held in the schema's (bytes); empty is unset. */
function ScaledNumberInput({
  field,
  hint,
  error,
  value,
  onChange,
  onBlur,
}: {
  field: RecipeField;
  hint: ReactNode;
  error?: string;
  value: unknown;
  onChange: (value: number | undefined) => void;
  onBlur: () => void;
}) {
  const stored = typeof value === "number" ? value : undefined;
  const read = (text: string) => (text.trim() === "" ? undefined : fromShown(field, Number(text)));
  const format = (bytes: number | undefined) => (bytes === undefined ? "" : String(Number((toShown(field, bytes) ?? 0).toFixed(6))));
  // The text is kept while typing ("1.", "0.50"); re-derived only when the value changes from
  // outside (a preset). A text input, because a controlled number input fights partial numbers.
  const [text, setText] = useState(format(stored));
  const shown = Object.is(read(text), stored) ? text : format(stored);
  return (
    <Field label={field.label} hint={hint} error={error}>
      <Input
        inputMode="decimal"
        autoComplete="off"
        placeholder="none"
        value={shown}
        onBlur={onBlur}
        onChange={(event) => {
          setText(event.target.value);
          onChange(read(event.target.value));
        }}
      />
    </Field>
  );
}

const sameList = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((value, index) => Object.is(value, b[index]));

function RecipeFieldControl({
  field,
  control,
  register,
  errors,
}: {
  field: RecipeField;
  control: Control<RecipeSpecInput>;
  register: UseFormRegister<RecipeSpecInput>;
  errors: unknown;
}) {
  const error = errorAt(errors, field.path) ?? (field.kind === "integer-list" ? firstChildError((errors as Record<string, unknown>)[field.section], field.key) : undefined);
  const hint = (
    <>
      {field.description}
      {limitText(field) && <span className="block font-medium text-slate-600 dark:text-slate-300">{limitText(field)}</span>}
    </>
  );
  switch (field.kind) {
    case "boolean":
      return (
        <div className="space-y-1.5">
          <label className="inline-flex items-center gap-2 text-sm font-medium">
            <Checkbox {...register(path(field.path))} />
            {field.label}
          </label>
          <p className="text-xs text-slate-500 dark:text-slate-400">{field.description}</p>
        </div>
      );
    case "choice":
      return (
        <Field label={field.label} hint={hint} error={error}>
          <Select {...register(path(field.path))}>
            {field.options?.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </Select>
        </Field>
      );
    case "integer-list":
      return (
        <Controller
          control={control}
          name={path(field.path)}
          render={({ field: list }) => (
            <ListInput label={field.label} hint={`${field.description}. ${limitText(field)}`} error={error} value={list.value} onChange={list.onChange} onBlur={list.onBlur} />
          )}
        />
      );
    default:
      if (field.scale !== undefined) {
        return (
          <Controller
            control={control}
            name={path(field.path)}
            render={({ field: scaled }) => (
              <ScaledNumberInput field={field} hint={hint} error={error} value={scaled.value} onChange={scaled.onChange} onBlur={scaled.onBlur} />
            )}
          />
        );
      }
      return (
        <Field label={field.label} hint={hint} error={error}>
          <Input
            type="number"
            inputMode={field.kind === "integer" ? "numeric" : "decimal"}
            min={field.min}
            max={field.max}
            step={field.kind === "integer" ? 1 : "any"}
            placeholder={field.optional ? "unset" : undefined}
            {...register(path(field.path), {
              // An optional field left empty is unset (the schema says what that means), not 0.
              setValueAs: (value: string | number) => (value === "" ? (field.optional ? undefined : Number.NaN) : Number(value)),
            })}
          />
        </Field>
      );
  }
}
