-- Scale-out (issue 7): several televisit nodes share one database. Each node
-- keeps a lease row; each visit's media room lives on exactly one node,
-- recorded in room_placements. No PHI in either table. Liveness is always
-- judged against the database clock (lease_until > now()).

-- +goose Up
CREATE TABLE cluster_nodes (
    id            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,100}$'),
    advertise_url text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    lease_until   timestamptz NOT NULL,
    draining      boolean NOT NULL DEFAULT false
);

CREATE TABLE room_placements (
    visit_id  uuid PRIMARY KEY REFERENCES visits (id) ON DELETE CASCADE,
    node_id   text NOT NULL REFERENCES cluster_nodes (id) ON DELETE CASCADE,
    epoch     bigint NOT NULL DEFAULT 1,
    placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX room_placements_node ON room_placements (node_id);

-- +goose Down
DROP TABLE room_placements;
DROP TABLE cluster_nodes;
