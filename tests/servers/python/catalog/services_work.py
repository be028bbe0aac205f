"""Catalog services: projects, analytics, wiki."""

from __future__ import annotations

from .schema import A, B, DATE, DT, E, EMAIL, I, N, O, Resource, S, Service

PROJECT_ID = S("ID or key of the project, e.g. WEB.")
TASK_ID = S("ID or key of the task, e.g. WEB-1234.")
PAGE_ID = S("ID of the wiki page.")
SPACE_KEY = S("Key of the wiki space, e.g. ENG.")
DATE_RANGE = O("Reporting period.", {"start": DATE("First day, inclusive."), "end": DATE("Last day, inclusive.")}, ("start", "end"))
TASK_STATUS = "backlog todo in_progress in_review blocked done"


def projects() -> Service:
    s = Service("projects", "Projects", " across the projects the caller can see", notes=(
                "Task keys (WEB-123) and task IDs are interchangeable wherever a task is expected.",
                "Guests only see the projects they were invited to."))
    project = Resource("project", {
        "key": S("Short uppercase key used in task IDs.", pattern="^[A-Z][A-Z0-9]{1,9}$"), "name": S("Project name."),
        "description": S("Goal of the project."), "lead": S("Project lead."), "status": E("Health.", "on_track at_risk off_track paused completed"),
        "start_date": DATE("Start."), "target_date": DATE("Target end."), "updated_at": DT("Last change.")},
        create=("key", "name"), filters={"status": E("Only this health status.", "on_track at_risk off_track paused completed"),
                                         "lead": S("Only projects led by this person.")})
    task = Resource("task", {
        "project_id": PROJECT_ID, "title": S("Short title."), "description": S("Details in markdown."),
        "status": E("Workflow status.", TASK_STATUS), "priority": E("Priority.", "lowest low medium high highest", default="medium"),
        "assignee": S("Person responsible."), "due_date": DATE("Due date."), "labels": A("Labels."),
        "estimate_points": N("Story points.", minimum=0), "sprint_id": S("Sprint the task is in."), "updated_at": DT("Last change.")},
        create=("project_id", "title"),
        filters={"project_id": PROJECT_ID, "status": E("Only this status.", TASK_STATUS), "assignee": S("Only tasks of this person; `me` for the caller."),
                 "due_before": DATE("Only tasks due before this date."), "label": S("Only tasks with this label.")},
        blurb="Tasks (issues) carry a workflow status, an assignee and optional story points.")
    milestone = Resource("milestone", {"name": S("Milestone name."), "due_date": DATE("Due date."), "description": S("What it delivers."),
                                       "progress_pct": I("Share of tasks done.", minimum=0, maximum=100)},
                         parent=("project_id", PROJECT_ID), create=("name", "due_date"), readonly=("progress_pct",))
    sprint = Resource("sprint", {"name": S("Sprint name."), "goal": S("Sprint goal."), "start_date": DATE("Start."), "end_date": DATE("End."),
                                 "state": E("State.", "future active closed")}, parent=("project_id", PROJECT_ID),
                      create=("name", "start_date", "end_date"), readonly=("state",))
    s.crud(project, "list get create update delete")
    s.crud(task, "list get create update delete search")
    s.crud(milestone, "list create update")
    s.crud(sprint, "list create")
    s.tool("assign_task", "Assigns a task to someone, or unassigns it when `assignee` is empty. The new assignee is notified.",
           {"task_id": TASK_ID, "assignee": S("Email or username; empty to unassign.")}, ["task_id", "assignee"], out=task)
    s.tool("transition_task", "Moves a task to another workflow status. Some transitions require a resolution or a comment, as configured in the project's workflow.",
           {"task_id": TASK_ID, "status": E("Target status.", TASK_STATUS), "resolution": E("Resolution when moving to done.", "fixed wont_do duplicate cannot_reproduce"),
            "comment": S("Comment added with the transition.")}, ["task_id", "status"], out=task)
    s.tool("add_task_comment", "Adds a comment to a task; @mentions notify the people mentioned.",
           {"task_id": TASK_ID, "body": S("Comment in markdown.")}, ["task_id", "body"], out={"comment_id": S(""), "created_at": DT("")})
    s.tool("list_task_comments", "Lists the comments on a task, oldest first.",
           {"task_id": TASK_ID, "page_size": I("Comments per page.", minimum=1, maximum=100, default=50), "cursor": S("Pagination cursor.")}, ["task_id"],
           out={"comments": A("", O("", {"author": S(""), "body": S(""), "created_at": DT("")}))})
    s.tool("log_time", "Logs time spent on a task, which counts against its remaining estimate.",
           {"task_id": TASK_ID, "minutes": I("Time spent.", minimum=1), "date": DATE("Day the work was done."), "note": S("What was done.")},
           ["task_id", "minutes"], out={"worklog_id": S(""), "remaining_minutes": I("")})
    s.tool("get_status_report", "Builds a status report for a project: progress per milestone, tasks completed and added in the period, overdue and blocked tasks, and the health trend.",
           {"project_id": PROJECT_ID, "period_days": I("Look-back window.", minimum=1, maximum=90, default=7)}, ["project_id"],
           out={"completed": I(""), "added": I(""), "overdue": I("", maximum=40), "blocked": I("", maximum=15), "health": E("", "on_track at_risk off_track")})
    s.tool("start_sprint", "Starts a future sprint; only one sprint per project can be active.", {"project_id": PROJECT_ID, "sprint_id": S("Sprint to start.")},
           ["project_id", "sprint_id"], out=sprint)
    s.tool("complete_sprint", "Closes the active sprint. Unfinished tasks move to the backlog or to the next sprint.",
           {"project_id": PROJECT_ID, "sprint_id": S("Sprint to close."), "move_open_tasks_to": S("Sprint ID, or `backlog`.", default="backlog")},
           ["project_id", "sprint_id"], out={"completed_tasks": I(""), "moved_tasks": I("")})
    s.tool("add_dependency", "Records that one task blocks another. Circular dependencies are rejected.",
           {"blocking_task_id": TASK_ID, "blocked_task_id": TASK_ID}, ["blocking_task_id", "blocked_task_id"])
    s.tool("get_workload", "Shows open tasks and story points per assignee, to spot people who are overloaded.",
           {"project_id": S("Limit to one project."), "team": S("Limit to a team.")},
           out={"people": A("", O("", {"assignee": S(""), "open_tasks": I("", maximum=30), "points": N("", maximum=60)}))})
    return s


