-- Reserved: number 0016 belongs to parallel work (issue 7), merged separately. This placeholder only
-- keeps the numbering gap-free on this branch; it is dropped when that branch's 0016 lands.
SELECT 1;
