"""Catalog services: calendar, mail, chat, forms."""

from __future__ import annotations

from .schema import A, B, DATE, DT, E, EMAIL, I, O, Resource, S, Service, URI

CAL_ID = S("Calendar ID; `primary` is the user's main calendar.", default="primary")
EVENT_ID = S("ID of the event.")
MSG_ID = S("ID of the message.")
CHANNEL_ID = S("ID of the channel, e.g. C04QX2M8L.")
FORM_ID = S("ID of the form.")
WHEN = O("Start or end of the event.", {"date_time": DT("Instant, with offset."), "date": DATE("For all-day events."),
                                       "time_zone": S("IANA time zone, e.g. Europe/Paris.")})
EMAILS = A("Email addresses.", {"type": "string", "format": "email"})


def calendar() -> Service:
    s = Service("calendar", "Calendar", notes=(
                "Times without an offset are read in the calendar's time zone.",
                "Events the caller may only see as free/busy come back without title, location or attendees."))
    cal = Resource("calendar", {
        "summary": S("Name of the calendar."), "description": S("What the calendar is for."),
        "time_zone": S("Default IANA time zone."), "color": S("Hex display color."),
        "access_role": E("The caller's access.", "owner writer reader free_busy_reader")},
        create=("summary",), readonly=("access_role",), blurb="Besides the primary calendar a user can own secondary and shared calendars.")
    event = Resource("event", {
        "summary": S("Title of the event."), "description": S("Agenda or notes; basic HTML allowed."),
        "location": S("Free-form location or room name."), "start": WHEN, "end": WHEN,
        "attendees": A("People invited.", O("An attendee.", {"email": EMAIL("Attendee's address."),
                                                           "optional": B("Optional attendee.", default=False),
                                                           "response_status": E("RSVP.", "needs_action accepted declined tentative")}, ("email",))),
        "recurrence": A("RRULE, EXRULE, RDATE or EXDATE lines (RFC 5545), e.g. RRULE:FREQ=WEEKLY;BYDAY=MO."),
        "visibility": E("Who can see the details.", "default public private", default="default"),
        "add_video_conference": B("Attach a video meeting link.", default=False)},
        parent=("calendar_id", CAL_ID), create=("summary", "start", "end"), readonly=(),
        filters={"time_min": DT("Only events ending after this instant."), "time_max": DT("Only events starting before this instant."),
                 "single_events": B("Expand recurring events into instances.", default=True)})
    acl = Resource("acl_rule", {
        "role": E("Access granted.", "free_busy_reader reader writer owner"),
        "scope_type": E("Kind of grantee.", "user group domain default"), "scope_value": S("Email or domain of the grantee.")},
        parent=("calendar_id", CAL_ID), create=("role", "scope_type"), label="sharing rule", readonly=())
    s.crud(cal, "list get create delete")
    s.crud(event, "list get create update delete search")
    s.crud(acl, "list create delete")
    s.tool("query_free_busy", "Returns the busy intervals of people or calendars between two instants, without any event details. Useful before proposing a meeting time; at most 50 calendars per call.",
           {"time_min": DT("Start of the window."), "time_max": DT("End of the window; at most 62 days after time_min."),
            "calendars": A("Email addresses or calendar IDs.", maxItems=50)}, ["time_min", "time_max", "calendars"],
           out={"busy": A("", O("", {"calendar": S(""), "start": DT(""), "end": DT("")}))})
    s.tool("find_meeting_times", "Suggests slots where all required attendees are free, respecting their working hours and time zones. Optional attendees only break ties.",
           {"attendees": EMAILS, "optional_attendees": EMAILS, "duration_minutes": I("Length of the meeting.", minimum=5, maximum=480, default=30),
            "window_start": DT("Earliest acceptable start."), "window_end": DT("Latest acceptable end."),
            "max_suggestions": I("How many slots to propose.", minimum=1, maximum=20, default=5)},
           ["attendees", "window_start", "window_end"], out={"suggestions": A("", O("", {"start": DT(""), "end": DT(""), "confidence": I("")}))})
    s.tool("respond_to_event", "Sets the caller's RSVP to an invitation and optionally sends a note to the organizer.",
           {"calendar_id": CAL_ID, "event_id": EVENT_ID, "response": E("Answer.", "accepted declined tentative"),
            "comment": S("Message to the organizer."), "propose_new_time": O("Counter-proposal.", {"start": DT("New start."), "end": DT("New end.")})},
           ["event_id", "response"], out=event)
    s.tool("move_event", "Moves an event to another calendar the caller can write to. The event keeps its ID; attendees are not notified.",
           {"calendar_id": CAL_ID, "event_id": EVENT_ID, "destination_calendar_id": S("Calendar to move it to.")},
           ["event_id", "destination_calendar_id"], out=event)
    s.tool("quick_add_event", "Creates an event from a short sentence such as 'Lunch with Dana tomorrow 12:30 at Bistro Nord'. Parsing is English-only; check the returned start and end.",
           {"calendar_id": CAL_ID, "text": S("Natural-language description of the event."),
            "send_updates": E("Who gets invitation emails.", "all external_only none", default="none")}, ["text"], out=event)
    s.tool("list_event_instances", "Lists the individual occurrences of a recurring event within a window, including exceptions that were moved or cancelled.",
           {"calendar_id": CAL_ID, "event_id": EVENT_ID, "time_min": DT("Window start."), "time_max": DT("Window end."),
            "page_size": I("Maximum instances.", minimum=1, maximum=250, default=50)}, ["event_id"], out=[event])
    s.tool("set_out_of_office", "Blocks a period as out of office. New invitations during it are declined automatically with the given message.",
           {"start": DT("Start of the absence."), "end": DT("End of the absence."), "decline_message": S("Text sent when declining."),
            "decline_mode": E("Which invitations to decline.", "none new_only all", default="new_only")},
           ["start", "end"], out={"event_id": S(""), "declined_count": I("")})
    s.tool("list_rooms", "Lists bookable meeting rooms and other resources with capacity and equipment. Filter by building or minimum capacity.",
           {"building": S("Building name or code."), "min_capacity": I("At least this many seats.", minimum=1),
            "features": A("Required equipment, e.g. video, whiteboard.")},
           out={"rooms": A("", O("", {"room_email": S(""), "name": S(""), "capacity": I("", minimum=2, maximum=40)}))})
    s.tool("import_ics", "Imports events from iCalendar (.ics) text into a calendar. Events whose UID already exists are updated instead of duplicated.",
           {"calendar_id": CAL_ID, "ics": S("Contents of the .ics file.")}, ["ics"], out={"imported": I(""), "updated": I(""), "skipped": I("")})
    return s


