-- Search no longer tests trigram similarity in its WHERE (the tsvector and the word
-- dictionary answer): the index only cost every write.
DROP INDEX tools_name_trgm;
