import { describe, expect, it } from "vitest";
import { PASSWORD_LIMITS } from "../../../server/auth";
import { PASSWORD_LENGTH, signInSchema, signUpSchema } from "./account-schema";

describe("the account forms", () => {
  it("accept the passwords the server accepts", () => {
    expect(PASSWORD_LENGTH).toEqual(PASSWORD_LIMITS);
  });

  it("name the field of each problem", () => {
    const result = signUpSchema.safeParse({ name: " ", email: "nope", password: "short" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(["name", "email", "password"]);
    expect(signInSchema.safeParse({ email: "a@example.com", password: "x" }).success).toBe(true);
  });
});
