-- CreateEnum
CREATE TYPE "Verdict" AS ENUM ('UP', 'DOWN', 'UNKNOWN');

-- CreateEnum
CREATE TYPE "FailureClass" AS ENUM ('DNS', 'TIMEOUT', 'CONNECT', 'TLS', 'HTTP_STATUS', 'KEYWORD', 'BLOCKED');

-- CreateEnum
CREATE TYPE "AlertKind" AS ENUM ('DOWN', 'RECOVERED', 'REGION_DOWN', 'REGION_RECOVERED');

-- CreateEnum
CREATE TYPE "DeliveryChannel" AS ENUM ('EMAIL', 'WEBSOCKET');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "websites" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "url" VARCHAR(2048) NOT NULL,
    "interval_ms" INTEGER NOT NULL,
    "timeout_ms" INTEGER NOT NULL,
    "expected_status" INTEGER[],
    "keyword" VARCHAR(1024),
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "websites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "validators" (
    "id" VARCHAR(64) NOT NULL,
    "region" VARCHAR(64) NOT NULL,
    "public_key" TEXT NOT NULL,
    "address" VARCHAR(255) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "validators_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ping_logs" (
    "id" BIGSERIAL NOT NULL,
    "website_id" UUID NOT NULL,
    "validator_id" VARCHAR(64) NOT NULL,
    "region" VARCHAR(64) NOT NULL,
    "round" BIGINT NOT NULL,
    "up" BOOLEAN NOT NULL,
    "latency_ms" INTEGER,
    "http_status" INTEGER,
    "failure" "FailureClass",
    "error" VARCHAR(1024),
    "phases" JSONB,
    "checked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ping_logs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "decisions" (
    "id" BIGSERIAL NOT NULL,
    "log_index" BIGINT NOT NULL,
    "term" BIGINT NOT NULL,
    "website_id" UUID NOT NULL,
    "round" BIGINT NOT NULL,
    "verdict" "Verdict" NOT NULL,
    "region_verdicts" JSONB NOT NULL,
    "tally" JSONB NOT NULL,
    "voters" TEXT[],
    "decided_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "dedup_key" VARCHAR(200) NOT NULL,
    "website_id" UUID NOT NULL,
    "kind" "AlertKind" NOT NULL,
    "region" VARCHAR(64),
    "round" BIGINT NOT NULL,
    "decision_log_index" BIGINT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_deliveries" (
    "id" UUID NOT NULL,
    "alert_id" UUID NOT NULL,
    "channel" "DeliveryChannel" NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "message_id" VARCHAR(255),
    "last_error" VARCHAR(1024),
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "alert_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ping_rollup_hourly" (
    "website_id" UUID NOT NULL,
    "region" VARCHAR(64) NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "checks" INTEGER NOT NULL DEFAULT 0,
    "up_checks" INTEGER NOT NULL DEFAULT 0,
    "latency_sum_ms" BIGINT NOT NULL DEFAULT 0,
    "latency_count" INTEGER NOT NULL DEFAULT 0,
    "latency_max_ms" INTEGER NOT NULL DEFAULT 0,
    "latency_hist" INTEGER[],

    CONSTRAINT "ping_rollup_hourly_pkey" PRIMARY KEY ("website_id","region","bucket_start")
);

-- CreateTable
CREATE TABLE "ping_rollup_daily" (
    "website_id" UUID NOT NULL,
    "region" VARCHAR(64) NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "checks" INTEGER NOT NULL DEFAULT 0,
    "up_checks" INTEGER NOT NULL DEFAULT 0,
    "latency_sum_ms" BIGINT NOT NULL DEFAULT 0,
    "latency_count" INTEGER NOT NULL DEFAULT 0,
    "latency_max_ms" INTEGER NOT NULL DEFAULT 0,
    "latency_hist" INTEGER[],

    CONSTRAINT "ping_rollup_daily_pkey" PRIMARY KEY ("website_id","region","bucket_start")
);

-- CreateTable
CREATE TABLE "site_status" (
    "website_id" UUID NOT NULL,
    "verdict" "Verdict" NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "last_round" BIGINT NOT NULL,
    "last_log_index" BIGINT NOT NULL,
    "region_status" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "site_status_pkey" PRIMARY KEY ("website_id")
);

-- CreateTable
CREATE TABLE "incidents" (
    "id" BIGSERIAL NOT NULL,
    "website_id" UUID NOT NULL,
    "region" VARCHAR(64),
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "start_round" BIGINT NOT NULL,
    "end_round" BIGINT,

    CONSTRAINT "incidents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "projection_cursors" (
    "name" VARCHAR(64) NOT NULL,
    "last_index" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "projection_cursors_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "websites_owner_id_created_at_id_idx" ON "websites"("owner_id", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "websites_paused_updated_at_idx" ON "websites"("paused", "updated_at");

-- CreateIndex
CREATE INDEX "validators_region_idx" ON "validators"("region");

-- CreateIndex
CREATE INDEX "ping_logs_website_id_checked_at_id_idx" ON "ping_logs"("website_id", "checked_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "ping_logs_checked_at_idx" ON "ping_logs"("checked_at");

-- CreateIndex
CREATE UNIQUE INDEX "ping_logs_website_id_round_validator_id_key" ON "ping_logs"("website_id", "round", "validator_id");

-- CreateIndex
CREATE UNIQUE INDEX "decisions_log_index_key" ON "decisions"("log_index");

-- CreateIndex
CREATE INDEX "decisions_website_id_decided_at_idx" ON "decisions"("website_id", "decided_at" DESC);

-- CreateIndex
CREATE INDEX "decisions_decided_at_idx" ON "decisions"("decided_at");

-- CreateIndex
CREATE UNIQUE INDEX "decisions_website_id_round_key" ON "decisions"("website_id", "round");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_dedup_key_key" ON "alerts"("dedup_key");

-- CreateIndex
CREATE INDEX "alerts_website_id_created_at_idx" ON "alerts"("website_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "alerts_created_at_idx" ON "alerts"("created_at");

-- CreateIndex
CREATE INDEX "alert_deliveries_status_updated_at_idx" ON "alert_deliveries"("status", "updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "alert_deliveries_alert_id_channel_key" ON "alert_deliveries"("alert_id", "channel");

-- CreateIndex
CREATE INDEX "incidents_website_id_started_at_idx" ON "incidents"("website_id", "started_at" DESC);

-- AddForeignKey
ALTER TABLE "websites" ADD CONSTRAINT "websites_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ping_logs" ADD CONSTRAINT "ping_logs_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ping_rollup_hourly" ADD CONSTRAINT "ping_rollup_hourly_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ping_rollup_daily" ADD CONSTRAINT "ping_rollup_daily_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "site_status" ADD CONSTRAINT "site_status_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
