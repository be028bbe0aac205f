"""Catalog services: drive, docs, sheets."""

from __future__ import annotations

from . import special
from .schema import A, B, DT, E, EMAIL, I, N, O, Resource, S, Service, URI

FILE_ID = S("ID of the file or folder.")
FOLDER_ID = S("ID of the destination folder. Use `root` for the top of My Drive.")
DOC_ID = S("ID of the document, e.g. `doc_7f3a9c21e4`.")
SHEET_ID = S("ID of the spreadsheet.")
A1 = S("Range in A1 notation, optionally prefixed with the sheet name, e.g. `Sales!A1:F200`.")
PAGE = {"page_size": I("Maximum number of results to return.", minimum=1, maximum=200, default=50),
        "cursor": S("Cursor from a previous response's `next_cursor`.")}


def drive() -> Service:
    s = Service("drive", "Drive", " in My Drive and the shared drives you belong to", notes=(
                "Items in shared drives are included only when the caller is a member of the shared drive.",
                "Quota: 12,000 requests per minute per project, 1,200 per user."))
    file = Resource("file", {
        "name": S("File name including extension."), "mime_type": S("MIME type, e.g. application/pdf."),
        "parent_folder_id": S("Folder that contains the file."), "size_bytes": I("Size of the content in bytes."),
        "owner": S("Display name of the owner."), "starred": B("Whether the caller starred the file."),
        "description": S("Short free-text description shown in the details pane."),
        "web_url": URI("Link that opens the file in the browser."), "created_at": DT("When the file was created."),
        "updated_at": DT("When the content last changed.")},
        blurb="Google-style Drive files: documents, spreadsheets, PDFs, images and any uploaded binary.",
        readonly=("size_bytes", "owner", "web_url", "created_at", "updated_at", "mime_type"),
        filters={"folder_id": S("Only files directly inside this folder."),
                 "mime_type": S("Only files of this MIME type."),
                 "modified_after": DT("Only files changed after this instant."),
                 "include_trashed": B("Include files in the trash.", default=False)})
    folder = Resource("folder", {
        "name": S("Folder name."), "parent_folder_id": S("Parent folder; omit for the root of My Drive."),
        "color": S("Folder color as a hex code, e.g. #4285f4."), "created_at": DT("Creation time.")},
        create=("name",), blurb="Folders can be nested; a file lives in exactly one folder.")
    perm = Resource("permission", {
        "role": E("Access level granted.", "owner organizer writer commenter reader"),
        "type": E("Who the permission applies to.", "user group domain anyone"),
        "email_address": EMAIL("User or group address; required for type user or group."),
        "domain": S("Domain for type domain, e.g. example.com."),
        "expires_at": DT("When the access expires; only for reader and commenter roles."),
        "send_notification": B("Email the grantee about the new access.", default=True)},
        parent=("file_id", FILE_ID), create=("role", "type"), readonly=(),
        blurb="Permissions decide who can open, comment on or edit a file or folder.")
    comment = Resource("comment", {
        "content": S("Plain-text body of the comment."), "author": S("Display name of the author."),
        "resolved": B("Whether the comment thread is resolved."), "created_at": DT("When it was posted.")},
        parent=("file_id", FILE_ID), create=("content",), readonly=("author", "resolved", "created_at"))
    revision = Resource("revision", {
        "modified_by": S("Who saved this revision."), "size_bytes": I("Size of this revision."),
        "keep_forever": B("Pinned revisions are never purged."), "created_at": DT("When it was saved.")},
        parent=("file_id", FILE_ID), blurb="Old revisions of binary files are purged after 30 days unless pinned.")
    shared = Resource("shared_drive", {
        "name": S("Name of the shared drive."), "theme_color": S("Hex color of the banner."),
        "restrictions": O("Restrictions on the drive's content.", {
            "domain_users_only": B("Only members of the organization can be added."),
            "copy_requires_writer": B("Readers and commenters cannot copy, print or download.")}),
        "created_at": DT("Creation time.")}, create=("name",), label="shared drive")
    s.crud(file, "list get update delete search")
    s.crud(folder, "list create delete")
    s.crud(perm, "list create update delete")
    s.crud(comment, "list create delete")
    s.crud(revision, "list get")
    s.crud(shared, "list create delete")
    s.tool("upload_file", "Uploads a file to Drive from base64 content or from a URL Drive can fetch. Files over 5 MB should use a URL; base64 payloads larger than that are rejected with 413.",
           {"name": S("File name including extension."), "folder_id": FOLDER_ID,
            "content_base64": S("File content, base64-encoded."), "source_url": URI("Public URL to import from instead of inline content."),
            "mime_type": S("MIME type; detected from the name when omitted."),
            "convert": B("Convert Office files to the native editor format.", default=False)}, ["name"], out=file)
    s.tool("download_file", "Downloads the binary content of a file as base64. Native documents cannot be downloaded this way; use drive_export_file.",
           {"file_id": FILE_ID, "revision_id": S("Download this revision instead of the head.")}, ["file_id"],
           out={"name": S(""), "mime_type": S(""), "content_base64": S("")})
    s.tool("copy_file", "Makes a copy of a file, optionally into another folder and under a new name.",
           {"file_id": FILE_ID, "name": S("Name of the copy; defaults to 'Copy of <name>'."), "folder_id": FOLDER_ID}, ["file_id"], out=file)
    s.tool("move_file", "Moves a file or folder to another folder. Moving into a shared drive transfers ownership to the shared drive and may change who has access.",
           {"file_id": FILE_ID, "folder_id": FOLDER_ID}, ["file_id", "folder_id"], out=file)
    s.tool("export_file", "Exports a native document, spreadsheet or presentation to a standard format such as PDF, DOCX, XLSX or CSV (first sheet only) and returns it base64-encoded. Exports are limited to 10 MB.",
           {"file_id": FILE_ID, "format": E("Target format.", "pdf docx xlsx csv pptx txt html", default="pdf")},
           ["file_id", "format"], out={"mime_type": S(""), "size_bytes": I(""), "content_base64": S("")})
    s.tool("restore_file", "Restores a file from the trash to its original folder.", {"file_id": FILE_ID}, ["file_id"], out=file)
    s.tool("empty_trash", "Permanently deletes every file in the caller's trash. Files in shared drives are not affected. Cannot be undone.",
           {"confirm": B("Must be true; guards against accidental calls.")}, ["confirm"], out={"deleted_count": I("")})
    s.tool("get_storage_quota", "Shows how much storage the user has used and how much is left, split by Drive, mail and photos.", {},
           out={"limit_bytes": I("", minimum=16106127360, maximum=16106127360), "usage_bytes": I("", maximum=9 * 10**9),
                "usage_in_drive_bytes": I("", maximum=6 * 10**9), "usage_in_trash_bytes": I("", maximum=5 * 10**8)})
    s.tool("create_share_link", "Creates a link anyone with the URL can use, with the given access level. Admins can disable link sharing for the organization, in which case this fails with PERMISSION_DENIED.",
           {"file_id": FILE_ID, "role": E("Access granted by the link.", "reader commenter writer", default="reader"),
            "allow_discovery": B("Let the file show up in search for people in the domain.", default=False)},
           ["file_id"], out={"url": URI(""), "role": S("")})
    s.tool("watch_changes", "Subscribes a webhook to change notifications for a file or for the whole drive. Channels expire after at most 7 days and must be renewed.",
           {"file_id": S("File to watch; omit to watch every change the user can see."), "webhook_url": URI("HTTPS endpoint that receives the notifications."),
            "expires_in_hours": I("Lifetime of the channel.", minimum=1, maximum=168, default=24)},
           ["webhook_url"], out={"channel_id": S(""), "expires_at": DT("")})
    return s


