"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Alert, Button, Field, Input } from "@/components/ui";
import { signUp } from "@/lib/auth-client";
import { PASSWORD_LENGTH, signUpSchema, type SignUpValues } from "./account-schema";

export function SignUpForm({ next }: { next: string }) {
  const router = useRouter();
  const [problem, setProblem] = useState<string>();
  const { register, handleSubmit, formState } = useForm<SignUpValues>({
    resolver: zodResolver(signUpSchema),
    defaultValues: { name: "", email: "", password: "" },
    mode: "onTouched",
  });
  const { errors, isSubmitting } = formState;

  const onSubmit = handleSubmit(async (values) => {
    setProblem(undefined);
    const { error } = await signUp.email(values);
    if (error) {
      setProblem(error.message ?? "Could not create the account. Try again.");
      return;
    }
    // Signing up signs in; server components render again with the new session.
    router.push(next);
    router.refresh();
  });

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <Field label="Name" hint="shown next to what you publish" error={errors.name?.message}>
        <Input autoComplete="name" {...register("name")} />
      </Field>
      <Field label="Email" error={errors.email?.message}>
        <Input type="email" autoComplete="email" {...register("email")} />
      </Field>
      <Field label="Password" hint={`${PASSWORD_LENGTH.min}–${PASSWORD_LENGTH.max} characters`} error={errors.password?.message}>
        <Input type="password" autoComplete="new-password" {...register("password")} />
      </Field>
      {problem && <Alert tone="error">{problem}</Alert>}
      <Button type="submit" className="w-full" pending={isSubmitting}>
        Create account
      </Button>
    </form>
  );
}
