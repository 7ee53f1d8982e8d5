// The overdue ladder in a timer: `ladder_at(<due>, <offset>)`, where the offset is either the
// campaign's rung from process data (`ladder['letter']`) or fixed in the diagram
// (`{'days': 3, 'unit': 'working'}`). See processes/README.md and app/engine/expressions.py.
const CALL = /^\s*ladder_at\(\s*([\s\S]+?)\s*,\s*(ladder\[\s*['"](\w+)['"]\s*\]|\{[\s\S]*\})\s*\)\s*$/;
const DAYS = /['"]days['"]\s*:\s*(-?\d+)/;
const UNIT = /['"]unit['"]\s*:\s*['"](working|calendar)['"]/;

export function parseLadder(expression) {
  const match = CALL.exec(expression || "");
  if (!match) return null;
  if (match[3]) return { due: match[1], level: match[3], days: null, unit: null };
  const days = DAYS.exec(match[2]);
  const unit = UNIT.exec(match[2]);
  if (!days) return null;
  return { due: match[1], level: null, days: Number(days[1]), unit: unit ? unit[1] : "working" };
}

export function formatLadder({ due, level, days, unit }) {
  const offset = level ? `ladder['${level}']` : `{'days': ${Number(days) || 0}, 'unit': '${unit || "working"}'}`;
  return `ladder_at(${due}, ${offset})`;
}