def docs() -> Service:
    s = Service("docs", "Docs", notes=(
                "Character indexes are 1-based and count UTF-16 code units, as the editor does.",
                "Edits by collaborators between two calls can shift indexes; re-read the document when in doubt."))
    doc = Resource("document", {
        "title": S("Document title."), "folder_id": S("Drive folder holding the document."),
        "owner": S("Owner's display name."), "word_count": I("Number of words in the body."),
        "last_edited_by": S("Who made the latest edit."), "created_at": DT("Creation time."), "updated_at": DT("Last edit time.")},
        blurb="Documents are rich-text files edited in the browser; their body is addressed by character index.")
    tmpl = Resource("template", {
        "name": S("Template name."), "category": E("Gallery category.", "letters reports proposals meeting_notes resumes"),
        "description": S("What the template is for."), "updated_at": DT("Last change.")})
    comment = Resource("comment", {
        "content": S("Comment text."), "quoted_text": S("The passage of the document the comment is anchored to."),
        "author": S("Author's name."), "resolved": B("Whether the thread is resolved."), "created_at": DT("Posted at.")},
        parent=("document_id", DOC_ID), create=("content",), readonly=("author", "created_at"))
    s.crud(doc, "list search delete")
    s.tool("get_document", "Returns a document's metadata and its full text content. Long documents such as meeting transcripts can be tens of kilobytes; request `format: markdown` to keep headings and lists.",
           {"document_id": DOC_ID, "format": E("How to render the body.", "plain_text markdown", default="plain_text"),
            "include_comments": B("Also return open comments.", default=False)}, ["document_id"], handler=special.get_document)
    s.tool("create_document", "Creates a new document with the given title and body. The body may be plain text or markdown and can be large (up to 1 MB); the response confirms how many bytes were stored.",
           {"title": S("Title of the new document.", maxLength=256), "content": S("Body of the document."),
            "format": E("Format of `content`.", "plain_text markdown html", default="markdown"),
            "folder_id": S("Drive folder to create the document in; defaults to the root.")},
           ["title", "content"], handler=special.store_text("content", "document_id", "doc"))
    s.crud(tmpl, "list get")
    s.crud(comment, "list create update delete")
    s.tool("append_text", "Appends text at the end of the document body. Markdown headings, lists and links are converted to native formatting when `format` is markdown.",
           {"document_id": DOC_ID, "text": S("Text to append."), "format": E("Format of `text`.", "plain_text markdown", default="plain_text")},
           ["document_id", "text"], out={"end_index": I(""), "revision_id": S("")})
    s.tool("replace_text", "Replaces every occurrence of a string in the document. Matching is case-sensitive unless `match_case` is false.",
           {"document_id": DOC_ID, "find": S("Text to look for."), "replace_with": S("Replacement text; empty to delete matches."),
            "match_case": B("Case-sensitive matching.", default=True)}, ["document_id", "find", "replace_with"],
           out={"occurrences_changed": I("")})
    s.tool("insert_table", "Inserts an empty table, or one filled from `rows`, at a character index of the document.",
           {"document_id": DOC_ID, "index": I("Character index to insert at; 1 is the start of the body.", minimum=1),
            "rows": A("Cell values, row by row.", A("One row.")), "header_row": B("Style the first row as a header.", default=True)},
           ["document_id", "index", "rows"], out={"table_id": S(""), "revision_id": S("")})
    s.tool("insert_image", "Inserts an inline image from a URL. The image must be publicly reachable, under 50 MB and in PNG, JPEG or GIF format.",
           {"document_id": DOC_ID, "image_url": URI("Where to fetch the image."), "index": I("Character index.", minimum=1),
            "width_pt": N("Width in points; the height follows the aspect ratio.", minimum=1, maximum=612), "alt_text": S("Alternative text for screen readers.")},
           ["document_id", "image_url"], out={"object_id": S("")})
    s.tool("export_document", "Exports a document as PDF, DOCX, ODT, EPUB, HTML or markdown, returned base64-encoded.",
           {"document_id": DOC_ID, "format": E("Export format.", "pdf docx odt epub html markdown", default="pdf")},
           ["document_id"], out={"mime_type": S(""), "content_base64": S("")})
    s.tool("get_outline", "Returns the heading structure of a document (level, text and start index of each heading), which is far cheaper than fetching the whole body when you only need to navigate it.",
           {"document_id": DOC_ID}, ["document_id"],
           out={"headings": A("", O("", {"level": I("", minimum=1, maximum=6), "text": S(""), "index": I("")}))})
    s.tool("batch_update", "Applies several edits atomically: all of them succeed or none does. Requests run in order and indexes refer to the document as modified by the previous requests.",
           {"document_id": DOC_ID, "requests": A("Edits to apply, in order.", O("One edit.", {
               "type": E("Kind of edit.", "insert_text delete_range update_text_style create_paragraph_bullets"),
               "start_index": I("Start of the range.", minimum=1), "end_index": I("End of the range (exclusive)."),
               "text": S("Text for insert_text."),
               "style": O("Text style for update_text_style.", {"bold": B("Bold."), "italic": B("Italic."), "font_size_pt": I("Font size.")})},
               ("type",)), minItems=1, maxItems=500),
            "required_revision_id": S("Fail if the document changed since this revision.")}, ["document_id", "requests"],
           out={"revision_id": S(""), "replies": A("", O("", {"type": S("")}))})
    s.tool("accept_all_suggestions", "Accepts every pending suggestion in the document; only editors can do this.",
           {"document_id": DOC_ID}, ["document_id"], out={"accepted": I("")})
    s.tool("create_from_template", "Creates a document from a template, filling `{{placeholder}}` fields with the given values.",
           {"template_id": S("ID of the template."), "title": S("Title of the new document."),
            "values": O("Placeholder values keyed by placeholder name.", {}, additionalProperties={"type": "string"})},
           ["template_id", "title"], out=doc)
    s.tool("list_revisions", "Lists the saved revisions of a document with their author and time. Revisions are kept for 100 days.",
           {"document_id": DOC_ID, **PAGE}, ["document_id"],
           out={"revisions": A("", O("", {"revision_id": S(""), "modified_by": S(""), "modified_at": DT("")}))})
    s.tool("restore_revision", "Restores the document to an earlier revision; the current state is kept as a new revision.",
           {"document_id": DOC_ID, "revision_id": S("Revision to restore.")}, ["document_id", "revision_id"], out=doc)
    s.tool("translate_document", "Creates a translated copy of a document in the target language; formatting is kept. Documents over 100,000 words are rejected.",
           {"document_id": DOC_ID, "target_language": S("BCP 47 language tag, e.g. de or pt-BR."), "title": S("Title of the copy.")},
           ["document_id", "target_language"], out={"document_id": S(""), "title": S("")})
    s.tool("set_header_footer", "Sets the header and/or footer text of every page; `{page}` and `{pages}` insert page numbers.",
           {"document_id": DOC_ID, "header": S("Header text."), "footer": S("Footer text.")}, ["document_id"])
    return s


