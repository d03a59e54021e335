-- The product catalogue (docs/catalog.md): items imported by the admin API, keyed by the shop's own
-- item id. `available = 0` keeps an item out of recommendations without losing it.
CREATE TABLE catalog_items (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  url TEXT,
  image_url TEXT,
  price REAL,
  currency TEXT,
  category TEXT,
  available INTEGER NOT NULL,
  extra TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;

-- Item-to-item similarities, the top few per item, written whole by a rebuild. One row per pair
-- rather than a JSON list per item: a send reads the lists of a batch's recent items with one keyed
-- range read per item and no JSON parsing, ordered by score from the index, and removing an item
-- removes its list with a key-range delete.
CREATE TABLE catalog_similar (
  workspace_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  other_id TEXT NOT NULL,
  score REAL NOT NULL,
  PRIMARY KEY (workspace_id, item_id, other_id)
) WITHOUT ROWID;
