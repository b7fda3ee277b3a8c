// What a confirm dialog does with its action's outcome, apart from React so it can be tested
// without a DOM (the web workspace has no component test setup; see confirm-action.test.ts).

export type ConfirmOutcome = { ok: true } | { ok: false; message: string };

const FALLBACK_MESSAGE = "That did not work. Try again.";

/**
 * Runs a confirmed action and settles it into an outcome. React does not await click
 * handlers, so a rejection left to escape one is reported as unhandled even when the page
 * already shows the error (a mutation's `error`); the dialog handles it here, once.
 */
export async function settleConfirm(action: () => Promise<unknown> | void): Promise<ConfirmOutcome> {
  try {
    await action();
    return { ok: true };
  } catch (error) {
    return { ok: false, message: error instanceof Error && error.message.trim() !== "" ? error.message : FALLBACK_MESSAGE };
  }
}
