"use client";
// The parameter editors of one split, one per task family.
import { Controller, type Control, type UseFormRegister } from "react-hook-form";
import {
  GRAPH_ROUTES,
  MOD_ARITH_OPERATORS,
  OPERATOR_MIXING,
  STRING_OPS_OPERATIONS,
  TASK_LIMITS,
  TOKEN_SETS,
  type StringOpsOperation,
  type TaskFamilyName,
  type TaskVariantInput,
} from "@transcend/protocol";
import { Checkbox, Field, Fieldset, Input, Select, cn } from "@/components/ui";
import { errorAt } from "../_lib/draft";
import { anyPath } from "./form-paths";
import { RangeField } from "./range-field";

interface ParamsProps {
  control: Control<TaskVariantInput>;
  register: UseFormRegister<TaskVariantInput>;
  errors: unknown;
  /** `splits.<index>.params` */
  base: string;
}

const OPERATION_WORDS: Record<StringOpsOperation, string> = {
  inc: "shift each atom +1",
  dec: "shift each atom −1",
  rol: "rotate left",
  ror: "rotate right",
  rev: "reverse",
  swp: "swap adjacent pairs",
};

const ROUTE_WORDS: Record<(typeof GRAPH_ROUTES)[number], string> = {
  free: "free — any nodes",
  "within-half": "within-half — the path stays in one half",
  "across-bridge": "across-bridge — the path crosses the bridge",
};

const MIXING_WORDS: Record<(typeof OPERATOR_MIXING)[number], string> = {
  any: "any — no rule",
  separate: "separate — one operator per chain",
  mixed: "mixed — at least two operators per chain",
};

function TokenSetField({ register, errors, base }: Omit<ParamsProps, "control">) {
  return (
    <Field label="Token set" hint="two disjoint sets render the same atoms; a representation split uses the one id never shows" error={errorAt(errors, `${base}.tokenSet`)}>
      <Select {...register(anyPath(`${base}.tokenSet`))}>
        {TOKEN_SETS.map((set) => (
          <option key={set} value={set}>
            {set}
          </option>
        ))}
      </Select>
    </Field>
  );
}

/** Checkboxes for a subset of `options`, kept in the options' order. */
function SubsetField<T extends string>({
  control,
  name,
  legend,
  hint,
  options,
  describe,
  error,
}: {
  control: Control<TaskVariantInput>;
  name: string;
  legend: string;
  hint: string;
  options: readonly T[];
  describe?: (option: T) => string;
  error?: string;
}) {
  return (
    <Controller
      control={control}
      name={anyPath(name)}
      render={({ field }) => {
        const chosen = Array.isArray(field.value) ? (field.value as T[]) : [];
        return (
          <Fieldset legend={legend} hint={hint} error={error}>
            <div className="flex flex-wrap gap-x-4 gap-y-2">
              {options.map((option) => (
                <label key={option} className="inline-flex items-center gap-2 text-sm">
                  <Checkbox
                    checked={chosen.includes(option)}
                    onBlur={field.onBlur}
                    onChange={(event) =>
                      field.onChange(
                        options.filter((o) => (o === option ? event.target.checked : chosen.includes(o))),
                      )
                    }
                  />
                  <span className="font-mono">{option}</span>
                  {describe && <span className="text-xs text-slate-500 dark:text-slate-400">{describe(option)}</span>}
                </label>
              ))}
            </div>
          </Fieldset>
        );
      }}
    />
  );
}

