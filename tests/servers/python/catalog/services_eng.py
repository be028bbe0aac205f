"""Catalog services: repo (code hosting), ci, monitoring."""

from __future__ import annotations

from .schema import A, B, DT, E, I, N, O, Resource, S, Service, URI

REPO = S("Repository as owner/name, e.g. acme/billing-api.", pattern="^[\\w.-]+/[\\w.-]+$")
PR_NUMBER = I("Pull request number.", minimum=1)
ISSUE_NUMBER = I("Issue number.", minimum=1)
RUN_ID = S("ID of the pipeline run.")
INCIDENT_ID = S("ID of the incident, e.g. INC-2291.")
SEVERITY = "critical high warning info"


def repo() -> Service:
    s = Service("repo", "Code Hosting", " in the organization", notes=(
                "Authenticated calls are limited to 5,000 requests per hour per user.",
                "Private repositories are only visible to members with at least read access."))
    repository = Resource("repository", {
        "name": S("Repository name."), "description": S("Short description."),
        "visibility": E("Who can see it.", "private internal public", default="private"), "default_branch": S("Default branch.", default="main"),
        "language": S("Main language."), "stars": I("Star count."), "open_issues_count": I("Open issues."),
        "archived": B("Read-only archive."), "created_at": DT("Created at."), "updated_at": DT("Last push.")},
        plural="repositories", create=("name",), readonly=("language", "stars", "open_issues_count", "archived", "created_at", "updated_at"),
        filters={"visibility": E("Only this visibility.", "private internal public"), "language": S("Only repositories in this language.")})
    branch = Resource("branch", {"name": S("Branch name."), "commit_sha": S("Commit the branch points to."),
                                 "protected": B("Protected by branch rules.")}, parent=("repo", REPO), plural="branches",
                      create=("name", "commit_sha"), readonly=("protected",))
    pr = Resource("pull_request", {
        "title": S("Title."), "body": S("Description in markdown."), "head_branch": S("Branch with the changes."),
        "base_branch": S("Branch to merge into."), "state": E("State.", "open closed merged"), "draft": B("Draft pull request.", default=False),
        "author": S("Who opened it."), "mergeable": B("No conflicts with the base."), "updated_at": DT("Last activity.")},
        parent=("repo", REPO), create=("title", "head_branch", "base_branch"), readonly=("author", "mergeable", "updated_at"), label="pull request",
        filters={"state": E("Only this state.", "open closed merged all", default="open"), "author": S("Only by this user."),
                 "base_branch": S("Only targeting this branch.")}, id_kind="integer")
    issue = Resource("issue", {
        "title": S("Title."), "body": S("Description in markdown."), "state": E("State.", "open closed"), "labels": A("Labels."),
        "assignees": A("Usernames assigned."), "milestone": S("Milestone title."), "author": S("Opened by."), "updated_at": DT("Last activity.")},
        parent=("repo", REPO), create=("title",), readonly=("author", "updated_at"), id_kind="integer",
        filters={"state": E("Only this state.", "open closed all", default="open"), "labels": S("Comma-separated labels, all required."),
                 "assignee": S("Only assigned to this user.")})
    commit = Resource("commit", {"sha": S("Full commit SHA."), "message": S("Commit message."), "author": S("Author."),
                                 "committed_at": DT("Commit time."), "additions": I("Lines added."), "deletions": I("Lines removed.")},
                      parent=("repo", REPO), filters={"branch": S("List commits of this branch."), "path": S("Only commits touching this path."),
                                                      "since": DT("Only after this instant.")})
    release = Resource("release", {"tag_name": S("Git tag, e.g. v2.4.0."), "name": S("Release title."), "body": S("Release notes."),
                                   "draft": B("Unpublished draft.", default=False), "prerelease": B("Mark as pre-release.", default=False)},
                       parent=("repo", REPO), create=("tag_name",), readonly=())
    hook = Resource("webhook", {"url": URI("Payload URL."), "events": A("Events that trigger it, e.g. push, pull_request."),
                                "active": B("Deliver payloads.", default=True), "secret": S("HMAC secret for the signature header.")},
                    parent=("repo", REPO), create=("url", "events"), readonly=())
    s.crud(repository, "list get create update delete")
    s.crud(branch, "list get create delete")
    s.crud(pr, "list get create update")
    s.crud(issue, "list get create update search")
    s.crud(commit, "list get")
    s.crud(release, "list create")
    s.crud(hook, "list create delete")
    s.tool("merge_pull_request", "Merges a pull request. Fails if required checks or reviews are missing or if there are conflicts; `expected_head_sha` guards against merging commits pushed after you looked. Squash merges use the pull request title as the commit title unless `commit_title` is given; rebase merges are refused when a commit cannot be replayed cleanly. Merging into a protected branch needs write access and, depending on the branch rules, approving reviews and passing status checks, which repo_get_pull_request reports under `mergeable`.",
           {"repo": REPO, "pull_request_id": PR_NUMBER, "method": E("Merge method.", "merge squash rebase", default="squash"),
            "commit_title": S("Title of the merge commit."), "expected_head_sha": S("Only merge if the head is at this commit."),
            "delete_branch": B("Delete the head branch afterwards.", default=True)}, ["repo", "pull_request_id"],
           out={"merged": B(""), "sha": S("")})
    s.tool("request_reviewers", "Requests reviews on a pull request from users or teams.",
           {"repo": REPO, "pull_request_id": PR_NUMBER, "reviewers": A("Usernames."), "team_reviewers": A("Team slugs.")}, ["repo", "pull_request_id"])
    s.tool("submit_review", "Submits a review on a pull request: approve, request changes or comment, with optional line comments.",
           {"repo": REPO, "pull_request_id": PR_NUMBER, "event": E("Verdict.", "approve request_changes comment"), "body": S("Summary comment."),
            "comments": A("Line comments.", O("", {"path": S("File path."), "line": I("Line in the new file.", minimum=1), "body": S("Comment.")}, ("path", "line", "body")))},
           ["repo", "pull_request_id", "event"], out={"review_id": S(""), "state": S("")})
    s.tool("get_pull_request_diff", "Returns the unified diff of a pull request. Large diffs are truncated at 3,000 lines or 1 MB; use `path` to get one file.",
           {"repo": REPO, "pull_request_id": PR_NUMBER, "path": S("Only this file.")}, ["repo", "pull_request_id"],
           out={"diff": S(""), "files_changed": I(""), "truncated": B("")})
    s.tool("add_issue_comment", "Comments on an issue or pull request (they share the same conversation).",
           {"repo": REPO, "number": ISSUE_NUMBER, "body": S("Comment in markdown.")}, ["repo", "number", "body"], out={"comment_id": S(""), "url": URI("")})
    s.tool("get_file_contents", "Reads a file or lists a directory at a branch, tag or commit. Files over 1 MB are not returned inline; the answer carries a download URL instead.",
           {"repo": REPO, "path": S("Path in the repository."), "ref": S("Branch, tag or SHA; defaults to the default branch.")}, ["repo", "path"],
           out={"path": S(""), "sha": S(""), "size": I(""), "content": S("")})
    s.tool("commit_file", "Creates or updates one file with a commit on a branch. To update, pass the blob `sha` you read, so concurrent edits are detected.",
           {"repo": REPO, "path": S("File path."), "content": S("New file content."), "message": S("Commit message."),
            "branch": S("Branch to commit to."), "sha": S("Blob SHA of the file being replaced.")}, ["repo", "path", "content", "message"],
           out={"commit_sha": S(""), "html_url": URI("")})
    s.tool("compare_commits", "Compares two commits, branches or tags: commits in between and files changed.",
           {"repo": REPO, "base": S("Base ref."), "head": S("Head ref.")}, ["repo", "base", "head"],
           out={"ahead_by": I(""), "behind_by": I(""), "files_changed": I("")})
    s.tool("search_code", "Searches code across the organization's repositories. Only the default branch is indexed and files over 384 KB are skipped. Limited to 10 requests per minute.",
           {"query": S("Search terms; supports language:, path: and repo: qualifiers."), "page_size": I("Results per page.", minimum=1, maximum=100, default=30)},
           ["query"], out={"matches": A("", O("", {"repo": S(""), "path": S(""), "fragment": S("")})), "total_count": I("")})
    s.tool("fork_repository", "Forks a repository into the caller's account or an organization.",
           {"repo": REPO, "organization": S("Fork into this organization."), "default_branch_only": B("Copy only the default branch.", default=True)},
           ["repo"], out=repository)
    return s


