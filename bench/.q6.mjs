import Database from 'better-sqlite3';
const db = new Database(process.argv[2]);
const ws = db.prepare('SELECT id FROM workspaces LIMIT 1').pluck().get();
const now = Date.now(); const M = 30 * 864e5;
const start = now - 365 * 864e5, cohortEnd = now, firstMonth = start - 31 * 864e5, end = now;
const time = (label, f) => { const t = performance.now(); const r = f(); console.log(label, (performance.now() - t).toFixed(0), 'ms', Array.isArray(r) ? r.length : r); };
for (let i = 0; i < 2; i++) {
time('sizes scan', () => db.prepare(`SELECT count(*) FROM profiles WHERE workspace_id = ? AND merged_into IS NULL AND first_seen_at >= ? AND first_seen_at < ?`).pluck().get(ws, start, cohortEnd));
time('rollup group', () => db.prepare(`SELECT a.profile_id, group_concat(a.month) FROM event_activity a WHERE a.workspace_id = ? AND a.name = '' AND a.kind = 0 AND a.month >= ? AND a.month < ? GROUP BY a.profile_id`).raw().all(ws, firstMonth, end));
time('rollup+join', () => db.prepare(`SELECT pr.first_seen_at, a.ks FROM (SELECT a.profile_id AS p, group_concat(a.month) AS ks FROM event_activity a WHERE a.workspace_id = ? AND a.name = '' AND a.kind = 0 AND a.month >= ? AND a.month < ? GROUP BY a.profile_id) a CROSS JOIN profiles pr ON pr.workspace_id = ? AND pr.id = a.p WHERE pr.merged_into IS NULL`).raw().all(ws, firstMonth, end, ws));
}
console.log(db.prepare('SELECT kind, count(*) FROM event_activity GROUP BY kind').all());
console.log(db.prepare("SELECT sql FROM sqlite_master WHERE tbl_name='event_activity'").pluck().all());
