import { describe, expect, it } from "vitest";
import { settleConfirm } from "./confirm-action";

describe("a confirm dialog's action", () => {
  it("settles a success, sync or async", async () => {
    expect(await settleConfirm(() => undefined)).toEqual({ ok: true });
    expect(await settleConfirm(async () => ({ from: "queued" }))).toEqual({ ok: true });
  });

  it("turns a rejection or a throw into the message to show, without rejecting itself", async () => {
    // What cancelling a run that just ended gives (a CONFLICT from runs.cancel).
    const conflict = settleConfirm(() => Promise.reject(new Error("This run already ended (graded).")));
    await expect(conflict).resolves.toEqual({ ok: false, message: "This run already ended (graded)." });
    expect(
      await settleConfirm(() => {
        throw new Error("offline");
      }),
    ).toEqual({ ok: false, message: "offline" });
  });

  it("says something when the error has nothing to say", async () => {
    expect(await settleConfirm(() => Promise.reject(new Error("")))).toEqual({ ok: false, message: "That did not work. Try again." });
    expect(await settleConfirm(() => Promise.reject("nope" as unknown as Error))).toEqual({ ok: false, message: "That did not work. Try again." });
  });
});
