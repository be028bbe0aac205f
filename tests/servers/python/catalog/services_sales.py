"""Catalog services: crm, marketing, billing."""

from __future__ import annotations

from . import special
from .schema import ADDRESS, MONEY, A, B, DATE, DT, E, EMAIL, I, N, O, Resource, S, Service, URI

CONTACT_ID = S("ID of the contact.")
DEAL_ID = S("ID of the deal, e.g. deal_00042.")
CUSTOMER_ID = S("Billing customer ID, e.g. cus_9s8d7f6g.")
INVOICE_ID = S("ID of the invoice.")
CAMPAIGN_ID = S("ID of the campaign.")
STAGES = "prospecting qualified proposal negotiation closed_won closed_lost"
REGIONS = "north-america latin-america emea apac"


def crm() -> Service:
    s = Service("crm", "CRM", " in the CRM", notes=(
                "Custom properties defined by your admins come back under `custom_fields`.",
                "The ID of a record that was merged away keeps working and resolves to the surviving record."))
    contact = Resource("contact", {
        "first_name": S("Given name."), "last_name": S("Family name."), "email": EMAIL("Primary email address."),
        "phone": S("Phone number in E.164 format."), "company": S("Company the contact works for."), "job_title": S("Job title."),
        "owner": S("Sales rep who owns the contact."),
        "lifecycle_stage": E("Funnel stage.", "subscriber lead marketing_qualified sales_qualified opportunity customer churned"),
        "tags": A("Free-form tags."), "address": ADDRESS(), "created_at": DT("Created at."), "updated_at": DT("Last change.")},
        create=("email",), filters={"lifecycle_stage": E("Only contacts in this stage.", "subscriber lead marketing_qualified sales_qualified opportunity customer churned"),
                                    "owner": S("Only contacts owned by this rep."), "company": S("Only contacts at this company."),
                                    "updated_after": DT("Only contacts changed after this instant.")},
        blurb="A contact is a person; it can be linked to one company and many deals.")
    company = Resource("company", {
        "name": S("Legal or trading name."), "domain": S("Website domain, used for de-duplication."),
        "industry": E("Industry.", "software finance healthcare retail manufacturing education government media other"),
        "employee_count": I("Number of employees.", minimum=1), "annual_revenue": N("Annual revenue in USD.", minimum=0),
        "owner": S("Account owner."), "country": S("ISO country code of the headquarters."), "created_at": DT("Created at.")},
        plural="companies", create=("name",), filters={"industry": E("Only this industry.", "software finance healthcare retail manufacturing education government media other"),
                                                      "owner": S("Only accounts owned by this rep.")})
    deal = Resource("deal", {
        "name": S("Deal name."), "company_id": S("Company the deal is with."), "contact_ids": A("Contacts involved."),
        "owner": S("Sales rep."), "stage": E("Pipeline stage.", STAGES), "amount": N("Expected value.", minimum=0),
        "currency": S("ISO 4217 code.", default="USD"), "close_date": DATE("Expected close date."),
        "probability": I("Win probability in percent.", minimum=0, maximum=100), "updated_at": DT("Last change.")},
        create=("name", "stage"))
    activity = Resource("activity", {
        "type": E("Kind of activity.", "call email meeting task"), "subject": S("Short summary."),
        "due_at": DT("When it is due or happened."), "completed": B("Done or not.", default=False),
        "contact_id": S("Related contact."), "deal_id": S("Related deal."), "owner": S("Who does it.")},
        plural="activities", create=("type", "subject"), readonly=(),
        filters={"type": E("Only this kind.", "call email meeting task"), "completed": B("Filter on completion."), "deal_id": S("Only for this deal.")})
    note = Resource("note", {"body": S("Note text."), "author": S("Who wrote it."), "created_at": DT("Created at.")},
                    filters={"record_type": E("Type of the record.", "contact company deal"), "record_id": S("Record the notes are attached to.")})
    pipeline = Resource("pipeline", {"name": S("Pipeline name."), "stages": A("Stage names in order."),
                                     "is_default": B("Default pipeline for new deals.")})
    s.crud(contact, "list get create update delete search")
    s.crud(company, "list get create update delete search")
    s.tool("list_deals", "Lists deals with their owner, stage, amount and region. Unlike most list tools this one is offset-based and returns up to 10,000 rows in a single call, which suits exports and reporting; use filters to keep the result small when you only need a few deals. Each row carries id, name, owner, stage, amount, currency, region and updated_at; amounts are in the deal's own currency, so convert before adding up deals across currencies. `total` counts every matching deal, and `next_offset` is present while more remain. A full 10,000-row answer is about 2 MB of JSON and can take a few seconds. Requires the `crm.read` scope.",
           {"stage": E("Only deals in this stage.", STAGES), "owner": S("Only deals whose owner's name contains this text."),
            "region": E("Only deals in this sales region.", REGIONS), "min_amount": N("Only deals worth at least this much.", minimum=0),
            "updated_after": DT("Only deals changed after this instant."),
            "order_by": E("Sort order.", "id amount_desc amount_asc updated_at_desc updated_at_asc", default="id"),
            "limit": I("Maximum number of deals to return.", minimum=1, maximum=10000, default=100),
            "offset": I("Number of matching deals to skip.", minimum=0, default=0)}, handler=special.list_deals)
    s.crud(deal, "get create update delete")
    s.crud(activity, "list create update delete")
    s.crud(note, "list delete")
    s.crud(pipeline, "list get")
    s.tool("add_note", "Attaches a note to a contact, company or deal. Notes can be long (call transcripts, meeting minutes, up to 1 MB of text); the answer confirms how many bytes were stored.",
           {"record_type": E("Type of the record.", "contact company deal"), "record_id": S("ID of the record."),
            "body": S("Text of the note; markdown is rendered."), "pinned": B("Pin the note to the top of the record.", default=False)},
           ["record_type", "record_id", "body"], handler=special.store_text("body", "note_id", "note"))
    s.tool("move_deal_stage", "Moves a deal to another pipeline stage. Moving to closed_won or closed_lost sets the close date to today; closed_lost requires a reason.",
           {"deal_id": DEAL_ID, "stage": E("New stage.", STAGES), "lost_reason": S("Why the deal was lost.")}, ["deal_id", "stage"], out=deal)
    s.tool("merge_contacts", "Merges duplicate contacts into a primary one. Activities, notes and deals move to the primary; the others are deleted. Cannot be undone.",
           {"primary_contact_id": CONTACT_ID, "duplicate_contact_ids": A("Contacts to merge into the primary.", minItems=1, maxItems=10)},
           ["primary_contact_id", "duplicate_contact_ids"], out=contact)
    s.tool("associate_records", "Links two records, e.g. a contact to a deal or a company to a deal. Existing links are left as they are.",
           {"from_type": E("Type of the first record.", "contact company deal"), "from_id": S("ID of the first record."),
            "to_type": E("Type of the second record.", "contact company deal"), "to_id": S("ID of the second record.")},
           ["from_type", "from_id", "to_type", "to_id"])
    s.tool("import_contacts", "Creates or updates contacts in bulk from a list, matching existing ones by email. Up to 10,000 per call; the import runs asynchronously and the answer carries a job ID.",
           {"contacts": A("Contacts to import.", O("A contact.", {"email": EMAIL("Email, used to match."), "first_name": S("Given name."),
                                                                  "last_name": S("Family name."), "company": S("Company name.")}, ("email",)), maxItems=10000),
            "update_existing": B("Update contacts that already exist.", default=True)}, ["contacts"],
           out={"job_id": S(""), "accepted": I("")})
    s.tool("get_forecast", "Forecasts revenue for a period from open deals, weighted by stage probability, broken down by owner or region.",
           {"period_start": DATE("First day of the period."), "period_end": DATE("Last day."),
            "group_by": E("Breakdown.", "owner region stage", default="owner")}, ["period_start", "period_end"],
           out={"weighted_total": N(""), "best_case": N(""), "commit": N(""), "currency": S("")})
    s.tool("log_call", "Records a phone call with a contact, with its outcome and duration, as a completed activity.",
           {"contact_id": CONTACT_ID, "outcome": E("How it went.", "connected voicemail no_answer wrong_number"),
            "duration_seconds": I("Length of the call.", minimum=0), "summary": S("What was discussed.")}, ["contact_id", "outcome"], out=activity)
    s.tool("assign_owner", "Reassigns contacts, companies or deals to another sales rep, optionally notifying them by email.",
           {"record_type": E("Type of the records.", "contact company deal"), "record_ids": A("Records to reassign.", maxItems=500),
            "owner_email": EMAIL("New owner."), "notify": B("Email the new owner.", default=True)}, ["record_type", "record_ids", "owner_email"],
           out={"updated": I("")})
    s.tool("get_contact_timeline", "Returns the chronological history of a contact: emails, calls, meetings, form submissions, deal changes and page views.",
           {"contact_id": CONTACT_ID, "since": DT("Only events after this instant."), "page_size": I("Events per page.", minimum=1, maximum=200, default=50)},
           ["contact_id"], out={"events": A("", O("", {"type": S(""), "subject": S(""), "occurred_at": DT("")}))})
    s.tool("enrich_company", "Fills in missing company fields (industry, size, location, social profiles) from public sources using its domain. Costs one enrichment credit per call.",
           {"company_id": S("ID of the company.")}, ["company_id"], out=company)
    return s