def ci() -> Service:
    s = Service("ci", "CI/CD", notes=(
                "Runs are kept for 400 days, their logs and artifacts for 90.",
                "Only people with write access to the repository can start, cancel or approve runs."))
    pipe = Resource("pipeline", {"name": S("Pipeline name."), "repo": REPO, "config_path": S("Path of the YAML definition."),
                                 "triggers": A("What starts it: push, pull_request, schedule, manual."), "last_status": E("Outcome of the last run.", "success failed canceled running")})
    run = Resource("run", {"pipeline_id": S("Pipeline."), "branch": S("Branch built."), "commit_sha": S("Commit built."),
                           "status": E("State.", "queued running success failed canceled"), "trigger": E("What started it.", "push pull_request schedule manual api"),
                           "duration_seconds": I("Run time."), "started_at": DT("Start.")}, label="pipeline run",
                   filters={"pipeline_id": S("Only runs of this pipeline."), "branch": S("Only this branch."),
                            "status": E("Only this state.", "queued running success failed canceled")})
    secret = Resource("secret", {"name": S("Variable name, e.g. DEPLOY_TOKEN."), "value": S("Secret value; write-only, never returned."),
                                 "updated_at": DT("Last rotated.")}, parent=("pipeline_id", S("Pipeline the secret belongs to.")), create=("name", "value"))
    runner = Resource("runner", {"name": S("Runner name."), "os": E("Operating system.", "linux windows macos"), "labels": A("Labels jobs can target."),
                                 "status": E("State.", "online offline busy"), "version": S("Agent version.")},
                      blurb="Self-hosted runners execute jobs on your own machines.")
    env = Resource("environment", {"name": S("e.g. staging or production."), "url": URI("Deployed URL."),
                                   "required_approvers": A("Who must approve deployments."), "wait_minutes": I("Delay before deploying.", minimum=0)},
                   create=("name",), readonly=())
    s.crud(pipe, "list get")
    s.crud(run, "list get")
    s.crud(secret, "list create delete")
    s.crud(runner, "list get delete")
    s.crud(env, "list create")
    s.tool("trigger_run", "Starts a pipeline on a branch or commit with optional variables. Returns immediately; poll ci_get_run for the outcome.",
           {"pipeline_id": S("Pipeline to run."), "branch": S("Branch to build.", default="main"), "commit_sha": S("Exact commit; overrides the branch head."),
            "variables": O("Extra environment variables.", {}, additionalProperties={"type": "string"})}, ["pipeline_id"], out=run)
    s.tool("cancel_run", "Cancels a queued or running pipeline run. Jobs already finished keep their results.", {"run_id": RUN_ID}, ["run_id"], out=run)
    s.tool("retry_failed_jobs", "Re-runs only the failed jobs of a finished run, reusing the artifacts of the jobs that passed.",
           {"run_id": RUN_ID, "debug": B("Enable step debug logging.", default=False)}, ["run_id"], out=run)
    s.tool("get_job_logs", "Returns the log of one job of a run, optionally just the last lines. Logs are kept for 90 days.",
           {"run_id": RUN_ID, "job_name": S("Job name as in the pipeline file."), "tail_lines": I("Only the last N lines.", minimum=1, maximum=10000)},
           ["run_id", "job_name"], out={"log": S(""), "truncated": B("")})
    s.tool("list_artifacts", "Lists the artifacts (build outputs, test reports) a run uploaded, with size and expiry.", {"run_id": RUN_ID}, ["run_id"],
           out={"artifacts": A("", O("", {"name": S(""), "size_bytes": I(""), "expires_at": DT("")}))})
    s.tool("download_artifact", "Returns a short-lived download URL for an artifact; it expires after 5 minutes.",
           {"run_id": RUN_ID, "name": S("Artifact name.")}, ["run_id", "name"], out={"url": URI(""), "expires_at": DT("")})
    s.tool("approve_deployment", "Approves or rejects a deployment waiting on a protected environment. Only listed approvers can do this.",
           {"run_id": RUN_ID, "environment": S("Environment name."), "decision": E("Decision.", "approve reject"), "comment": S("Why.")},
           ["run_id", "environment", "decision"])
    s.tool("get_build_stats", "Reports success rate, median duration and the flakiest jobs of a pipeline over a period.",
           {"pipeline_id": S("Pipeline."), "days": I("Look-back window.", minimum=1, maximum=90, default=14)}, ["pipeline_id"],
           out={"runs": I(""), "success_rate": N("", maximum=1), "median_duration_seconds": I(""), "flaky_jobs": A("")})
    s.tool("validate_config", "Lints a pipeline YAML file and reports errors with line numbers, without running anything.",
           {"yaml": S("Pipeline definition.")}, ["yaml"], out={"valid": B(""), "errors": A("")})
    return s


