// Collects every item of a paginated tool: calls it page after page until
// the server says there is no more, and returns the items in order.
//
//   import { listRecords } from "./servers/records";
//   import { collectPages } from "./skills/collect-pages";
//   const all = await collectPages(listRecords, {}, { pageSize: 500 });
//
// Understands cursor pagination (`next_cursor` / `nextCursor` in the
// result, sent back as `cursor`) and offset pagination (`next_offset`, or
// `total` with `offset`/`limit`).

/** Every item of `call` (a tool function) over all its pages.
 *  `args`: the tool's other arguments. `options.pageSize` is sent as
 *  `options.sizeParam` (default "limit"); `options.itemsKey` names the
 *  array of items (default: the first array in the result);
 *  `options.maxPages` (default 1000) stops a server that never ends. */
export async function collectPages(call, args = {}, options = {}) {
  const { pageSize, sizeParam = "limit", itemsKey, maxPages = 1000 } = options;
  const items = [];
  let page = pageSize === undefined ? {} : { [sizeParam]: pageSize };
  for (let n = 0; n < maxPages; n++) {
    const result = await call({ ...args, ...page });
    const key = itemsKey ?? Object.keys(result ?? {}).find((k) => Array.isArray(result[k]));
    const batch = key === undefined ? [] : result[key];
    items.push(...batch);
    const cursor = result.next_cursor ?? result.nextCursor;
    if (cursor) {
      page = { ...page, cursor };
    } else if (result.next_offset != null) {
      page = { ...page, offset: result.next_offset };
    } else if (typeof result.total === "number" && items.length < result.total && batch.length > 0) {
      page = { ...page, offset: (page.offset ?? args.offset ?? 0) + batch.length };
    } else {
      return items;
    }
  }
  throw new Error(`collectPages: still more pages after ${maxPages}; raise options.maxPages`);
}
