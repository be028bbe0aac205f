"""Phrasings of the generated tools' descriptions (see schema.Service).

Placeholders: {plural} {label} {a_label} {id} {fields} {filters} {scope} {scope_in}
{required} {Required} {first} (resource), {svc} {Svc} (service), {max} (page size limit).
"""

LIST = [
    "Lists {plural}{scope}, most recently updated first.",
    "Returns a paginated list of {plural}{scope}.",
    "Retrieve {plural}{scope}. Filter by {filters} to narrow the result set.",
    "Enumerates the {plural} the caller can see{scope}.",
    "Get a page of {plural}{scope}, optionally filtered by {filters}.",
    "Lists {plural}{scope}. Each entry is a summary; call the matching get tool for every field.",
    "Browse {plural}{scope}, e.g. to find the ID you need for another call.",
]
LIST_EXTRA = [
    "Filters combine with AND; leave a filter out to match everything.",
    "Items the caller has no access to are silently left out, so counts can differ between users.",
    "The summary of each entry carries {fields}.",
    "For anything beyond simple filters, the search tool is usually faster.",
    "Deleted {plural} are not listed.",
]
LIST_PARAMS = ["Supported filters: {filters}.", "You can narrow the list by {filters}.",
               "Combine {filters} to find exactly the {plural} you need."]
PAGING = [
    "Pass `next_cursor` from the response as `cursor` to continue; no `next_cursor` means you reached the last page.",
    "Results are paginated with `page_size` (at most {max}) and an opaque `cursor`.",
    "At most {max} items come back per call; keep calling with the returned cursor to read the rest.",
    "Paginated: the response carries `next_cursor` while more results remain, and `total_count` tells how many match.",
    "Cursors expire after 10 minutes; start again without a cursor if you get INVALID_CURSOR.",
]
GET = [
    "Fetches one {label} by `{id}`, including {fields}.",
    "Returns the full {label} record. Use it after a list or search call when you need every field rather than the summary.",
    "Get {a_label} by ID. Fails with NOT_FOUND if it does not exist or you cannot see it.",
    "Retrieves a single {label}: {fields} and the timestamps.",
    "Look up {a_label} by its identifier.",
    "Reads {a_label} and everything known about it.",
]
GET_EXTRA = [
    "Prefer this over searching when you already know the ID.",
    "The response includes {fields}, plus creation and update timestamps.",
    "Fields the caller is not allowed to see are returned as null rather than omitted.",
    "An ETag in the response can be sent back with updates to detect concurrent changes.",
]
CREATE = [
    "Creates a new {label}{scope_in}. Returns the created object, including its server-assigned `{id}`.",
    "Create {a_label}. {Required} must be provided; other fields fall back to defaults.",
    "Adds {a_label}{scope_in} and returns it.",
    "Creates {a_label} with the given {fields}.",
    "Registers a new {label}{scope_in}.",
]
CREATE_EXTRA = [
    "Fields you leave out take the workspace defaults.",
    "Fails with 409 CONFLICT if {a_label} with the same {first} already exists.",
    "Validation errors name the offending field, so the call can be corrected and retried.",
    "The new {label} is visible to others immediately.",
]
CREATE_PARAMS = ["Required: {required}.", "Only {required} must be set; the rest is optional.",
                 "{Required} must be given, everything else can be set later with the update tool."]
UPDATE = [
    "Updates an existing {label}. Only the fields you send are changed; omitted fields keep their current values.",
    "Modify {a_label}'s {fields}. Partial updates are supported.",
    "Patch {a_label}: send just the fields to change.",
    "Changes the properties of {a_label} and returns the updated record.",
    "Edit {a_label} in place.",
]
UPDATE_EXTRA = [
    "To clear an optional field, send it as an empty string.",
    "When two people edit the same {label} at once, the last write wins.",
    "Returns the {label} as it is after the change.",
    "Array fields are replaced as a whole, not merged.",
]
UPDATE_PARAMS = ["Any of {fields} can be changed in one call.", "Pass the `{id}` plus whichever fields should change."]
DELETE = [
    "Permanently deletes {a_label}. This cannot be undone.",
    "Deletes the {label} identified by `{id}`.",
    "Remove {a_label}. Requires owner or admin rights on it.",
    "Deletes {a_label}; references to it from other objects are cleared.",
    "Deletes {a_label}.",
]
DELETE_EXTRA = [
    "Deleting {a_label} that is still in use fails with 409 CONFLICT.",
    "Deleted {plural} stay in a recycle bin for 30 days, where an admin can restore them.",
    "This is destructive: confirm with the user before calling it.",
    "Deleting an already deleted {label} succeeds, so retries are safe.",
]
SEARCH = [
    "Full-text search over {plural}. Matches against {fields} and returns results ordered by relevance.",
    "Search {plural} by keyword. Supports quoted phrases and a trailing * for prefix matches.",
    "Finds {plural} whose {fields} match the query, best matches first.",
    "Keyword search across {plural}{scope}.",
]
SEARCH_EXTRA = [
    "The index catches up with changes within a few seconds.",
    "Each match carries a relevance `score` between 0 and 1.",
    "Matching ignores case and accents; stop words are dropped.",
]
NOTES_READ = [
    "Requires the `{svc}.read` scope.",
    "Rate limited to 100 requests per minute per user; beyond that calls fail with 429 and a `retry_after` hint.",
    "Timestamps are UTC, ISO 8601.",
    "Reads are served from a replica and may lag writes by up to a minute.",
    "Read-only: safe to call as often as needed.",
]
NOTES_WRITE = [
    "Requires the `{svc}.write` scope.",
    "The change is recorded in the {Svc} audit log under the caller's identity.",
    "Subscribers to {label} webhooks are notified.",
    "Rate limited to 20 writes per second per workspace.",
    "Retrying after a timeout may repeat the change; check the current state before retrying.",
]
UNIQUE_FIELDS = ("name", "key", "code", "email", "sku", "slug", "tag_name", "url", "work_email")
READ_VERBS = ("get", "list", "search", "find", "query", "read", "download", "export", "track", "compare", "detect",
              "forecast", "batch", "validate", "preview")
