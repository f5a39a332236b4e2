-- Push (heartbeat) monitors (issue 15): a push site's beat token, stored only as its keyed hash.
ALTER TABLE "websites" ADD COLUMN "push_token_hash" BYTEA;

CREATE UNIQUE INDEX "websites_push_token_hash_key" ON "websites"("push_token_hash");
