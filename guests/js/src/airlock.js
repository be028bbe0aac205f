// The `airlock` module that agent code imports: `import { callTool, searchTools } from "airlock"`.
export const callTool = globalThis.__airlock.callTool;
export const searchTools = globalThis.__airlock.searchTools;
export const saveSkill = globalThis.__airlock.saveSkill;
export const runSkill = globalThis.__airlock.runSkill;
export const ToolError = globalThis.__airlock.ToolError;
