import type { GraphPathSplitParams, ModArithSplitParams, StringOpsSplitParams, TaskFamilyName } from "@transcend/protocol";
import type { TaskFamily } from "../family";
import { graphPath } from "./graph-path";
import { modArith } from "./mod-arith";
import { stringOps } from "./string-ops";

export { GRAPH_NODES, graphPath } from "./graph-path";
export { MOD_ARITH_DIGITS, modArith } from "./mod-arith";
export { STRING_OPS_ATOMS, applyOperation, stringOps } from "./string-ops";

export interface FamilyParams {
  "string-ops": StringOpsSplitParams;
  "graph-path": GraphPathSplitParams;
  "mod-arith": ModArithSplitParams;
}

export const families: { readonly [Name in TaskFamilyName]: TaskFamily<FamilyParams[Name]> } = {
  "string-ops": stringOps,
  "graph-path": graphPath,
  "mod-arith": modArith,
};

export function getFamily<Name extends TaskFamilyName>(name: Name): TaskFamily<FamilyParams[Name]> {
  return families[name];
}
