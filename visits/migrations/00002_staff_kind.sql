-- Staff rows are people or API clients (client-credentials tokens). Only
-- people can be assigned visits or counted as a clinic's clinicians.

-- +goose Up
ALTER TABLE staff ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'api_client'));

-- +goose Down
ALTER TABLE staff DROP COLUMN kind;