def marketing() -> Service:
    s = Service("marketing", "Marketing", notes=(
                "Unsubscribed and bounced contacts are skipped silently when sending.",
                "Reporting figures refresh every 15 minutes."))
    campaign = Resource("campaign", {
        "name": S("Internal name."), "channel": E("Channel.", "email social search display event webinar"),
        "status": E("State.", "draft scheduled running paused completed"), "budget": MONEY("Planned spend."),
        "start_date": DATE("First day."), "end_date": DATE("Last day."), "audience_id": S("Target audience."), "owner": S("Marketer in charge.")},
        create=("name", "channel"), readonly=("status",), filters={"status": E("Only this state.", "draft scheduled running paused completed"),
                                                                  "channel": E("Only this channel.", "email social search display event webinar")})
    audience = Resource("audience", {
        "name": S("Audience name."), "description": S("Who is in it."),
        "rules": A("Conditions a contact must meet (all of them).", O("A condition.", {
            "field": S("Contact property, e.g. country or lifecycle_stage."), "operator": E("Comparison.", "equals not_equals contains greater_than less_than in"),
            "value": S("Value to compare with.")}, ("field", "operator"))), "size": I("Contacts currently matching.")},
        create=("name",), readonly=("size",), blurb="Audiences are dynamic segments re-evaluated every hour.")
    template = Resource("email_template", {
        "name": S("Template name."), "subject": S("Default subject line."), "html": S("HTML body with {{merge_tags}}."),
        "category": E("Use.", "newsletter promotion transactional announcement"), "updated_at": DT("Last change.")},
        create=("name", "html"), label="email template")
    s.crud(campaign, "list get create update delete")
    s.crud(audience, "list get create delete")
    s.crud(template, "list get create update")
    s.tool("send_test_email", "Sends a test of an email campaign to up to 10 addresses. Merge tags are filled from a sample contact.",
           {"campaign_id": CAMPAIGN_ID, "recipients": A("Addresses to send the test to.", {"type": "string", "format": "email"}, maxItems=10)},
           ["campaign_id", "recipients"])
    s.tool("schedule_campaign", "Schedules a draft campaign to start at a given time. Email campaigns go out in batches over up to an hour for large audiences.",
           {"campaign_id": CAMPAIGN_ID, "send_at": DT("When to start."), "timezone_optimized": B("Deliver at send_at in each recipient's local time.", default=False)},
           ["campaign_id", "send_at"], out=campaign)
    s.tool("pause_campaign", "Pauses a running campaign; unsent emails stay queued until it is resumed.", {"campaign_id": CAMPAIGN_ID}, ["campaign_id"], out=campaign)
    s.tool("get_campaign_report", "Returns campaign performance: sends, deliveries, opens, clicks, bounces, unsubscribes and attributed revenue. Open rates are estimates since privacy features pre-fetch images.",
           {"campaign_id": CAMPAIGN_ID, "breakdown": E("Extra breakdown.", "none day link device", default="none")}, ["campaign_id"],
           out={"sent": I("", minimum=100, maximum=600), "opens": I(""), "clicks": I(""), "bounces": I(""), "unsubscribes": I(""), "revenue": N("")})
    s.tool("add_to_audience", "Adds contacts to a static audience by email. Unknown addresses are created as subscribers.",
           {"audience_id": S("Audience."), "emails": A("Addresses to add.", {"type": "string", "format": "email"}, maxItems=5000)},
           ["audience_id", "emails"], out={"added": I(""), "created": I("")})
    s.tool("unsubscribe", "Unsubscribes an address from all marketing email, or from one subscription type. Transactional email is not affected.",
           {"email": EMAIL("Address to unsubscribe."), "subscription_type": S("Only this subscription, e.g. newsletter; omit for all."),
            "reason": S("Reason, for reporting.")}, ["email"], out={"email": S(""), "unsubscribed_at": DT("")})
    s.tool("create_utm_link", "Builds a tracked link with UTM parameters and an optional short URL.",
           {"url": URI("Destination URL."), "source": S("utm_source, e.g. newsletter."), "medium": S("utm_medium, e.g. email."),
            "campaign": S("utm_campaign."), "shorten": B("Also create a short link.", default=True)}, ["url", "source", "medium", "campaign"],
           out={"tracked_url": URI(""), "short_url": URI("")})
    s.tool("schedule_social_post", "Schedules a post to one or more connected social accounts, with optional images. Each network's length limit applies.",
           {"account_ids": A("Connected social accounts."), "text": S("Post text."), "image_urls": A("Images to attach.", maxItems=4),
            "publish_at": DT("When to publish.")}, ["account_ids", "text", "publish_at"], out={"post_id": S(""), "status": S("")})
    landing = Resource("landing_page", {"title": S("Page title."), "slug": S("URL path, e.g. spring-sale."), "form_id": S("Embedded signup form."),
                                        "published": B("Live or not.", default=False), "visits": I("Visits so far.")},
                       create=("title", "slug"), readonly=("visits",), label="landing page")
    s.crud(landing, "list create")
    return s


