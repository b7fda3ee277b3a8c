import type { FieldPath } from "react-hook-form";
import type { TaskVariantInput } from "@transcend/protocol";

/**
 * A field path built at run time (a split's parameters depend on the family chosen in the
 * form). The schema validates every value by the same path, so a wrong path shows up as a
 * validation message, never as bad data.
 */
export const anyPath = (path: string) => path as FieldPath<TaskVariantInput>;
