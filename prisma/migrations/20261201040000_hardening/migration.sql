-- Token revocation: every token carries the version it was issued under; logout,
-- a password change and account deletion bump it, so older tokens stop working.
ALTER TABLE "users" ADD COLUMN "token_version" INTEGER NOT NULL DEFAULT 0;