def sheets() -> Service:
    s = Service("sheets", "Sheets", notes=(
                "Each call counts against a quota of 300 requests per minute per project.",
                "A sheet name with spaces must be quoted in A1 ranges, e.g. 'Q3 Plan'!A1:C10."))
    book = Resource("spreadsheet", {
        "title": S("Title of the spreadsheet."), "locale": S("Locale for number and date formats, e.g. en_US.", default="en_US"),
        "time_zone": S("IANA time zone used by date functions."), "sheet_count": I("Number of tabs."),
        "owner": S("Owner's name."), "created_at": DT("Creation time."), "updated_at": DT("Last change.")},
        create=("title",), readonly=("sheet_count", "owner", "created_at", "updated_at"))
    tab = Resource("sheet", {
        "title": S("Tab name, unique within the spreadsheet."), "index": I("Position of the tab, 0-based.", minimum=0),
        "row_count": I("Number of rows in the grid.", minimum=1, default=1000),
        "column_count": I("Number of columns.", minimum=1, default=26), "hidden": B("Whether the tab is hidden."),
        "tab_color": S("Hex color of the tab.")}, parent=("spreadsheet_id", SHEET_ID), create=("title",),
        readonly=(), blurb="A sheet is one tab (grid) of a spreadsheet.")
    s.crud(book, "list get create delete")
    s.crud(tab, "list create update delete")
    values = A("Rows of cell values; each row is an array.", A("Cells of one row.", {"type": ["string", "number", "boolean", "null"]}))
    render = E("How values are rendered.", "formatted unformatted formula", default="formatted")
    s.tool("read_range", "Reads the values of a range. Trailing empty rows and columns are omitted, so the result can be smaller than the range asked for.",
           {"spreadsheet_id": SHEET_ID, "range": A1, "value_render": render,
            "major_dimension": E("Whether `values` is a list of rows or of columns.", "rows columns", default="rows")},
           ["spreadsheet_id", "range"], out={"range": S(""), "values": values})
    s.tool("write_range", "Writes values into a range, overwriting what is there. With `input_mode: user_entered` strings are parsed as if typed into the UI, so `=SUM(A1:A3)` becomes a formula and `3/4` may become a date.",
           {"spreadsheet_id": SHEET_ID, "range": A1, "values": values,
            "input_mode": E("How input is interpreted.", "raw user_entered", default="user_entered")},
           ["spreadsheet_id", "range", "values"], out={"updated_cells": I(""), "updated_range": S("")})
    s.tool("append_rows", "Appends rows after the last row with data in a table-like range. Handy for logging: you do not need to know where the data ends.",
           {"spreadsheet_id": SHEET_ID, "range": S("A1 range whose table to append to, e.g. `Log!A:E`."), "values": values,
            "insert_rows": B("Insert new rows instead of overwriting empty ones below the table.", default=True)},
           ["spreadsheet_id", "range", "values"], out={"updated_range": S(""), "updated_rows": I("")})
    s.tool("clear_range", "Clears values from a range while keeping formatting and data validation.",
           {"spreadsheet_id": SHEET_ID, "range": A1}, ["spreadsheet_id", "range"], out={"cleared_range": S("")})
    s.tool("batch_read", "Reads several ranges in one request, up to 100, which counts as a single call against the read quota of 300 per minute.",
           {"spreadsheet_id": SHEET_ID, "ranges": A("Ranges in A1 notation.", minItems=1, maxItems=100), "value_render": render},
           ["spreadsheet_id", "ranges"], out={"value_ranges": A("", O("", {"range": S(""), "values": values}))})
    s.tool("find_replace", "Finds and replaces text across one sheet or the whole spreadsheet, optionally with a regular expression.",
           {"spreadsheet_id": SHEET_ID, "find": S("Text or pattern to find."), "replacement": S("Replacement text."),
            "sheet_id": S("Limit to one tab; omit for all tabs."), "use_regex": B("Treat `find` as an RE2 regular expression.", default=False),
            "match_entire_cell": B("Only match whole cell contents.", default=False)},
           ["spreadsheet_id", "find", "replacement"], out={"occurrences_changed": I(""), "sheets_changed": I("")})
    s.tool("sort_range", "Sorts the rows of a range by one or more columns.",
           {"spreadsheet_id": SHEET_ID, "range": A1, "sort_specs": A("Sort keys, most significant first.", O("A sort key.", {
               "column": S("Column letter, e.g. C."), "order": E("Direction.", "ascending descending", default="ascending")}, ("column",)))},
           ["spreadsheet_id", "range", "sort_specs"])
    s.tool("create_chart", "Adds a chart built from a data range to a sheet. Charts update automatically when the data changes.",
           {"spreadsheet_id": SHEET_ID, "sheet_id": S("Tab to place the chart on."), "source_range": A1,
            "chart_type": E("Kind of chart.", "line bar column pie scatter area combo"), "title": S("Chart title."),
            "position": O("Anchor cell and size.", {"anchor_cell": S("Top-left cell, e.g. H2."), "width_px": I("Width.", default=600), "height_px": I("Height.", default=371)}),
            "legend": E("Legend position.", "bottom right top none", default="bottom")},
           ["spreadsheet_id", "source_range", "chart_type"], out={"chart_id": I("")})
    s.tool("add_conditional_format", "Adds a conditional formatting rule, e.g. highlight cells above a threshold in red. Rules are evaluated in order; the first match wins.",
           {"spreadsheet_id": SHEET_ID, "range": A1, "condition": E("Condition type.", "number_greater number_less text_contains date_before blank custom_formula"),
            "value": S("Value or formula the condition compares against."), "background_color": S("Hex color applied when the rule matches.")},
           ["spreadsheet_id", "range", "condition"], out={"rule_index": I("")})
    s.tool("protect_range", "Protects a range or a whole sheet so only the listed editors can change it. Others get a warning or are blocked, depending on `warning_only`.",
           {"spreadsheet_id": SHEET_ID, "range": A1, "editors": A("Email addresses allowed to edit.", {"type": "string", "format": "email"}),
            "warning_only": B("Only warn instead of blocking edits.", default=False), "description": S("Why the range is protected.")},
           ["spreadsheet_id", "range"], out={"protected_range_id": I("")})
    s.tool("import_csv", "Imports CSV text into a sheet, replacing its contents or appending below them. At most 5 million cells per spreadsheet.",
           {"spreadsheet_id": SHEET_ID, "sheet_id": S("Target tab."), "csv": S("CSV text, UTF-8."),
            "delimiter": S("Field separator.", default=","), "mode": E("Replace or append.", "replace append", default="replace")},
           ["spreadsheet_id", "csv"], out={"rows_imported": I(""), "columns": I("")})
    s.tool("duplicate_sheet", "Copies a tab within the same spreadsheet or into another one.",
           {"spreadsheet_id": SHEET_ID, "sheet_id": S("Tab to copy."), "destination_spreadsheet_id": S("Target spreadsheet; defaults to the same one."),
            "new_title": S("Name of the copy.")}, ["spreadsheet_id", "sheet_id"], out=tab)
    s.tool("add_named_range", "Gives a range a name that formulas can use, e.g. =SUM(Revenue).",
           {"spreadsheet_id": SHEET_ID, "name": S("Name; letters, digits and underscores.", pattern="^[A-Za-z_][A-Za-z0-9_]*$"), "range": A1},
           ["spreadsheet_id", "name", "range"], out={"named_range_id": S("")})
    s.tool("set_data_validation", "Restricts what can be typed in a range: a dropdown list, a number range, dates, or a custom formula. Invalid input is rejected or only flagged.",
           {"spreadsheet_id": SHEET_ID, "range": A1, "rule": E("Kind of rule.", "list number_between date_after checkbox custom_formula"),
            "values": A("List items or bounds, depending on the rule."), "strict": B("Reject invalid input instead of showing a warning.", default=True)},
           ["spreadsheet_id", "range", "rule"])
    return s
