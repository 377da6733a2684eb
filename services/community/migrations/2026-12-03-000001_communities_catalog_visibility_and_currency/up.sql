-- What the catalog needs to know of each community (it learns them from community.*
-- events): who may browse its tool library, and the currency its tools are priced in.
-- Existing communities get the defaults: members only, euros.
ALTER TABLE communities
    ADD COLUMN catalog_visibility text NOT NULL DEFAULT 'members'
        CHECK (catalog_visibility IN ('members', 'public')),
    -- ISO 4217, upper-case as platform::money::Currency writes it.
    ADD COLUMN currency text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$');