def mail() -> Service:
    s = Service("mail", "Mail", " in the user's mailbox", notes=(
                'Addresses can be plain (ana@example.com) or with a display name ("Ana Ruiz <ana@example.com>").',
                "Mailbox calls are limited to 250 quota units per user per second; sending costs 100 units."))
    msg = Resource("message", {
        "thread_id": S("Conversation the message belongs to."), "subject": S("Subject line."),
        "from": EMAIL("Sender address."), "to": EMAILS, "snippet": S("First ~200 characters of the body."),
        "label_ids": A("Labels on the message, e.g. INBOX, UNREAD, IMPORTANT."),
        "has_attachments": B("Whether it has attachments."), "received_at": DT("When it arrived.")},
        filters={"label": S("Only messages with this label, e.g. INBOX."), "from": S("Sender address or domain."),
                 "received_after": DT("Only messages received after this instant."), "unread_only": B("Only unread messages.", default=False)},
        blurb="Messages are never deleted by listing or reading; bodies are fetched with the get tool.")
    draft = Resource("draft", {
        "to": EMAILS, "cc": EMAILS, "subject": S("Subject line."), "body": S("Body text; HTML allowed when `html` is true."),
        "html": B("Treat the body as HTML.", default=False), "updated_at": DT("Last saved.")}, create=("to",))
    label = Resource("label", {
        "name": S("Label name; use / for nesting, e.g. Clients/Acme."), "color": S("Background hex color."),
        "visibility": E("Whether it shows in the label list.", "show hide show_if_unread", default="show"),
        "message_count": I("Messages carrying the label.")}, create=("name",), readonly=("message_count",))
    thread = Resource("thread", {"subject": S("Subject of the first message."), "message_count": I("Messages in the thread.", minimum=1),
                                 "participants": EMAILS, "last_message_at": DT("Latest message.")})
    rule = Resource("filter", {
        "criteria": O("What to match.", {"from": S("Sender."), "to": S("Recipient."), "subject": S("Words in the subject."),
                                         "has_words": S("Search query the message must match."), "has_attachment": B("Only with attachments.")}),
        "action": O("What to do with matches.", {"add_labels": A("Labels to add."), "archive": B("Skip the inbox."),
                                                   "mark_read": B("Mark as read."), "forward_to": EMAIL("Forward to this address.")})},
        create=("criteria", "action"), label="mail filter", plural="filters")
    s.crud(msg, "list get delete search")
    s.crud(draft, "list get create update delete")
    s.crud(label, "list create update delete")
    s.crud(thread, "list get")
    s.crud(rule, "list create delete")
    body = S("Plain-text or HTML body.")
    attach = A("Files to attach.", O("An attachment.", {"filename": S("File name."), "content_base64": S("Content, base64."),
                                                         "drive_file_id": S("Attach a Drive file by ID instead.")}, ("filename",)), maxItems=20)
    s.tool("send_email", "Sends an email from the user's address. Total message size, attachments included, is limited to 25 MB; larger files should be shared as Drive links. Sending is limited to 2,000 recipients per day. Recipients outside the organization see an external-sender banner, and messages to more than 100 external recipients are held for review by compliance. With `schedule_at` the message waits in the Scheduled folder and can still be edited or cancelled there until it goes out. The answer carries the message and thread IDs, which reply_to_message and modify_labels accept.",
           {"to": EMAILS, "cc": EMAILS, "bcc": EMAILS, "subject": S("Subject line.", maxLength=998), "body": body,
            "html": B("Send the body as HTML.", default=False), "attachments": attach,
            "reply_to": EMAIL("Address replies should go to."), "schedule_at": DT("Send later at this time instead of now.")},
           ["to", "subject", "body"], out={"message_id": S(""), "thread_id": S(""), "sent_at": DT("")})
    s.tool("reply_to_message", "Replies to a message within its thread, quoting it. With `reply_all` every original recipient is included.",
           {"message_id": MSG_ID, "body": body, "reply_all": B("Reply to everyone.", default=False), "attachments": attach},
           ["message_id", "body"], out={"message_id": S(""), "thread_id": S("")})
    s.tool("forward_message", "Forwards a message, with its attachments, to other recipients with an optional note on top.",
           {"message_id": MSG_ID, "to": EMAILS, "note": S("Text placed above the forwarded message.")},
           ["message_id", "to"], out={"message_id": S("")})
    s.tool("send_draft", "Sends an existing draft as it is and removes it from the drafts folder.",
           {"draft_id": S("ID of the draft.")}, ["draft_id"], out={"message_id": S(""), "thread_id": S("")})
    s.tool("modify_labels", "Adds and removes labels on up to 1,000 messages at once. Removing INBOX archives, adding TRASH trashes, removing UNREAD marks as read.",
           {"message_ids": A("Messages to change.", minItems=1, maxItems=1000), "add_labels": A("Label IDs to add."),
            "remove_labels": A("Label IDs to remove.")}, ["message_ids"], out={"modified": I("")})
    s.tool("get_attachment", "Downloads one attachment of a message as base64.",
           {"message_id": MSG_ID, "attachment_id": S("ID of the attachment, from the message's parts.")},
           ["message_id", "attachment_id"], out={"filename": S(""), "mime_type": S(""), "size_bytes": I(""), "content_base64": S("")})
    s.tool("set_vacation_responder", "Turns the automatic vacation reply on or off. Each sender gets the reply at most once every 4 days.",
           {"enabled": B("Turn the responder on."), "subject": S("Subject of the automatic reply."), "message": S("Body of the reply."),
            "start": DT("When to start replying."), "end": DT("When to stop."),
            "contacts_only": B("Reply only to people in the user's contacts.", default=False)}, ["enabled"], out={"enabled": B("")})
    s.tool("update_signature", "Sets the signature appended to new messages and replies.",
           {"signature_html": S("Signature as HTML; an empty string removes it."), "use_in_replies": B("Also add it to replies.", default=True)},
           ["signature_html"])
    return s