function PairsField({ control, errors, base }: Omit<ParamsProps, "register">) {
  return (
    <Controller
      control={control}
      name={anyPath(`${base}.pairs`)}
      render={({ field }) => {
        const pairs = Array.isArray(field.value) ? (field.value as [StringOpsOperation, StringOpsOperation][]) : undefined;
        const has = (a: string, b: string) => pairs?.some(([x, y]) => x === a && y === b) ?? false;
        const all = STRING_OPS_OPERATIONS.flatMap((a) => STRING_OPS_OPERATIONS.map((b): [StringOpsOperation, StringOpsOperation] => [a, b]));
        return (
          <Fieldset
            legend="Operation pairs"
            hint="which operation may follow which; a composition split lists held-out pairs whose single operations id shows"
            error={errorAt(errors, `${base}.pairs`)}
          >
            <label className="inline-flex items-center gap-2 text-sm">
              <Checkbox
                checked={pairs !== undefined}
                onChange={(event) => field.onChange(event.target.checked ? all : undefined)}
              />
              Restrict which operation may follow which
            </label>
            {pairs && (
              <div className="overflow-x-auto">
                <table className="mt-2 text-xs">
                  <caption className="sr-only">Allowed pairs: row operation, then column operation</caption>
                  <thead>
                    <tr>
                      <th scope="col" className="px-1 text-left font-normal text-slate-500">
                        first ↓ then →
                      </th>
                      {STRING_OPS_OPERATIONS.map((b) => (
                        <th key={b} scope="col" className="px-1 font-mono font-medium">
                          {b}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {STRING_OPS_OPERATIONS.map((a) => (
                      <tr key={a}>
                        <th scope="row" className="px-1 text-left font-mono font-medium">
                          {a}
                        </th>
                        {STRING_OPS_OPERATIONS.map((b) => (
                          <td key={b} className="px-1 py-0.5 text-center">
                            <Checkbox
                              aria-label={`${a} then ${b}`}
                              checked={has(a, b)}
                              onChange={(event) =>
                                field.onChange(
                                  event.target.checked
                                    ? all.filter(([x, y]) => has(x, y) || (x === a && y === b))
                                    : pairs.filter(([x, y]) => !(x === a && y === b)),
                                )
                              }
                            />
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Fieldset>
        );
      }}
    />
  );
}

function StringOpsParams(props: ParamsProps) {
  const { register, errors, base, control } = props;
  const limits = TASK_LIMITS.stringOps;
  return (
    <>
      <RangeField register={register} errors={errors} path={`${base}.wordLength`} label="Word length" unit="atoms per word" limits={limits.wordLength} />
      <RangeField register={register} errors={errors} path={`${base}.depth`} label="Depth" unit="operations applied in order" limits={limits.depth} />
      <TokenSetField register={register} errors={errors} base={base} />
      <SubsetField
        control={control}
        name={`${base}.operations`}
        legend="Operations"
        hint="the operations a chain may use"
        options={STRING_OPS_OPERATIONS}
        describe={(op) => OPERATION_WORDS[op]}
        error={errorAt(errors, `${base}.operations`)}
      />
      <div className="sm:col-span-2">
        <PairsField control={control} errors={errors} base={base} />
      </div>
    </>
  );
}

function GraphPathParams({ register, errors, base }: ParamsProps) {
  const limits = TASK_LIMITS.graphPath;
  return (
    <>
      <RangeField register={register} errors={errors} path={`${base}.pathLength`} label="Path length" unit="edges on the shortest path from start to goal" limits={limits.pathLength} />
      <RangeField register={register} errors={errors} path={`${base}.distractorEdges`} label="Distractor edges" unit="edges off the path" limits={limits.distractorEdges} />
      <TokenSetField register={register} errors={errors} base={base} />
      <Field label="Route" hint="composition: id within-half, OOD across-bridge" error={errorAt(errors, `${base}.route`)}>
        <Select {...register(anyPath(`${base}.route`))}>
          {GRAPH_ROUTES.map((route) => (
            <option key={route} value={route}>
              {ROUTE_WORDS[route]}
            </option>
          ))}
        </Select>
      </Field>
    </>
  );
}

function ModArithParams(props: ParamsProps) {
  const { register, errors, base, control } = props;
  const limits = TASK_LIMITS.modArith;
  return (
    <>
      <RangeField register={register} errors={errors} path={`${base}.depth`} label="Depth" unit="operations in the chain" limits={limits.depth} />
      <RangeField register={register} errors={errors} path={`${base}.operandDigits`} label="Operand digits" unit="digits per operand" limits={limits.operandDigits} />
      <TokenSetField register={register} errors={errors} base={base} />
      <Field label="Modulus" hint={`p, the same for every split; ${limits.modulus.min}–${limits.modulus.max}`} error={errorAt(errors, `${base}.modulus`)}>
        <Input type="number" inputMode="numeric" min={limits.modulus.min} max={limits.modulus.max} step={1} {...register(anyPath(`${base}.modulus`), { valueAsNumber: true })} />
      </Field>
      <SubsetField
        control={control}
        name={`${base}.operators`}
        legend="Operators"
        hint="evaluated left to right, modulo p"
        options={MOD_ARITH_OPERATORS}
        error={errorAt(errors, `${base}.operators`)}
      />
      <Field label="Operator mixing" hint="composition: id separate, OOD mixed" error={errorAt(errors, `${base}.operatorMixing`)}>
        <Select {...register(anyPath(`${base}.operatorMixing`))}>
          {OPERATOR_MIXING.map((mixing) => (
            <option key={mixing} value={mixing}>
              {MIXING_WORDS[mixing]}
            </option>
          ))}
        </Select>
      </Field>
    </>
  );
}

export function SplitParams({ family, className, ...props }: ParamsProps & { family: TaskFamilyName; className?: string }) {
  return (
    <div className={cn("grid gap-4 sm:grid-cols-2", className)}>
      {family === "string-ops" && <StringOpsParams {...props} />}
      {family === "graph-path" && <GraphPathParams {...props} />}
      {family === "mod-arith" && <ModArithParams {...props} />}
    </div>
  );
}
