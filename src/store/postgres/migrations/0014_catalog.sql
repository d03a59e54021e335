-- The product catalogue (docs/catalog.md): items imported by the admin API, keyed by the shop's own
-- item id. `available = false` keeps an item out of recommendations without losing it.
CREATE TABLE catalog_items (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  name text NOT NULL,
  url text,
  image_url text,
  price numeric,
  currency text COLLATE "C",
  category text,
  available boolean NOT NULL,
  extra jsonb NOT NULL DEFAULT '{}',
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

-- Item-to-item similarities, the top few per item, written whole by a rebuild. One row per pair
-- rather than a JSON list per item: a send reads the lists of a batch's recent items with one keyed
-- read (item_id = ANY(...)) and no JSON parsing, and removing an item removes its list with a
-- key-range delete.
CREATE TABLE catalog_similar (
  workspace_id text COLLATE "C" NOT NULL,
  item_id text COLLATE "C" NOT NULL,
  other_id text COLLATE "C" NOT NULL,
  score double precision NOT NULL,
  PRIMARY KEY (workspace_id, item_id, other_id)
);
