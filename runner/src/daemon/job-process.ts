// One training job, in its own process: started by the daemon with fork(), it runs the
// engine and reports over IPC. Its stdout and stderr are the job's log. Being a separate
// process is what lets the daemon heartbeat while a training step holds this event loop,
// and kill a job (cancel, lease lost) without killing itself.
import { runTrainingJob } from "../training";
import type { EvaluationItem } from "../training";
import { IGNORE_SIGTERM_ENV, type JobToParent, type ParentToJob } from "./ipc";

const pendingItems = new Map<number, (items: EvaluationItem[]) => void>();
let nextRequestId = 1;

function send(message: JobToParent): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error("the job process has no IPC channel: the daemon starts it with fork()"));
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

// Without its daemon nobody reads the results and the lease is lost: stop computing.
process.on("disconnect", () => process.exit(1));
if (process.env[IGNORE_SIGTERM_ENV] === "1") process.on("SIGTERM", () => console.log("job: ignoring SIGTERM (test hook)"));

process.on("message", (message: ParentToJob) => {
  switch (message.type) {
    case "start":
      void run(message);
      return;
    case "evaluation-items":
      pendingItems.get(message.requestId)?.(message.items);
      pendingItems.delete(message.requestId);
      return;
  }
});

const PRETRAINING_LOG_EVERY = 50;

async function run({ job }: Extract<ParentToJob, { type: "start" }>): Promise<void> {
  const line = (text: string) => process.stdout.write(`${text}\n`);
  try {
    line(`job: ${job.variant.slug}, recipe ${job.recipe.name ?? "custom"}, seed ${job.seed}`);
    const results = await runTrainingJob({
      variant: job.variant,
      recipe: job.recipe,
      seed: job.seed,
      backend: job.backend,
      checkpointDir: job.checkpointDir,
      originCacheDir: job.originCacheDir,
      evaluationItems: ({ phase, split, count }) =>
        new Promise((resolve, reject) => {
          const requestId = nextRequestId++;
          pendingItems.set(requestId, resolve);
          send({ type: "evaluation-request", requestId, phase, split, count }).catch(reject);
        }),
      onCompletions: (phase, split, completions) => send({ type: "completions", phase, split, completions }),
      onProgress: (event) => {
        switch (event.type) {
          case "phase-started":
            line(`${event.phase}: started`);
            break;
          case "phase-finished":
            line(`${event.phase}: finished in ${event.seconds.toFixed(1)} s`);
            break;
          case "origin-reused":
            line(`pretraining: reusing the cached origin ${event.sha256.slice(0, 12)}`);
            break;
          case "checkpoint":
            line(`checkpoint ${event.kind}: ${event.sha256}`);
            break;
          case "pretraining-step": {
            const { step, totalSteps, loss } = event.report;
            if (step % PRETRAINING_LOG_EVERY === 0 || step === totalSteps) line(`pretraining step ${step}/${totalSteps} loss ${loss.toFixed(4)}`);
            break;
          }
          case "grpo-step": {
            const r = event.report;
            line(`grpo step ${r.step}/${r.totalSteps} reward ${r.meanReward.toFixed(3)} kl ${r.kl.toFixed(4)} length ${r.completionLength.toFixed(1)}`);
            break;
          }
          case "evaluation-progress":
            break;
        }
        send({ type: "progress", event }).catch(() => undefined);
      },
    });
    line("job: finished");
    await send({ type: "result", results });
    process.exit(0);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    line(`job: failed: ${message}`);
    await send({ type: "error", message }).catch(() => undefined);
    process.exit(1);
  }
}
