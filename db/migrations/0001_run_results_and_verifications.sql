CREATE TABLE "run_results" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"attempt" integer NOT NULL,
	"statistics" jsonb NOT NULL,
	"ood_gain" double precision,
	"id_gain" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_verifications" (
	"run_id" uuid NOT NULL,
	"verifier_run_id" uuid NOT NULL,
	"verified_by" text NOT NULL,
	"runner_id" uuid,
	"details" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "run_verifications_run_id_verifier_run_id_pk" PRIMARY KEY("run_id","verifier_run_id")
);
--> statement-breakpoint
ALTER TABLE "run_results" ADD CONSTRAINT "run_results_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_verifications" ADD CONSTRAINT "run_verifications_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_verifications" ADD CONSTRAINT "run_verifications_verifier_run_id_runs_id_fk" FOREIGN KEY ("verifier_run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_verifications" ADD CONSTRAINT "run_verifications_verified_by_users_id_fk" FOREIGN KEY ("verified_by") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_verifications" ADD CONSTRAINT "run_verifications_runner_id_runners_id_fk" FOREIGN KEY ("runner_id") REFERENCES "public"."runners"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "run_verifications_verifier_run_id_idx" ON "run_verifications" USING btree ("verifier_run_id");