def chat() -> Service:
    s = Service("chat", "Chat", " in the workspace", notes=(
                "Channel IDs start with C and user IDs with U; names can change, IDs do not.",
                "Members of connected external workspaces may not see every channel."))
    chan = Resource("channel", {
        "name": S("Channel name without #; lowercase, no spaces, up to 80 characters.", maxLength=80),
        "topic": S("Short line shown at the top of the channel."), "purpose": S("What the channel is for."),
        "is_private": B("Private channels are visible to members only.", default=False),
        "member_count": I("Number of members."), "archived": B("Whether the channel is archived."), "created_at": DT("Created at.")},
        create=("name",), readonly=("member_count", "archived", "created_at"),
        filters={"types": E("Which channels.", "public private all", default="public"), "exclude_archived": B("Skip archived channels.", default=True)})
    message = Resource("message", {
        "text": S("Message text with mrkdwn formatting."), "user": S("Author's display name."),
        "thread_ts": S("Timestamp of the parent message if this is a reply."), "reply_count": I("Replies in the thread."),
        "reactions": A("Reactions.", O("", {"name": S("Emoji name."), "count": I("How many.", minimum=1)})), "posted_at": DT("Posted at.")},
        parent=("channel_id", CHANNEL_ID), filters={"oldest": DT("Only messages after this instant."), "latest": DT("Only before this instant.")})
    user = Resource("user", {
        "display_name": S("Name shown in the app."), "real_name": S("Full name."), "email": EMAIL("Work address."),
        "title": S("Job title."), "timezone": S("IANA time zone."),
        "presence": E("Current presence.", "active away dnd offline"), "is_admin": B("Workspace admin.")})
    s.crud(chan, "list get create update")
    s.crud(message, "list")
    s.crud(user, "list get")
    s.tool("post_message", "Posts a message to a channel or, with `thread_ts`, as a reply in a thread. Messages over 4,000 characters are split. Posting is limited to about one message per second per channel.",
           {"channel_id": CHANNEL_ID, "text": S("Message text; supports *bold*, _italic_, `code` and <@user> mentions."),
            "thread_ts": S("Reply in this thread."), "broadcast": B("Also show a thread reply in the channel.", default=False),
            "blocks": A("Rich layout blocks; `text` is then the notification fallback.", {"type": "object"})},
           ["channel_id", "text"], out={"ts": S(""), "channel_id": S(""), "permalink": URI("")})
    s.tool("send_direct_message", "Sends a private message to one person, opening the conversation if needed.",
           {"user": S("User ID or email address of the recipient."), "text": S("Message text.")}, ["user", "text"], out={"ts": S(""), "channel_id": S("")})
    s.tool("edit_message", "Edits the text of a message the caller posted.", {"channel_id": CHANNEL_ID, "ts": S("Timestamp of the message."), "text": S("New text.")},
           ["channel_id", "ts", "text"])
    s.tool("delete_message", "Deletes a message. Users can delete their own messages; admins can delete any.", {"channel_id": CHANNEL_ID, "ts": S("Timestamp of the message.")},
           ["channel_id", "ts"])
    s.tool("get_thread_replies", "Returns the replies of a thread in chronological order, the parent message first.",
           {"channel_id": CHANNEL_ID, "thread_ts": S("Timestamp of the parent message."), "limit": I("Maximum replies.", minimum=1, maximum=1000, default=100)},
           ["channel_id", "thread_ts"], out=[message])
    s.tool("add_reaction", "Adds an emoji reaction to a message.",
           {"channel_id": CHANNEL_ID, "ts": S("Timestamp of the message."), "name": S("Emoji name without colons, e.g. thumbsup.")}, ["channel_id", "ts", "name"])
    s.tool("search_messages", "Searches messages across the channels the caller belongs to. Supports modifiers such as in:#channel, from:@user, before:2026-01-31 and has:link.",
           {"query": S("Search query with optional modifiers."), "sort": E("Order of results.", "relevance timestamp", default="relevance"),
            "page_size": I("Matches per page.", minimum=1, maximum=100, default=20), "cursor": S("Pagination cursor.")}, ["query"], out=[message])
    s.tool("invite_to_channel", "Adds up to 100 people to a channel. Guests can only be added to channels they are allowed in.",
           {"channel_id": CHANNEL_ID, "users": A("User IDs or emails.", minItems=1, maxItems=100)}, ["channel_id", "users"], out=chan)
    s.tool("remove_from_channel", "Removes a member from a channel.", {"channel_id": CHANNEL_ID, "user": S("User ID.")}, ["channel_id", "user"])
    s.tool("archive_channel", "Archives a channel: it becomes read-only and leaves the sidebar of its members, but its history stays searchable.",
           {"channel_id": CHANNEL_ID}, ["channel_id"])
    s.tool("pin_message", "Pins a message to the channel's details pane.", {"channel_id": CHANNEL_ID, "ts": S("Message timestamp.")}, ["channel_id", "ts"])
    s.tool("set_status", "Sets the caller's status text and emoji, optionally clearing it automatically.",
           {"text": S("Status text, up to 100 characters.", maxLength=100), "emoji": S("Emoji name, e.g. palm_tree."),
            "expires_at": DT("When to clear the status.")}, ["text"])
    s.tool("schedule_message", "Schedules a message to be posted later, up to 120 days ahead.",
           {"channel_id": CHANNEL_ID, "text": S("Message text."), "post_at": DT("When to post.")}, ["channel_id", "text", "post_at"],
           out={"scheduled_message_id": S(""), "post_at": DT("")})
    s.tool("upload_file", "Shares a file in a channel, with an optional comment. Files up to 1 GB.",
           {"channel_id": CHANNEL_ID, "filename": S("Name of the file."), "content_base64": S("File content, base64."),
            "initial_comment": S("Message posted with the file.")}, ["channel_id", "filename", "content_base64"],
           out={"file_id": S(""), "permalink": URI("")})
    s.tool("get_unread_counts", "Returns the number of unread messages and mentions per channel and direct conversation for the caller.",
           {"include_muted": B("Include muted channels.", default=False)}, out={"channels": A("", O("", {"channel_id": S(""), "unread": I("", maximum=99), "mentions": I("", maximum=5)}))})
    s.tool("set_reminder", "Creates a reminder that the bot delivers to the user (or someone else) at a given time, optionally about a message.",
           {"text": S("What to remind about."), "remind_at": DT("When."), "user": S("Who to remind; defaults to the caller.")}, ["text", "remind_at"],
           out={"reminder_id": S("")})
    return s


