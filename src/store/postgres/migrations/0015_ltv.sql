-- The workspace's fitted lifetime-value model (domain/ltv/model.ts LtvModel), read with its other
-- definitions; NULL until a model is fitted.
ALTER TABLE workspaces ADD COLUMN ltv_model jsonb;
