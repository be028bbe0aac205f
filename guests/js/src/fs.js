// `fs` for agent code: the session's workspace under ./workspace/.
// Sync forms (`readFileSync`) and promise forms (`promises.readFile`).
const native = globalThis.__airlock.fs;

const text = (data) => (typeof data === "string" ? data : JSON.stringify(data));
const flag = (options, name) => Boolean(options && typeof options === "object" && options[name]);

export const readFileSync = (path, _encoding) => native.readFile(String(path));
export const writeFileSync = (path, data) => native.writeFile(String(path), text(data), false);
export const appendFileSync = (path, data) => native.writeFile(String(path), text(data), true);
export const readdirSync = (path) => native.readdir(String(path));
export const existsSync = (path) => native.exists(String(path));
export const mkdirSync = (path, options) => native.mkdir(String(path), flag(options, "recursive"));
export const rmSync = (path, options) => native.rm(String(path), flag(options, "recursive"));
export function statSync(path) {
  const s = native.stat(String(path));
  return { size: s.size, mtimeMs: s.mtimeMs, isFile: () => s.isFile, isDirectory: () => s.isDirectory };
}

const lift = (fn) => async (...args) => fn(...args);
export const promises = Object.freeze({
  readFile: lift(readFileSync),
  writeFile: lift(writeFileSync),
  appendFile: lift(appendFileSync),
  readdir: lift(readdirSync),
  stat: lift(statSync),
  mkdir: lift(mkdirSync),
  rm: lift(rmSync),
  exists: lift(existsSync),
});
export const { readFile, writeFile, appendFile, readdir, stat, mkdir, rm, exists } = promises;
export default {
  readFileSync, writeFileSync, appendFileSync, readdirSync, existsSync, mkdirSync, rmSync, statSync, promises,
};
