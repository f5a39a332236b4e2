-- Public status pages: a user groups some of their sites under a public slug.

-- CreateTable
CREATE TABLE "status_pages" (
    "id" UUID NOT NULL,
    "owner_id" UUID NOT NULL,
    "slug" VARCHAR(64) NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "description" VARCHAR(2000),
    "show_urls" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "status_pages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "status_page_sites" (
    "page_id" UUID NOT NULL,
    "website_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "status_page_sites_pkey" PRIMARY KEY ("page_id","website_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "status_pages_slug_key" ON "status_pages"("slug");

-- CreateIndex
CREATE INDEX "status_pages_owner_id_created_at_idx" ON "status_pages"("owner_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "status_page_sites_website_id_idx" ON "status_page_sites"("website_id");

-- AddForeignKey
ALTER TABLE "status_pages" ADD CONSTRAINT "status_pages_owner_id_fkey" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "status_page_sites" ADD CONSTRAINT "status_page_sites_page_id_fkey" FOREIGN KEY ("page_id") REFERENCES "status_pages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "status_page_sites" ADD CONSTRAINT "status_page_sites_website_id_fkey" FOREIGN KEY ("website_id") REFERENCES "websites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