def billing() -> Service:
    s = Service("billing", "Billing", notes=(
                "Amounts are decimals in the currency's major unit (12.50 means twelve fifty), never cents.",
                "Objects created in test mode have IDs containing `_test_` and never move real money."))
    customer = Resource("customer", {
        "name": S("Customer or company name."), "email": EMAIL("Billing email; invoices are sent here."), "address": ADDRESS("Billing address."),
        "currency": S("Default currency.", default="USD"), "tax_id": S("VAT or tax number."),
        "balance": N("Credit (negative) or amount owed (positive)."), "delinquent": B("Has an unpaid invoice past its due date."),
        "created_at": DT("Created at.")}, create=("email",), readonly=("balance", "delinquent", "created_at"),
        filters={"email": S("Exact email."), "delinquent": B("Only customers with overdue invoices.")})
    line = O("A line item.", {"description": S("What is billed."), "quantity": I("Quantity.", minimum=1, default=1),
                               "unit_amount": N("Price per unit.", minimum=0), "tax_rate_id": S("Tax rate to apply.")}, ("description", "unit_amount"))
    invoice = Resource("invoice", {
        "customer_id": CUSTOMER_ID, "number": S("Human-readable invoice number."),
        "status": E("State.", "draft open paid past_due void uncollectible"), "currency": S("Currency."),
        "total": N("Total including tax."), "amount_due": N("Still to be paid."), "due_date": DATE("Payment due date."),
        "line_items": A("Lines.", line), "created_at": DT("Created at.")}, create=("customer_id", "line_items"),
        readonly=("number", "status", "total", "amount_due", "created_at"),
        filters={"status": E("Only this state; past_due means open and after its due date.", "draft open paid past_due void uncollectible"),
                 "customer_id": S("Only this customer's invoices."), "due_before": DATE("Only due before this date.")},
        blurb="Invoices start as drafts, become open when finalized and end paid, void or uncollectible.")
    sub = Resource("subscription", {
        "customer_id": CUSTOMER_ID, "plan_id": S("Plan subscribed to."), "quantity": I("Seats or units.", minimum=1, default=1),
        "status": E("State.", "trialing active past_due canceled unpaid"), "current_period_end": DT("End of the paid period."),
        "cancel_at_period_end": B("Ends when the current period ends."), "trial_days": I("Free trial length.", minimum=0)},
        create=("customer_id", "plan_id"), readonly=("status", "current_period_end"),
        filters={"customer_id": S("Only this customer's subscriptions."), "status": E("Only this state.", "trialing active past_due canceled unpaid"),
                 "plan_id": S("Only this plan.")})
    payment = Resource("payment", {
        "customer_id": CUSTOMER_ID, "invoice_id": S("Invoice it paid."), "amount": N("Amount."), "currency": S("Currency."),
        "status": E("State.", "succeeded pending failed refunded partially_refunded"), "method": E("Payment method.", "card sepa_debit ach wire"),
        "failure_reason": S("Why it failed."), "created_at": DT("Attempted at.")},
        filters={"status": E("Only this state.", "succeeded pending failed refunded partially_refunded"), "customer_id": S("Only this customer.")})
    plan = Resource("plan", {"name": S("Plan name."), "amount": N("Price per interval.", minimum=0), "currency": S("Currency."),
                             "interval": E("Billing interval.", "month year"), "active": B("Available for new subscriptions.", default=True)},
                    create=("name", "amount", "interval"))
    coupon = Resource("coupon", {"code": S("Code customers enter."), "percent_off": N("Percentage discount.", minimum=0, maximum=100),
                                 "duration": E("How long it applies.", "once repeating forever"), "max_redemptions": I("Usage limit.", minimum=1),
                                 "expires_at": DT("Last day it can be redeemed.")}, create=("code", "duration"))
    s.crud(customer, "list get create update delete search")
    s.crud(invoice, "list get create update delete")
    s.crud(sub, "list get create update")
    s.crud(payment, "list get")
    s.crud(plan, "list get create")
    s.crud(coupon, "list create delete")
    s.tool("finalize_invoice", "Finalizes a draft invoice so it can be paid: numbers it, locks its lines and, with auto-advance, charges the default payment method.",
           {"invoice_id": INVOICE_ID, "auto_advance": B("Attempt collection automatically.", default=True)}, ["invoice_id"], out=invoice)
    s.tool("send_invoice", "Emails an open invoice to the customer's billing address with a link to pay online.",
           {"invoice_id": INVOICE_ID, "cc": A("Extra recipients.", {"type": "string", "format": "email"})}, ["invoice_id"], out={"sent_to": A("")})
    s.tool("void_invoice", "Voids an open invoice. Use it for invoices issued by mistake; a voided invoice keeps its number but is no longer owed.",
           {"invoice_id": INVOICE_ID}, ["invoice_id"], out=invoice)
    s.tool("mark_invoice_paid", "Marks an invoice paid outside the platform, e.g. by bank transfer or check.",
           {"invoice_id": INVOICE_ID, "paid_at": DATE("Date the money arrived."), "reference": S("Bank or check reference.")}, ["invoice_id"], out=invoice)
    s.tool("send_payment_reminder", "Sends a dunning reminder for an overdue invoice, with a payment link. At most one reminder per invoice per 3 days.",
           {"invoice_id": INVOICE_ID, "message": S("Extra text above the standard reminder."), "tone": E("Wording.", "friendly firm final", default="friendly")},
           ["invoice_id"], out={"reminder_id": S(""), "sent_at": DT("")})
    s.tool("refund_payment", "Refunds a payment in full or in part. Refunds take 5-10 business days to reach the customer and cannot be cancelled once created.",
           {"payment_id": S("Payment to refund."), "amount": N("Amount to refund; omit for the full remaining amount.", minimum=0),
            "reason": E("Reason.", "requested_by_customer duplicate fraudulent other"), "note": S("Internal note.")}, ["payment_id"],
           out={"refund_id": S(""), "amount": N(""), "status": E("", "pending succeeded")})
    s.tool("cancel_subscription", "Cancels a subscription now or at the end of the current period, optionally with a prorated credit for unused time.",
           {"subscription_id": S("Subscription to cancel."), "at_period_end": B("Cancel when the paid period ends.", default=True),
            "prorate": B("Credit unused time.", default=False), "feedback": E("Cancellation reason.", "too_expensive missing_features switched_service unused other")},
           ["subscription_id"], out=sub)
    s.tool("apply_coupon", "Applies a coupon to a customer or a subscription; it affects future invoices only.",
           {"coupon_code": S("Code."), "customer_id": CUSTOMER_ID, "subscription_id": S("Apply to this subscription only.")}, ["coupon_code"])
    s.tool("get_revenue_summary", "Summarizes revenue for a period: MRR, new, expansion, contraction and churned MRR, and collected cash, per month.",
           {"start_month": S("First month, YYYY-MM.", pattern="^\\d{4}-\\d{2}$"), "end_month": S("Last month, YYYY-MM."), "currency": S("Report currency.", default="USD")},
           ["start_month", "end_month"], out={"mrr": N(""), "new_mrr": N(""), "churned_mrr": N(""), "collected": N("")})
    s.tool("get_upcoming_invoice", "Previews the next invoice of a customer or subscription, including proration from pending changes. Nothing is charged.",
           {"customer_id": CUSTOMER_ID, "subscription_id": S("Subscription to preview.")}, ["customer_id"], out=invoice)
    s.tool("create_checkout_link", "Creates a hosted checkout page for a plan or one-off price and returns its URL. Links expire after 24 hours.",
           {"plan_id": S("Plan to subscribe to."), "customer_email": EMAIL("Prefill the customer's email."),
            "success_url": URI("Where to go after paying."), "quantity": I("Quantity.", minimum=1, default=1)}, ["plan_id", "success_url"],
           out={"url": URI(""), "expires_at": DT("")})
    return s
