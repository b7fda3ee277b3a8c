import Link from "next/link";

const steps = [
  {
    title: "Register a task variant and a recipe",
    body: "A synthetic task family, how its in-distribution and out-of-distribution splits differ, how much of each split pretraining sees; and a model, pretraining, GRPO and evaluation settings.",
  },
  {
    title: "Runners train it",
    body: "Anyone can host a runner on their own machine. It pretrains a small transformer from scratch, then GRPO-trains it, for every seed you ask for.",
  },
  {
    title: "The server grades it",
    body: "The base model and the GRPO model answer held-out items the server generates; the server verifies every answer and publishes the numbers.",
  },
];

const axes = [
  { name: "Reasoning depth", body: "more steps than seen in training" },
  { name: "Input length", body: "longer inputs than seen in training" },
  { name: "Token representation", body: "the same task written in unseen tokens" },
  { name: "Compositionality", body: "known operations in unseen combinations" },
];

export default function HomePage() {
  return (
    <div className="space-y-16">
      <section className="space-y-6">
        <p className="text-sm font-semibold uppercase tracking-wider text-indigo-600 dark:text-indigo-400">Open reinforcement-learning science</p>
        <h1 className="max-w-3xl text-4xl font-bold tracking-tight sm:text-5xl">
          Does GRPO take a model beyond what its pretraining made possible?
        </h1>
        <p className="max-w-2xl text-lg leading-relaxed text-slate-600 dark:text-slate-300">
          Transcend measures it, recipe by recipe. Theory says GRPO only reweights what the base model can already do: where
          the base model never finds the answer, there is nothing to reinforce. Transcend trains small transformers from
          scratch on synthetic tasks and checks, on held-out out-of-distribution splits, whether a training recipe beats that
          ceiling.
        </p>
        <div className="flex flex-wrap gap-3">
          <Link
            href="/leaderboard"
            className="rounded-lg bg-indigo-600 px-5 py-2.5 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
          >
            View the leaderboard
          </Link>
          <Link
            href="/recipes/new?preset=tiny"
            className="rounded-lg px-5 py-2.5 text-sm font-semibold text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-900"
          >
            Try a recipe
          </Link>
          <a
            href="https://arxiv.org/abs/2510.15990"
            className="rounded-lg px-5 py-2.5 text-sm font-semibold text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-900"
          >
            Read the paper
          </a>
        </div>
      </section>

      <section aria-labelledby="how" className="space-y-6">
        <h2 id="how" className="text-2xl font-semibold tracking-tight">
          How it works
        </h2>
        <ol className="grid gap-4 sm:grid-cols-3">
          {steps.map((step, index) => (
            <li key={step.title} className="rounded-xl border border-slate-200 p-5 dark:border-slate-800">
              <span className="text-sm font-semibold text-indigo-600 dark:text-indigo-400">{index + 1}</span>
              <h3 className="mt-1 font-semibold">{step.title}</h3>
              <p className="mt-2 text-sm leading-relaxed text-slate-600 dark:text-slate-400">{step.body}</p>
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="axes" className="space-y-6">
        <h2 id="axes" className="text-2xl font-semibold tracking-tight">
          Four ways out of distribution
        </h2>
        <dl className="grid gap-4 sm:grid-cols-2">
          {axes.map((axis) => (
            <div key={axis.name} className="rounded-xl bg-slate-50 p-5 dark:bg-slate-900">
              <dt className="font-semibold">{axis.name}</dt>
              <dd className="mt-1 text-sm text-slate-600 dark:text-slate-400">{axis.body}</dd>
            </div>
          ))}
        </dl>
        <p className="max-w-2xl text-sm leading-relaxed text-slate-600 dark:text-slate-400">
          For each, the pretraining mix decides how much the out-of-distribution split overlaps what the model saw before
          GRPO — the variable the study is about, shown on every leaderboard row.
        </p>
      </section>
    </div>
  );
}