def analytics() -> Service:
    s = Service("analytics", "Analytics", notes=(
                "Figures for the current day are preliminary and can still change for up to 48 hours.",
                "Dates are in the property's reporting time zone."))
    report = Resource("report", {
        "name": S("Report name."), "metrics": A("Metrics, e.g. sessions, conversions, revenue."), "dimensions": A("Dimensions, e.g. country, device."),
        "date_range": DATE_RANGE, "owner": S("Who saved it."), "updated_at": DT("Last change.")},
        create=("name", "metrics"), label="saved report", blurb="Saved reports keep a query so it can be rerun or scheduled.")
    s.crud(report, "list get create delete")
    filt = A("Conditions, all must hold.", O("A filter.", {"dimension": S("Dimension name."),
                                                         "operator": E("Match type.", "equals not_equals contains starts_with in regex"),
                                                         "values": A("Values to compare with.")}, ("dimension", "operator", "values")))
    s.tool("run_report", "Runs an ad-hoc report of metrics split by dimensions over a date range. Up to 10 metrics and 7 dimensions; results are sampled above 10 million events unless `unsampled` is set (slower, counts against a daily quota of 50). Metric and dimension names come from analytics_list_metrics; asking for an incompatible pair (for example a user-scoped metric with an event-scoped dimension) fails with INVALID_ARGUMENT and names the pair. Rows with no data are left out rather than returned as zeros, and `sampled` tells whether the figures are estimates.",
           {"metrics": A("Metrics to compute.", minItems=1, maxItems=10), "dimensions": A("Dimensions to split by.", maxItems=7), "date_range": DATE_RANGE,
            "filters": filt, "order_by": S("Metric or dimension to sort by, prefixed with - for descending."),
            "limit": I("Maximum rows.", minimum=1, maximum=100000, default=1000), "unsampled": B("Compute exact results.", default=False)},
           ["metrics", "date_range"], out={"rows": A("", O("", {"dimension_values": A(""), "metric_values": A("", {"type": "number"})})), "row_count": I(""), "sampled": B("")})
    s.tool("get_realtime_users", "Returns how many users are active right now and in the last 30 minutes, with the top pages and countries.",
           {"property_id": S("Analytics property."), "top_n": I("How many top pages to list.", minimum=1, maximum=50, default=10)},
           out={"active_now": I(""), "active_30_min": I(""), "top_pages": A("")})
    s.tool("get_funnel", "Computes a conversion funnel: users reaching each step in order within the conversion window, and the drop-off between steps.",
           {"steps": A("Event names or page paths, in order.", minItems=2, maxItems=10), "date_range": DATE_RANGE,
            "window_days": I("Time allowed to complete the funnel.", minimum=1, maximum=90, default=7), "breakdown": S("Optional dimension to split by.")},
           ["steps", "date_range"], out={"steps": A("", O("", {"name": S(""), "users": I(""), "conversion_rate": N("", maximum=1)}))})
    s.tool("get_retention", "Builds a cohort retention table: of the users who first did the start event in a week, the share who came back in each following week.",
           {"start_event": S("Event that puts a user in a cohort, e.g. signup."), "return_event": S("Event that counts as returning.", default="any"),
            "date_range": DATE_RANGE, "period": E("Cohort size.", "day week month", default="week")}, ["start_event", "date_range"],
           out={"cohorts": A("", O("", {"cohort": S(""), "size": I(""), "retention": A("", {"type": "number"})}))})
    s.tool("get_top_pages", "Lists the most viewed pages with views, unique visitors, average time on page and exit rate.",
           {"date_range": DATE_RANGE, "path_prefix": S("Only pages under this path."), "limit": I("How many pages.", minimum=1, maximum=500, default=25)},
           ["date_range"], out={"pages": A("", O("", {"path": S(""), "views": I(""), "visitors": I("")}))})
    s.tool("track_event", "Sends a custom event to analytics from a server, e.g. a purchase confirmed by the backend. Events show in reports within a few minutes.",
           {"name": S("Event name, snake_case.", pattern="^[a-z][a-z0-9_]{0,39}$"), "user_id": S("Your user ID, if known."),
            "client_id": S("Anonymous client ID from the browser cookie."), "properties": O("Event parameters.", {}, additionalProperties=True),
            "timestamp": DT("When it happened; defaults to now.")}, ["name"], out={"accepted": B("")})
    s.tool("export_events", "Exports raw events of a date range to cloud storage as newline-delimited JSON. Large exports take hours; the answer carries a job to poll.",
           {"date_range": DATE_RANGE, "event_names": A("Only these events; all when omitted."), "destination_uri": S("Bucket URI to write to.")},
           ["date_range", "destination_uri"], out={"job_id": S(""), "status": E("", "queued running")})
    s.tool("get_attribution", "Attributes conversions and revenue to marketing channels and campaigns with the chosen model.",
           {"conversion_event": S("Event counted as a conversion."), "date_range": DATE_RANGE,
            "model": E("Attribution model.", "last_click first_click linear time_decay data_driven", default="data_driven")},
           ["conversion_event", "date_range"], out={"channels": A("", O("", {"channel": S(""), "conversions": N(""), "revenue": N("")}))})
    s.tool("compare_periods", "Compares metrics between two periods and reports absolute and relative change, e.g. this month against the same month last year.",
           {"metrics": A("Metrics to compare.", minItems=1), "current": DATE_RANGE, "previous": DATE_RANGE, "dimension": S("Optional split.")},
           ["metrics", "current", "previous"], out={"changes": A("", O("", {"metric": S(""), "current": N(""), "previous": N(""), "change_pct": N("")}))})
    s.tool("list_metrics", "Lists the metrics and dimensions available in a property, including custom ones, with their descriptions.",
           {"property_id": S("Analytics property."), "kind": E("Which to list.", "metrics dimensions both", default="both")},
           out={"metrics": A(""), "dimensions": A("")})
    s.tool("create_annotation", "Adds an annotation to charts at a date, e.g. a release or an outage, so changes in the data can be explained later.",
           {"date": DATE("Day to annotate."), "text": S("Annotation text.", maxLength=500)}, ["date", "text"], out={"annotation_id": S("")})
    s.tool("schedule_report_email", "Emails a saved report as PDF or CSV on a schedule to a list of recipients.",
           {"report_id": S("Saved report."), "recipients": A("Recipients.", {"type": "string", "format": "email"}),
            "frequency": E("How often.", "daily weekly monthly"), "format": E("Attachment format.", "pdf csv", default="pdf")},
           ["report_id", "recipients", "frequency"], out={"schedule_id": S("")})
    s.tool("detect_anomalies", "Flags unusual spikes or drops in a metric compared with its expected range, learned from the previous 90 days.",
           {"metric": S("Metric to check."), "date_range": DATE_RANGE, "sensitivity": E("How easily a point is flagged.", "low medium high", default="medium")},
           ["metric", "date_range"], out={"anomalies": A("", O("", {"date": DATE(""), "value": N(""), "expected": N("")}))})
    goal = Resource("goal", {"name": S("Goal name."), "event_name": S("Event that completes the goal."), "value": N("Value of one completion.", minimum=0),
                             "counting": E("Count once per session or every time.", "once_per_session every_event", default="once_per_session")},
                    create=("name", "event_name"), label="conversion goal")
    s.crud(goal, "list create")
    s.tool("get_traffic_sources", "Breaks sessions and conversions down by source and medium (organic search, paid, referral, email, direct).",
           {"date_range": DATE_RANGE, "limit": I("Rows.", minimum=1, maximum=200, default=20)}, ["date_range"],
           out={"sources": A("", O("", {"source": S(""), "medium": S(""), "sessions": I(""), "conversions": I("")}))})
    return s


