-- Maintenance windows shown on a status page: the link becomes a foreign key. Links to a page
-- that no longer exists, or that another user owns, are dropped first (they were never shown).
UPDATE "maintenance_windows" m SET "status_page_id" = NULL
WHERE m."status_page_id" IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM "status_pages" p WHERE p."id" = m."status_page_id" AND p."owner_id" = m."owner_id"
  );

-- AddForeignKey
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_status_page_id_fkey" FOREIGN KEY ("status_page_id") REFERENCES "status_pages"("id") ON DELETE SET NULL ON UPDATE CASCADE;
