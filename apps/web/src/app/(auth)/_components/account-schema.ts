// What the sign-up and sign-in forms accept. The password limits are the server's
// (PASSWORD_LIMITS in server/auth.ts; a test keeps the two equal) so a form never accepts
// a password better-auth would refuse.
import { z } from "zod";

export const PASSWORD_LENGTH = { min: 8, max: 128 } as const;

const email = z.email("enter an email address like name@example.com").max(254);

export const signUpSchema = z.object({
  name: z.string().trim().min(1, "enter your name").max(100, "at most 100 characters"),
  email,
  password: z
    .string()
    .min(PASSWORD_LENGTH.min, `at least ${PASSWORD_LENGTH.min} characters`)
    .max(PASSWORD_LENGTH.max, `at most ${PASSWORD_LENGTH.max} characters`),
});
export type SignUpValues = z.infer<typeof signUpSchema>;

export const signInSchema = z.object({
  email,
  password: z.string().min(1, "enter your password").max(PASSWORD_LENGTH.max),
});
export type SignInValues = z.infer<typeof signInSchema>;