def wiki() -> Service:
    s = Service("wiki", "Wiki", notes=(
                "Page bodies are markdown; macros from the legacy editor come back as HTML comments.",
                "Restricted pages are invisible to callers without view permission, search included."))
    space = Resource("space", {"key": S("Short key, e.g. ENG."), "name": S("Space name."), "description": S("What the space covers."),
                               "type": E("Kind of space.", "team personal knowledge_base", default="team")}, create=("key", "name"), readonly=())
    page = Resource("page", {
        "space_key": SPACE_KEY, "title": S("Page title, unique within the space."), "body": S("Page content in markdown."),
        "parent_page_id": S("Parent page; omit for a top-level page."), "labels": A("Labels."), "version": I("Version number.", minimum=1),
        "author": S("Last editor."), "updated_at": DT("Last edit.")}, create=("space_key", "title", "body"),
        readonly=("version", "author", "updated_at"),
        filters={"space_key": SPACE_KEY, "parent_page_id": S("Only children of this page."), "label": S("Only pages with this label.")},
        blurb="Pages are versioned; every update creates a new version that can be restored.")
    attachment = Resource("attachment", {"filename": S("File name."), "media_type": S("MIME type."), "size_bytes": I("Size."),
                                         "uploaded_at": DT("Upload time.")}, parent=("page_id", PAGE_ID))
    comment = Resource("comment", {"body": S("Comment text."), "author": S("Author."), "inline_text": S("Text the inline comment refers to."),
                                   "created_at": DT("Created at.")}, parent=("page_id", PAGE_ID), create=("body",), readonly=("author", "created_at"))
    s.crud(space, "list get create")
    s.crud(page, "list get create update delete search")
    s.crud(attachment, "list delete")
    s.crud(comment, "list create")
    s.tool("move_page", "Moves a page, with its children, under another parent or into another space. Links to the page keep working.",
           {"page_id": PAGE_ID, "target_parent_page_id": S("New parent page."), "target_space_key": S("New space.")}, ["page_id"], out=page)
    s.tool("get_page_history", "Lists the versions of a page with editor, time and change message.",
           {"page_id": PAGE_ID, "limit": I("Versions to return.", minimum=1, maximum=200, default=25)}, ["page_id"],
           out={"versions": A("", O("", {"version": I("", minimum=1), "author": S(""), "updated_at": DT(""), "message": S("")}))})
    s.tool("restore_page_version", "Restores an earlier version of a page as a new version.",
           {"page_id": PAGE_ID, "version": I("Version to restore.", minimum=1)}, ["page_id", "version"], out=page)
    s.tool("export_page", "Exports a page, and optionally its children, to PDF, Word or HTML.",
           {"page_id": PAGE_ID, "format": E("Format.", "pdf docx html", default="pdf"), "include_children": B("Also export child pages.", default=False)},
           ["page_id"], out={"download_url": S(""), "size_bytes": I("")})
    s.tool("upload_attachment", "Attaches a file to a page. Maximum 100 MB per file.",
           {"page_id": PAGE_ID, "filename": S("File name."), "content_base64": S("File content, base64."), "comment": S("Version comment.")},
           ["page_id", "filename", "content_base64"], out=attachment)
    s.tool("add_labels", "Adds labels to a page; labels are created when they do not exist yet.",
           {"page_id": PAGE_ID, "labels": A("Labels to add.", minItems=1)}, ["page_id", "labels"], out={"labels": A("")})
    s.tool("watch_page", "Subscribes a user to notifications about edits and comments on a page, or unsubscribes them.",
           {"page_id": PAGE_ID, "user_email": EMAIL("User to subscribe; defaults to the caller."), "watch": B("Subscribe (true) or unsubscribe (false).", default=True)},
           ["page_id"])
    return s
