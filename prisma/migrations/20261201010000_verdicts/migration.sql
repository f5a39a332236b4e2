-- Confirmation and in-round retries per site (issue 16): a verdict different from the
-- current one needs down/upAfterRounds consecutive rounds; a validator retries a failed
-- check `retries` times, `retry_delay_ms` apart, before it votes DOWN.
ALTER TABLE "websites" ADD COLUMN "down_after_rounds" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "websites" ADD COLUMN "up_after_rounds" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "websites" ADD COLUMN "retries" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "websites" ADD COLUMN "retry_delay_ms" INTEGER NOT NULL DEFAULT 0;

-- One Raft entry carries a batch of decisions (issue 10): a row is identified by its
-- entry's log index and its position in the batch (0 for a single decision).
ALTER TABLE "decisions" ADD COLUMN "batch_pos" INTEGER NOT NULL DEFAULT 0;
DROP INDEX "decisions_log_index_key";
CREATE UNIQUE INDEX "decisions_log_index_batch_pos_key" ON "decisions"("log_index", "batch_pos");
