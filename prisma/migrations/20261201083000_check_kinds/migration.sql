-- Check kinds (issue 15): a site is an http, tcp, dns or tls check; its options as JSON.
ALTER TABLE "websites" ADD COLUMN "kind" VARCHAR(8) NOT NULL DEFAULT 'http',
ADD COLUMN "check_options" JSONB NOT NULL DEFAULT '{}';