def monitoring() -> Service:
    s = Service("monitoring", "Monitoring", notes=(
                "Metric queries use the dashboard syntax, e.g. sum:http.requests{service:api} by {status}.",
                "Data older than 15 months is rolled up to hourly points."))
    rule = Resource("alert_rule", {
        "name": S("Rule name."), "query": S("Metric query, e.g. avg:http.latency.p95{service:checkout}."),
        "condition": O("When to fire.", {"operator": E("Comparison.", "above below equal"), "threshold": N("Threshold value."),
                                         "for_minutes": I("How long the condition must hold.", minimum=1, default=5)}, ("operator", "threshold")),
        "severity": E("Severity.", SEVERITY), "notify": A("Channels to notify, e.g. #oncall or pagerduty:payments."),
        "enabled": B("Evaluated or not.", default=True)}, create=("name", "query", "condition"), readonly=(), label="alert rule")
    incident = Resource("incident", {
        "title": S("What is wrong."), "severity": E("Severity.", "sev1 sev2 sev3 sev4"), "status": E("State.", "triggered acknowledged resolved"),
        "service": S("Affected service."), "commander": S("Incident commander."), "started_at": DT("Start."), "resolved_at": DT("End.")},
        create=("title", "severity"), readonly=("status", "resolved_at"),
        filters={"status": E("Only this state.", "triggered acknowledged resolved"), "service": S("Only this service."), "since": DT("Started after.")})
    dash = Resource("dashboard", {"title": S("Title."), "description": S("What it shows."),
                                  "widgets": A("Graphs.", O("", {"title": S("Title."), "query": S("Metric query."), "type": E("Visualization.", "timeseries number heatmap toplist")})),
                                  "updated_at": DT("Last change.")}, create=("title",))
    check = Resource("uptime_check", {"url": URI("URL to probe."), "interval_seconds": I("Probe interval.", minimum=30, default=60),
                                      "regions": A("Probe locations."), "expected_status": I("Expected HTTP status.", default=200)},
                     create=("url",), readonly=(), label="uptime check")
    silence = Resource("silence", {"matchers": O("Label matchers.", {}, additionalProperties={"type": "string"}),
                                   "starts_at": DT("Start."), "ends_at": DT("End."), "comment": S("Why alerts are silenced."), "created_by": S("Author.")},
                       create=("matchers", "ends_at"), readonly=("created_by",), blurb="Silences mute matching alerts, e.g. during maintenance.")
    s.crud(rule, "list get create update delete")
    s.crud(incident, "list get create update")
    s.crud(dash, "list get create delete")
    s.crud(check, "list create delete")
    s.crud(silence, "list create delete")
    s.tool("query_metrics", "Runs a metric query over a time range and returns the time series. The step is chosen automatically unless given; at most 1,500 points per series.",
           {"query": S("Metric query."), "from": DT("Range start."), "to": DT("Range end."), "step_seconds": I("Resolution.", minimum=10)},
           ["query", "from", "to"], out={"series": A("", O("", {"metric": S(""), "points": A("", {"type": "number"})}))})
    s.tool("search_logs", "Searches logs with a query language (service:checkout status:error \"timeout\"). Returns the newest matches first; searches span at most 15 days.",
           {"query": S("Log query."), "from": DT("Range start."), "to": DT("Range end."), "limit": I("Maximum lines.", minimum=1, maximum=1000, default=100)},
           ["query"], out={"lines": A("", O("", {"timestamp": DT(""), "service": S(""), "level": S(""), "message": S("")}))})
    s.tool("acknowledge_incident", "Acknowledges an incident, which stops escalation to the next on-call level.",
           {"incident_id": INCIDENT_ID, "note": S("Optional note.")}, ["incident_id"], out=incident)
    s.tool("resolve_incident", "Resolves an incident with a resolution summary; a postmortem draft is created for sev1 and sev2.",
           {"incident_id": INCIDENT_ID, "resolution": S("What fixed it.")}, ["incident_id", "resolution"], out=incident)
    s.tool("add_incident_note", "Adds an entry to an incident's timeline, e.g. what was tried.",
           {"incident_id": INCIDENT_ID, "text": S("Timeline entry.")}, ["incident_id", "text"], out={"entry_id": S("")})
    s.tool("get_oncall", "Tells who is on call now (or at a given time) for a schedule or service, with the escalation chain.",
           {"schedule": S("Schedule or service name."), "at": DT("Point in time; defaults to now.")}, ["schedule"],
           out={"primary": S(""), "secondary": S(""), "until": DT("")})
    s.tool("get_service_health", "Summarizes a service's health: error rate, p95 latency, request rate and open alerts over the last hour.",
           {"service": S("Service name.")}, ["service"],
           out={"error_rate": N("", maximum=0.2), "p95_latency_ms": N("", maximum=2000), "requests_per_second": N(""), "open_alerts": I("", maximum=5)})
    return s
