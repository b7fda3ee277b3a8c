"use client";
// An integer range (min–max) of a split parameter, with its limits and both messages.
import type { UseFormRegister } from "react-hook-form";
import { Field, Fieldset, Input } from "@/components/ui";
import type { TaskVariantInput } from "@transcend/protocol";
import { errorAt } from "../_lib/draft";
import { anyPath } from "./form-paths";

export function RangeField({
  register,
  errors,
  path,
  label,
  unit,
  limits,
}: {
  register: UseFormRegister<TaskVariantInput>;
  errors: unknown;
  path: string;
  label: string;
  unit: string;
  limits: { min: number; max: number };
}) {
  const ownError = errorAt(errors, path);
  return (
    <Fieldset legend={label} hint={`${unit}; each end ${limits.min}–${limits.max}`} error={ownError}>
      <div className="grid grid-cols-2 gap-2">
        <Field label={<span className="text-xs font-normal text-slate-500 dark:text-slate-400">min</span>} error={errorAt(errors, `${path}.min`)}>
          <Input type="number" inputMode="numeric" min={limits.min} max={limits.max} step={1} {...register(anyPath(`${path}.min`), { valueAsNumber: true })} />
        </Field>
        <Field label={<span className="text-xs font-normal text-slate-500 dark:text-slate-400">max</span>} error={errorAt(errors, `${path}.max`)}>
          <Input type="number" inputMode="numeric" min={limits.min} max={limits.max} step={1} {...register(anyPath(`${path}.max`), { valueAsNumber: true })} />
        </Field>
      </div>
    </Fieldset>
  );
}
