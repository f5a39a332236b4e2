-- Notification channels, routing, reminders, maintenance windows (issue 14).

-- CreateEnum
CREATE TYPE "NotifyChannelType" AS ENUM ('WEBHOOK', 'SLACK', 'DISCORD', 'TELEGRAM', 'PAGERDUTY', 'MATTERMOST');

-- CreateEnum
CREATE TYPE "NotifyChannelState" AS ENUM ('OK', 'FAILING');

-- CreateEnum
CREATE TYPE "NotifyDeliveryStatus" AS ENUM ('PENDING', 'SENT', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "notification_channels" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "type" "NotifyChannelType" NOT NULL,
    "config" JSONB NOT NULL,
    "secrets" JSONB NOT NULL,
    "default_kinds" "AlertKind"[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "state" "NotifyChannelState" NOT NULL DEFAULT 'OK',
    "failing_since" TIMESTAMPTZ(3),
    "last_failure_at" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "last_error" VARCHAR(1024),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "notification_channels_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "site_notification_routes" (
    "website_id" UUID NOT NULL,
    "channel_id" UUID NOT NULL,
    "kinds" "AlertKind"[],

    CONSTRAINT "site_notification_routes_pkey" PRIMARY KEY ("website_id","channel_id")
);

-- CreateTable
CREATE TABLE "site_notification_settings" (
    "website_id" UUID NOT NULL,
    "reminder_every_minutes" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "site_notification_settings_pkey" PRIMARY KEY ("website_id")
);

-- CreateTable
CREATE TABLE "notification_deliveries" (
    "id" UUID NOT NULL,
    "alert_id" UUID NOT NULL,
    "channel_id" UUID NOT NULL,
    "website_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL DEFAULT 0,
    "kind" "AlertKind" NOT NULL,
    "round" BIGINT NOT NULL,
    "incident_key" VARCHAR(200) NOT NULL,
    "status" "NotifyDeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "last_status_code" INTEGER,
    "last_error" VARCHAR(1024),
    "attempt_log" JSONB NOT NULL DEFAULT '[]',
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "notification_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "maintenance_windows" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "website_id" UUID,
    "status_page_id" UUID,
    "title" VARCHAR(200) NOT NULL,
    "starts_at" TIMESTAMPTZ(3),
    "ends_at" TIMESTAMPTZ(3),
    "cron" VARCHAR(120),
    "duration_minutes" INTEGER,
    "time_zone" VARCHAR(64),
    "active_from" TIMESTAMPTZ(3),
    "active_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "maintenance_windows_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_holds" (
    "alert_id" UUID NOT NULL,
    "website_id" UUID NOT NULL,
    "window_id" UUID,
    "held_at" TIMESTAMPTZ(3) NOT NULL,
    "released_at" TIMESTAMPTZ(3),
    "outcome" VARCHAR(16),

    CONSTRAINT "alert_holds_pkey" PRIMARY KEY ("alert_id")
);

-- CreateIndex
CREATE INDEX "notification_channels_owner_id_created_at_idx" ON "notification_channels"("owner_id", "created_at");

-- CreateIndex
CREATE INDEX "site_notification_routes_channel_id_idx" ON "site_notification_routes"("channel_id");

-- CreateIndex
CREATE INDEX "notification_deliveries_status_next_attempt_at_idx" ON "notification_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "notification_deliveries_website_id_channel_id_status_round_idx" ON "notification_deliveries"("website_id", "channel_id", "status", "round");

-- CreateIndex
CREATE INDEX "notification_deliveries_channel_id_created_at_idx" ON "notification_deliveries"("channel_id", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "notification_deliveries_alert_id_channel_id_seq_key" ON "notification_deliveries"("alert_id", "channel_id", "seq");

-- CreateIndex
CREATE INDEX "maintenance_windows_website_id_idx" ON "maintenance_windows"("website_id");

-- CreateIndex
CREATE INDEX "maintenance_windows_status_page_id_idx" ON "maintenance_windows"("status_page_id");

-- CreateIndex
CREATE INDEX "maintenance_windows_owner_id_created_at_idx" ON "maintenance_windows"("owner_id", "created_at");

-- CreateIndex
CREATE INDEX "alert_holds_released_at_idx" ON "alert_holds"("released_at");

-- CreateIndex
CREATE INDEX "alert_holds_website_id_idx" ON "alert_holds"("website_id");

-- AddForeignKey
ALTER TABLE "notification_channels" ADD CONSTRAINT "notification_channels_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "site_notification_routes" ADD CONSTRAINT "site_notification_routes_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "site_notification_routes" ADD CONSTRAINT "site_notification_routes_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "site_notification_settings" ADD CONSTRAINT "site_notification_settings_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_holds" ADD CONSTRAINT "alert_holds_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_holds" ADD CONSTRAINT "alert_holds_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
