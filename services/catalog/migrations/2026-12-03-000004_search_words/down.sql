DROP TRIGGER tools_search_words ON tools;
DROP FUNCTION catalog_search_words();
DROP TABLE search_words;
