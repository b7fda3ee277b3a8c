// The shared UI kit: a small set of components every page uses, so the site looks and behaves the same everywhere.
export { cn } from "./cn";
export { Button, ButtonLink, Spinner, buttonClasses, type ButtonProps, type ButtonVariant } from "./button";
export { Input, Textarea, Select, Checkbox } from "./input";
export { Field, FieldError, Fieldset } from "./field";
export { Card, CardHeader } from "./card";
export { Badge, type BadgeTone } from "./badge";
export { EmptyState } from "./empty-state";
export { Skeleton, SkeletonRows } from "./skeleton";
export { Table, TBody, Td, Th, Tr } from "./table";
export { PageHeader } from "./page-header";
export { Alert } from "./alert";
export { ConfirmDialog } from "./dialog";
export { CopyButton } from "./copy-button";
