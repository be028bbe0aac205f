// Globals every execution sees. Evaluated once, at pre-initialisation, so it
// costs nothing per execution. `native` holds the functions the Rust side
// installs; it is captured here and then removed from the global scope.
(function (native) {
  "use strict";

  // Node-like rendering of values, compact and cycle-safe, so that what an
  // agent prints is easy for a model to read back.
  function inspect(value, depth, seen) {
    switch (typeof value) {
      case "string":
        return depth === 0 ? value : JSON.stringify(value);
      case "number":
      case "boolean":
      case "undefined":
        return String(value);
      case "bigint":
        return `${value}n`;
      case "symbol":
        return value.toString();
      case "function":
        return `[Function: ${value.name || "anonymous"}]`;
    }
    if (value === null) return "null";
    if (value instanceof Error) {
      return value.stack ? `${value.name}: ${value.message}\n${value.stack}`.trimEnd() : `${value.name}: ${value.message}`;
    }
    if (seen.includes(value)) return "[Circular]";
    if (depth > 6) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen.push(value);
    const inner = (v) => inspect(v, depth + 1, seen);
    let out;
    if (Array.isArray(value)) {
      out = `[ ${value.map(inner).join(", ")} ]`;
      if (value.length === 0) out = "[]";
    } else if (value instanceof Map) {
      const items = [...value].map(([k, v]) => `${inner(k)} => ${inner(v)}`);
      out = `Map(${value.size}) { ${items.join(", ")} }`;
    } else if (value instanceof Set) {
      out = `Set(${value.size}) { ${[...value].map(inner).join(", ")} }`;
    } else if (value instanceof Date) {
      out = isNaN(value) ? "Invalid Date" : value.toISOString();
    } else if (value instanceof Promise) {
      out = "Promise { <pending> }";
    } else {
      const keys = Object.keys(value);
      const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
      out = keys.length === 0 ? "{}" : `{ ${keys.map((k) => `${key(k)}: ${inner(value[k])}`).join(", ")} }`;
    }
    seen.pop();
    return out;
  }

  const format = (args) => args.map((a) => inspect(a, 0, [])).join(" ") + "\n";
  const write = native.write;
  const console = {
    log: (...args) => write(1, format(args)),
    info: (...args) => write(1, format(args)),
    debug: (...args) => write(1, format(args)),
    warn: (...args) => write(2, format(args)),
    error: (...args) => write(2, format(args)),
  };

  /** A tool call failed. `kind` is one of: not-found, denied,
   *  invalid-arguments, failed, unavailable, limit. */
  class ToolError extends Error {
    constructor(kind, message, server, tool) {
      super(message);
      this.name = "ToolError";
      this.kind = kind;
      this.server = server;
      this.tool = tool;
    }
  }

  // The agent's own frames of a stack: not the prelude's (`eval_script`)
  // nor the generated server modules', so an uncaught ToolError points at
  // the line of main.js (or the skill) that made the call.
  const userFrames = (stack) =>
    String(stack || "")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.includes("eval_script") && !line.includes("/servers/"))
      .join("\n");

  // Enough for the agent's line behind a generated server module's function.
  const SITE_FRAMES = 4;
  const enqueue = native.enqueue;
  /** Calls `tool` of `server` with `args`; resolves to its result. */
  function callTool(server, tool, args = {}) {
    if (typeof server !== "string" || typeof tool !== "string") {
      return Promise.reject(new TypeError("callTool(server, tool, args): server and tool must be strings"));
    }
    if (args === null || typeof args !== "object" || Array.isArray(args)) {
      return Promise.reject(new TypeError(`${server}.${tool}: arguments must be one object`));
    }
    let json;
    try {
      json = JSON.stringify(args);
    } catch (e) {
      return Promise.reject(new TypeError(`${server}.${tool}: arguments are not JSON-serialisable: ${e.message}`));
    }
    // The call site, captured now (the tool answers after the caller's
    // frames are gone), from callTool's caller and only a few frames deep:
    // formatting a whole stack would cost every call microseconds.
    const site = {};
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = SITE_FRAMES;
    Error.captureStackTrace(site, callTool);
    Error.stackTraceLimit = limit;
    return new Promise((resolve, reject) =>
      enqueue(server, tool, json, (kind, payload) => {
        if (kind) {
          const error = new ToolError(kind, payload, server, tool);
          error.stack = userFrames(site.stack);
          reject(error);
        } else resolve(payload);
      }),
    );
  }

  const search = native.search;
  /** The `limit` tools of every server that best match `query`, best first:
   *  `[{ name: "server.tool", server, tool, score, description?, declaration?, needs?, gives? }]`.
   *  `detail`: "name", "description" (the default) or "full" (adds the
   *  TypeScript declaration). `needs`: the ids a tool requires that another
   *  tool of its server gives (found beside it when the limit allows);
   *  `gives`: the ids it gives to other results. */
  async function searchTools(query, detail = "description", limit = 10) {
    if (typeof query !== "string") throw new TypeError("searchTools(query, detail, limit): query must be a string");
    const count = Number(limit);
    if (!Number.isInteger(count) || count < 1) throw new TypeError("searchTools: limit must be a positive integer");
    return search(query, String(detail), Math.min(count, 1000));
  }

  const save = native.saveSkill;
  /** Saves a module as the skill `name`, importable later from
   *  `./skills/<name>`: `saveSkill({ name, description, code, language?,
   *  replace?, session? })` resolves to `{ name, tools }` (the tools it
   *  calls). With `session: true` only this session sees it. */
  async function saveSkill(skill) {
    if (skill === null || typeof skill !== "object") throw new TypeError("saveSkill({ name, description, code })");
    const { name, description, code, language = "javascript", replace = false, session = false } = skill;
    for (const [field, value] of [["name", name], ["description", description], ["code", code]]) {
      if (typeof value !== "string") throw new TypeError(`saveSkill: ${field} must be a string`);
    }
    return { name, tools: save(name, description, code, String(language), Boolean(replace), Boolean(session)) };
  }

  const runComponent = native.runSkill;
  /** Runs the component skill `name` with `input` (any JSON value) in an
   *  instance of its own, under what is left of this execution's budget;
   *  resolves to its output. `import { run } from "./skills/<name>"` is
   *  the same call. */
  async function runSkill(name, input = null) {
    if (typeof name !== "string") throw new TypeError("runSkill(name, input): name must be a string");
    return JSON.parse(runComponent(name, JSON.stringify(input ?? null)));
  }

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define("console", console);
  define("ToolError", ToolError);
  // Read by the `airlock` module; hidden from enumeration.
  define(
    "__airlock",
    Object.freeze({ callTool, searchTools, saveSkill, runSkill, ToolError, fs: native.fs, inspect: (v) => inspect(v, 0, []) }),
  );
  // Read at access time: the snapshot must not freeze an environment in.
  const env = native.env;
  define("process", Object.freeze({ get env() { return Object.freeze(env()); } }));
  Math.random = native.random;
})(globalThis.__airlock_native);
delete globalThis.__airlock_native;
