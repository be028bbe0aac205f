// The `airlock` module that agent code imports: `import { callTool } from "airlock"`.
export const callTool = globalThis.__airlock.callTool;
export const ToolError = globalThis.__airlock.ToolError;
