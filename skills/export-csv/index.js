// Writes a list of records to a CSV file in the session's workspace.
//
//   import { writeCsv } from "./skills/export-csv";
//   writeCsv("overdue.csv", rows, ["id", "name", "amount"]);

import { writeFileSync } from "fs";

/** One CSV field: quoted when it holds a comma, quote or line break;
 *  objects are written as JSON. */
function field(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** `rows` (objects) as CSV text with a header line; `columns` default to
 *  every key seen, in first-seen order. */
export function toCsv(rows, columns) {
  const keys = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const lines = [keys.map(field).join(",")];
  for (const row of rows) lines.push(keys.map((key) => field(row[key])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** Writes `rows` as CSV to `path` under ./workspace/ and returns
 *  `{ path, rows, bytes }`. */
export function writeCsv(path, rows, columns) {
  const target = path.startsWith("./workspace/") ? path : `./workspace/${path.replace(/^\/+/, "")}`;
  const text = toCsv(rows, columns);
  writeFileSync(target, text);
  return { path: target, rows: rows.length, bytes: unescape(encodeURIComponent(text)).length };
}
