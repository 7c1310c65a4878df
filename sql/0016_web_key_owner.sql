-- API keys get an owner (IVRE's user_email): the person or service the key
-- belongs to. A key lists, creates and revokes the keys of its owner
-- through the web API (/cgi/auth/api-keys); an admin key, every key.
-- Keys made before this migration are their own owner (their name).

ALTER TABLE web_api_key ADD COLUMN owner text;
UPDATE web_api_key SET owner = name;
ALTER TABLE web_api_key ALTER COLUMN owner SET NOT NULL;
CREATE INDEX web_api_key_owner ON web_api_key (owner);
COMMENT ON COLUMN web_api_key.owner IS 'Who the key belongs to (IVRE''s user_email): its keys are the ones it may list and revoke without the admin permission';
COMMENT ON INDEX web_api_key_owner IS 'The keys of an owner (GET /cgi/auth/api-keys)';
