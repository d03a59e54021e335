-- Reserved: number 0019 belongs to parallel work (issue 9: staff users, key scopes, audit log), merged
-- separately. This placeholder only keeps the numbering gap-free on this branch; drop it when that
-- branch's 0019 lands.
SELECT 1;
