-- The words of tool names, brands and models: the dictionary the typo fallback corrects
-- query words against (levenshtein over a few thousand words instead of over every tool;
-- the approach of pg_trgm's "text search integration"). Numbers and words under three
-- letters are left out. Words of renamed tools stay: they only ever suggest a spelling
-- that then matches nothing.
CREATE TABLE search_words (
    word TEXT PRIMARY KEY
);

CREATE FUNCTION catalog_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w
      FROM regexp_split_to_table(
             lower(NEW.name || ' ' || coalesce(NEW.brand, '') || ' ' || coalesce(NEW.model, '')),
             '[^[:alnum:]]+') AS w
     WHERE length(w) >= 3 AND w !~ '^[0-9]+$'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tools_search_words
    AFTER INSERT OR UPDATE OF name, brand, model ON tools
    FOR EACH ROW EXECUTE FUNCTION catalog_search_words();

INSERT INTO search_words (word)
SELECT DISTINCT w
  FROM tools, regexp_split_to_table(
         lower(name || ' ' || coalesce(brand, '') || ' ' || coalesce(model, '')),
         '[^[:alnum:]]+') AS w
 WHERE length(w) >= 3 AND w !~ '^[0-9]+$'
ON CONFLICT DO NOTHING;