def forms() -> Service:
    s = Service("forms", "Forms", notes=(
                "Only the form's owner and its collaborators can use these tools.",
                "Deleting a form deletes its responses too."))
    form = Resource("form", {
        "title": S("Title shown at the top of the form."), "description": S("Intro text."),
        "is_quiz": B("Grade answers and show scores.", default=False), "accepting_responses": B("Whether the form is open."),
        "response_count": I("Responses so far."), "responder_url": URI("Link to share with respondents."), "created_at": DT("Created at.")},
        create=("title",), readonly=("response_count", "responder_url", "created_at"))
    question = Resource("question", {
        "title": S("Question text."), "type": E("Kind of question.", "short_text paragraph multiple_choice checkboxes dropdown scale date file_upload"),
        "required": B("Must be answered.", default=False), "options": A("Choices for choice questions."),
        "position": I("0-based position in the form.", minimum=0)}, parent=("form_id", FORM_ID), create=("title", "type"), readonly=())
    resp = Resource("response", {
        "respondent_email": EMAIL("Who answered, if collected."), "submitted_at": DT("Submission time."),
        "answers": A("Answers.", O("", {"question_id": S("Question."), "value": S("Answer text.")})),
        "score": I("Quiz score, if the form is a quiz.")}, parent=("form_id", FORM_ID),
        filters={"submitted_after": DT("Only responses submitted after this instant.")})
    s.crud(form, "list get create update delete")
    s.crud(question, "list create update delete")
    s.crud(resp, "list get delete")
    s.tool("close_form", "Stops accepting responses, showing respondents the given message.",
           {"form_id": FORM_ID, "closed_message": S("Message shown to people who open the form.")}, ["form_id"], out=form)
    s.tool("get_response_summary", "Aggregates the answers per question: counts per option for choice questions, average and distribution for scales, and a sample of free-text answers.",
           {"form_id": FORM_ID, "submitted_after": DT("Only count responses after this instant.")}, ["form_id"],
           out={"response_count": I(""), "questions": A("", O("", {"question_id": S(""), "title": S(""), "answered": I("")}))})
    s.tool("export_responses", "Exports all responses to a new spreadsheet or as CSV text. Large forms export asynchronously; poll the returned job.",
           {"form_id": FORM_ID, "destination": E("Where the export goes.", "spreadsheet csv", default="spreadsheet")},
           ["form_id"], out={"job_id": S(""), "spreadsheet_id": S(""), "rows": I("")})
    s.tool("duplicate_form", "Copies a form with its questions but without responses.", {"form_id": FORM_ID, "title": S("Title of the copy.")}, ["form_id"], out=form)
    s.tool("add_collaborator", "Gives another person edit access to a form so they can change questions and see responses.",
           {"form_id": FORM_ID, "email": EMAIL("Collaborator's address.")}, ["form_id", "email"])
    s.tool("set_response_notifications", "Emails the given people whenever a new response arrives, or once a day as a digest.",
           {"form_id": FORM_ID, "recipients": EMAILS, "mode": E("When to notify.", "each_response daily_digest off", default="each_response")},
           ["form_id", "recipients"])
    return s
