-- Placeholder: version 0011 is taken by another branch (the catalog work). Migrations must be numbered
-- without gaps, so this keeps 0012 loadable until that branch's 0011 is merged; delete this file then.
SELECT 1;
