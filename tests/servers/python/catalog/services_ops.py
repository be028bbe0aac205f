"""Catalog services: tickets, hr, inventory, shipping."""

from __future__ import annotations

from . import special
from .schema import ADDRESS, A, B, DATE, DT, E, EMAIL, I, N, O, Resource, S, Service

TICKET_ID = I("Numeric ticket ID, e.g. 48213.", minimum=1)
EMPLOYEE_ID = S("ID of the employee, e.g. emp_1042.")
SKU = S("Stock keeping unit of the product.")
WAREHOUSE_ID = S("ID of the warehouse, e.g. wh_berlin.")
SHIPMENT_ID = S("ID of the shipment.")
PARCEL = O("A parcel.", {"weight_kg": N("Weight in kilograms.", minimum=0.01), "length_cm": N("Length."), "width_cm": N("Width."),
                         "height_cm": N("Height.")}, ("weight_kg",))
STATUSES = "new open pending on_hold solved closed"


def tickets() -> Service:
    s = Service("tickets", "Help Desk", " in the help desk", notes=(
                "Agents see the tickets of their groups; light agents can only add private comments.",
                "API limit: 700 requests per minute per account."))
    ticket = Resource("ticket", {
        "subject": S("One-line summary of the problem."), "description": S("First message from the requester."),
        "status": E("State of the ticket.", STATUSES), "priority": E("Urgency.", "low normal high urgent", default="normal"),
        "type": E("Kind of request.", "question incident problem task"), "requester_email": EMAIL("Who asked for help."),
        "assignee": S("Agent working on it."), "group": S("Team the ticket is routed to."), "tags": A("Tags."),
        "created_at": DT("Opened at."), "updated_at": DT("Last change.")}, id_kind="integer",
        create=("subject", "description", "requester_email"),
        filters={"status": E("Only tickets in this state.", STATUSES), "priority": E("Only this priority.", "low normal high urgent"),
                 "assignee": S("Only tickets assigned to this agent; `me` for the caller."), "requester_email": EMAIL("Only this requester's tickets."),
                 "updated_after": DT("Only tickets changed after this instant.")},
        blurb="Tickets are customer support requests; replies and internal notes live in their comments.")
    comment = Resource("comment", {"body": S("Text of the comment."), "author": S("Who wrote it."), "public": B("Visible to the requester."),
                                   "created_at": DT("Posted at.")}, parent=("ticket_id", TICKET_ID))
    macro = Resource("macro", {"title": S("Macro name."), "actions": A("What it does.", O("", {"field": S("Field set."), "value": S("Value.")})),
                               "active": B("Usable by agents.")}, blurb="Macros are canned responses that also set fields.")
    group = Resource("group", {"name": S("Team name."), "description": S("What the team handles."), "member_count": I("Agents in it.")},
                     create=("name",), readonly=("member_count",))
    sla = Resource("sla_policy", {"title": S("Policy name."), "first_reply_minutes": I("Target for the first reply.", minimum=1),
                                  "resolution_hours": I("Target for resolution.", minimum=1), "applies_to_priority": A("Priorities it covers.")},
                   label="SLA policy", plural="sla_policies")
    rating = Resource("satisfaction_rating", {"ticket_id": I("Rated ticket."), "score": E("Rating.", "good bad"), "comment": S("What the customer wrote."),
                                              "created_at": DT("Rated at.")}, label="satisfaction rating",
                      filters={"score": E("Only this rating.", "good bad"), "created_after": DT("Only after this instant.")})
    s.crud(ticket, "list")
    s.tool("get_ticket", "Fetches one ticket by its numeric ID: subject, status, priority, requester, assignee, group, tags, SLA state and comment count. Cheap enough to call for many tickets in a row; comments themselves come from tickets_list_comments.",
           {"ticket_id": TICKET_ID}, ["ticket_id"], handler=special.get_ticket)
    s.crud(ticket, "create update delete search")
    s.crud(comment, "list")
    s.tool("add_comment", "Adds a reply to a ticket. Public comments are emailed to the requester; private ones are internal notes visible to agents only. Adding a comment can also change the status.",
           {"ticket_id": TICKET_ID, "body": S("Comment text; markdown allowed."), "public": B("Send it to the requester.", default=True),
            "status": E("Status to set at the same time.", STATUSES), "attachments": A("Upload tokens of attached files.")},
           ["ticket_id", "body"], out={"comment_id": S(""), "created_at": DT("")})
    s.tool("assign_ticket", "Assigns a ticket to an agent and/or a group. Assigning to a group alone puts it in the group's queue.",
           {"ticket_id": TICKET_ID, "assignee_email": EMAIL("Agent to assign."), "group": S("Group to route to.")}, ["ticket_id"])
    s.tool("merge_tickets", "Merges duplicate tickets into a target ticket. The sources are closed with a link to the target and their comments are copied over.",
           {"target_ticket_id": TICKET_ID, "source_ticket_ids": A("Tickets to merge in.", {"type": "integer"}, minItems=1, maxItems=20),
            "notify_requesters": B("Tell the requesters about the merge.", default=True)}, ["target_ticket_id", "source_ticket_ids"])
    s.tool("escalate_ticket", "Escalates a ticket to a higher support tier or to engineering, raising its priority and recording the reason.",
           {"ticket_id": TICKET_ID, "to": E("Where to escalate.", "tier_2 tier_3 engineering management"), "reason": S("Why it needs escalation.")},
           ["ticket_id", "to", "reason"])
    s.crud(macro, "list")
    s.tool("apply_macro", "Applies a macro to a ticket: posts its canned reply and sets the fields it defines.",
           {"ticket_id": TICKET_ID, "macro_id": S("Macro to apply.")}, ["ticket_id", "macro_id"])
    s.tool("bulk_update", "Updates status, priority, assignee or tags of up to 100 tickets at once. Runs as a background job.",
           {"ticket_ids": A("Tickets to change.", {"type": "integer"}, maxItems=100), "status": E("New status.", STATUSES),
            "priority": E("New priority.", "low normal high urgent"), "add_tags": A("Tags to add."), "remove_tags": A("Tags to remove.")},
           ["ticket_ids"], out={"job_id": S(""), "queued": I("")})
    s.tool("get_metrics", "Reports help-desk metrics for a period: tickets created and solved, median first reply time, median resolution time, SLA breaches and satisfaction score, optionally per group.",
           {"start": DT("Period start."), "end": DT("Period end."), "group": S("Only this group.")}, ["start", "end"],
           out={"created": I(""), "solved": I(""), "median_first_reply_minutes": I(""), "sla_breaches": I(""), "satisfaction_pct": I("", maximum=100)})
    s.crud(group, "list create")
    s.crud(sla, "list get")
    s.crud(rating, "list")
    view = Resource("view", {"title": S("Name of the view."), "conditions": A("Ticket conditions, all must match.", O("", {
        "field": S("Ticket field."), "operator": E("Comparison.", "is is_not less_than greater_than includes"), "value": S("Value.")}, ("field", "operator"))),
        "shared": B("Visible to all agents.", default=False)}, create=("title", "conditions"), blurb="Views are saved ticket queues such as 'Unassigned urgent'.")
    org = Resource("organization", {"name": S("Customer organization."), "domains": A("Email domains whose requesters join it automatically."),
                                    "tier": E("Support tier.", "standard premium enterprise"), "notes": S("Internal notes.")})
    s.crud(view, "list create")
    s.crud(org, "list get")
    s.tool("list_ticket_audits", "Returns the change history of a ticket: every field change, who made it and which trigger or automation fired.",
           {"ticket_id": TICKET_ID, "page_size": I("Audit events per page.", minimum=1, maximum=100, default=50), "cursor": S("Pagination cursor.")},
           ["ticket_id"], out={"audits": A("", O("", {"author": S(""), "field": S(""), "value": S(""), "created_at": DT("")}))})
    return s


def hr() -> Service:
    s = Service("hr", "HR", " in the HR system", notes=(
                "Compensation and personal data are visible to HR admins only; other callers get those fields as null.",
                "Dates are local dates at the employee's work location."))
    emp = Resource("employee", {
        "full_name": S("Legal name."), "work_email": EMAIL("Company email."), "job_title": S("Title."),
        "department": S("Department name."), "manager_id": S("Employee ID of the manager."), "location": S("Office or remote."),
        "employment_type": E("Contract type.", "full_time part_time contractor intern"), "start_date": DATE("First working day."),
        "status": E("Employment status.", "active on_leave terminated")}, create=("full_name", "work_email", "start_date"),
        filters={"department": S("Only this department."), "status": E("Only this status.", "active on_leave terminated"),
                 "manager_id": S("Only direct reports of this manager.")},
        blurb="Salary and personal fields are only returned to HR admins.")
    pto = Resource("time_off_request", {
        "employee_id": EMPLOYEE_ID, "type": E("Kind of leave.", "vacation sick parental unpaid bereavement"),
        "start_date": DATE("First day off."), "end_date": DATE("Last day off."), "hours": N("Hours requested.", minimum=0),
        "status": E("State.", "pending approved denied cancelled"), "note": S("Message to the approver.")},
        create=("employee_id", "type", "start_date", "end_date"), readonly=("status",), label="time-off request",
        filters={"status": E("Only this state.", "pending approved denied cancelled"), "employee_id": S("Only this employee.")})
    dept = Resource("department", {"name": S("Department name."), "head_id": S("Employee who leads it."), "cost_center": S("Finance cost center.")},
                    create=("name",), readonly=())
    job = Resource("job_posting", {"title": S("Job title."), "department": S("Hiring department."), "location": S("Where the job is."),
                                   "remote": B("Open to remote candidates."), "description": S("Job description."),
                                   "status": E("State.", "draft open closed")}, create=("title", "department"), label="job posting")
    cand = Resource("candidate", {"full_name": S("Name."), "email": EMAIL("Email."), "job_posting_id": S("Job applied for."),
                                  "stage": E("Hiring stage.", "applied screen interview offer hired rejected"), "source": S("Where they came from."),
                                  "resume_url": S("Link to the resume.")}, create=("full_name", "email", "job_posting_id"),
                    filters={"job_posting_id": S("Only candidates for this job."), "stage": E("Only this stage.", "applied screen interview offer hired rejected")})
    review = Resource("review", {"employee_id": EMPLOYEE_ID, "reviewer_id": S("Who writes it."), "cycle": S("Review cycle, e.g. 2026-H1."),
                                 "rating": I("Overall rating 1-5.", minimum=1, maximum=5), "summary": S("Summary.")},
                      create=("employee_id", "reviewer_id", "cycle"), label="performance review")
    s.crud(emp, "list get create update search")
    s.crud(pto, "list get create")
    s.crud(dept, "list create")
    s.crud(job, "list get create update")
    s.crud(cand, "list get create")
    s.crud(review, "list create")
    s.tool("approve_time_off", "Approves a pending time-off request. Only the employee's manager or an HR admin can approve; the employee is notified.",
           {"time_off_request_id": S("Request to approve."), "comment": S("Note to the employee.")}, ["time_off_request_id"], out=pto)
    s.tool("deny_time_off", "Denies a pending time-off request with a reason shown to the employee.",
           {"time_off_request_id": S("Request to deny."), "reason": S("Why it is denied.")}, ["time_off_request_id", "reason"], out=pto)
    s.tool("get_time_off_balance", "Shows how many days of each leave type an employee has accrued, used and has left this year.",
           {"employee_id": EMPLOYEE_ID, "as_of": DATE("Balance on this date; defaults to today.")}, ["employee_id"],
           out={"vacation_days_left": N("", maximum=30), "sick_days_used": N("", maximum=10), "accrued_this_year": N("", maximum=30)})
    s.tool("start_offboarding", "Starts offboarding: sets the termination date, schedules account deactivation and creates the offboarding checklist for IT and the manager.",
           {"employee_id": EMPLOYEE_ID, "last_day": DATE("Last working day."), "reason": E("Reason.", "resignation termination retirement contract_end"),
            "rehire_eligible": B("Eligible for rehire.", default=True)}, ["employee_id", "last_day", "reason"], out={"checklist_id": S(""), "tasks": I("")})
    s.tool("get_org_chart", "Returns the reporting tree below a manager (or the whole company), a few levels deep.",
           {"root_employee_id": S("Top of the tree; omit for the CEO."), "depth": I("Levels to include.", minimum=1, maximum=10, default=3)},
           out={"root": O("", {"employee_id": S(""), "full_name": S(""), "job_title": S(""), "direct_reports": I("")})})
    s.tool("move_candidate", "Moves a candidate to another hiring stage; rejecting sends the rejection email template unless `notify` is false.",
           {"candidate_id": S("Candidate."), "stage": E("New stage.", "screen interview offer hired rejected"), "notify": B("Email the candidate.", default=True)},
           ["candidate_id", "stage"], out=cand)
    s.tool("schedule_interview", "Schedules an interview with a candidate and interviewers, sending calendar invites to all of them.",
           {"candidate_id": S("Candidate."), "interviewers": A("Interviewer emails.", {"type": "string", "format": "email"}, minItems=1),
            "start": DT("Start time."), "duration_minutes": I("Length.", minimum=15, maximum=480, default=60),
            "kind": E("Format.", "phone video onsite", default="video")}, ["candidate_id", "interviewers", "start"], out={"interview_id": S(""), "event_id": S("")})
    s.tool("submit_feedback", "Submits an interviewer's scorecard for a candidate.",
           {"candidate_id": S("Candidate."), "recommendation": E("Overall call.", "strong_yes yes no strong_no"), "notes": S("Detailed feedback.")},
           ["candidate_id", "recommendation"])
    s.tool("get_headcount_report", "Headcount by department and location at a date, with hires and leavers over the previous 12 months.",
           {"as_of": DATE("Report date."), "group_by": E("Breakdown.", "department location employment_type", default="department")},
           out={"headcount": I("", minimum=100, maximum=600), "hires_12m": I(""), "leavers_12m": I("")})
    return s


def inventory() -> Service:
    s = Service("inventory", "Inventory", notes=(
                "Quantities are whole units; products sold by weight are counted in grams.",
                "Stock figures change in real time as orders are placed."))
    product = Resource("product", {
        "sku": SKU, "name": S("Product name."), "description": S("Long description."), "category": S("Category path, e.g. Apparel/Shoes."),
        "unit_price": N("List price.", minimum=0), "currency": S("Currency.", default="USD"), "barcode": S("EAN or UPC barcode."),
        "reorder_point": I("Reorder when stock falls below this.", minimum=0), "active": B("Sellable.", default=True)},
        create=("sku", "name"), filters={"category": S("Only this category."), "active": B("Only active products.")})
    wh = Resource("warehouse", {"name": S("Name."), "address": ADDRESS(), "timezone": S("Time zone.")})
    po = Resource("purchase_order", {
        "supplier_id": S("Supplier."), "warehouse_id": WAREHOUSE_ID, "status": E("State.", "draft sent partially_received received cancelled"),
        "lines": A("Ordered items.", O("", {"sku": SKU, "quantity": I("Units.", minimum=1), "unit_cost": N("Cost per unit.")}, ("sku", "quantity"))),
        "expected_at": DATE("Expected delivery.")}, create=("supplier_id", "warehouse_id", "lines"), readonly=("status",), label="purchase order")
    supplier = Resource("supplier", {"name": S("Company name."), "email": EMAIL("Orders email."), "lead_time_days": I("Typical lead time.", minimum=0),
                                     "currency": S("Invoicing currency.")}, create=("name",))
    moves = Resource("stock_movement", {"sku": SKU, "warehouse_id": WAREHOUSE_ID, "quantity": I("Change, negative for outgoing."),
                                        "reason": E("Cause.", "sale return receipt adjustment transfer damage"), "occurred_at": DT("When.")},
                     label="stock movement", filters={"sku": SKU, "warehouse_id": WAREHOUSE_ID, "since": DT("Only after this instant.")})
    s.crud(product, "list get create update delete search")
    s.crud(wh, "list get")
    s.crud(po, "list get create")
    s.crud(supplier, "list create")
    s.crud(moves, "list")
    s.tool("get_stock_level", "Returns on-hand, reserved and available quantities of a product, per warehouse or for one warehouse.",
           {"sku": SKU, "warehouse_id": S("Limit to this warehouse.")}, ["sku"],
           out={"on_hand": I(""), "reserved": I("", maximum=50), "available": I(""), "incoming": I("")})
    s.tool("adjust_stock", "Corrects the on-hand quantity after a count, damage or loss. Every adjustment is logged as a stock movement with its reason.",
           {"sku": SKU, "warehouse_id": WAREHOUSE_ID, "delta": I("Units to add (positive) or remove (negative)."),
            "reason": E("Why.", "count_correction damage loss found other"), "note": S("Details.")}, ["sku", "warehouse_id", "delta", "reason"],
           out={"on_hand": I("")})
    s.tool("transfer_stock", "Moves units between warehouses. Stock leaves the source at once and arrives when the transfer is received.",
           {"sku": SKU, "from_warehouse_id": WAREHOUSE_ID, "to_warehouse_id": WAREHOUSE_ID, "quantity": I("Units to move.", minimum=1)},
           ["sku", "from_warehouse_id", "to_warehouse_id", "quantity"], out={"transfer_id": S(""), "status": S("")})
    s.tool("list_low_stock", "Lists products whose available stock is at or below their reorder point, with suggested reorder quantities based on the last 30 days of sales.",
           {"warehouse_id": S("Only this warehouse."), "category": S("Only this category."), "page_size": I("Rows per page.", minimum=1, maximum=500, default=100)},
           out=[product])
    s.tool("reserve_stock", "Reserves units for an order so they cannot be sold twice. Reservations expire after `ttl_minutes` unless confirmed.",
           {"order_id": S("Order the units are for."), "items": A("What to reserve.", O("", {"sku": SKU, "quantity": I("Units.", minimum=1)}, ("sku", "quantity"))),
            "ttl_minutes": I("Lifetime of the reservation.", minimum=1, maximum=10080, default=60)}, ["order_id", "items"],
           out={"reservation_id": S(""), "expires_at": DT("")})
    s.tool("receive_purchase_order", "Records goods received against a purchase order, adding them to stock. Partial receipts are allowed.",
           {"purchase_order_id": S("Order being received."), "lines": A("Received quantities.", O("", {"sku": SKU, "quantity": I("Units received.", minimum=0)}, ("sku", "quantity")))},
           ["purchase_order_id", "lines"], out=po)
    s.tool("get_valuation", "Values the inventory at cost (FIFO or weighted average) at a date, per warehouse and category.",
           {"as_of": DATE("Valuation date."), "method": E("Costing method.", "fifo weighted_average", default="fifo")},
           out={"total_value": N(""), "currency": S(""), "units": I("")})
    s.tool("find_by_barcode", "Looks up a product by its EAN or UPC barcode, as scanned in the warehouse.", {"barcode": S("Scanned barcode.")}, ["barcode"], out=product)
    s.tool("forecast_demand", "Forecasts unit demand for a product over the coming weeks from its sales history and seasonality.",
           {"sku": SKU, "weeks": I("Forecast horizon.", minimum=1, maximum=52, default=8), "warehouse_id": S("Only this warehouse.")}, ["sku"],
           out={"weekly_units": A("", {"type": "integer"}), "confidence": E("", "low medium high")})
    return s


def shipping() -> Service:
    s = Service("shipping", "Shipping", notes=(
                "Weights are in kilograms and dimensions in centimetres, whatever unit the carrier uses.",
                "Carrier APIs can be slow: calls may take up to 20 seconds."))
    shipment = Resource("shipment", {
        "order_id": S("Order being shipped."), "carrier": E("Carrier.", "ups fedex dhl usps royal_mail"),
        "service_level": S("Carrier service, e.g. ground or express."),
        "status": E("State.", "label_created in_transit out_for_delivery delivered exception returned cancelled"),
        "tracking_number": S("Carrier tracking number."), "to_address": ADDRESS("Destination."),
        "parcels": A("Parcels in the shipment.", PARCEL), "created_at": DT("Created at.")}, readonly=("status", "tracking_number", "created_at"),
        filters={"status": E("Only this state.", "label_created in_transit out_for_delivery delivered exception returned cancelled"),
                 "carrier": E("Only this carrier.", "ups fedex dhl usps royal_mail"), "order_id": S("Only this order's shipments.")})
    pickup = Resource("pickup", {"carrier": E("Carrier.", "ups fedex dhl usps"), "address": ADDRESS("Where to pick up."),
                                 "ready_at": DT("Parcels ready from."), "close_at": DT("Location closes at."), "parcel_count": I("Parcels.", minimum=1)},
                      create=("carrier", "address", "ready_at"), readonly=())
    ret = Resource("return", {"order_id": S("Original order."), "reason": E("Reason.", "damaged wrong_item not_as_described no_longer_needed other"),
                              "items": A("Returned SKUs."), "status": E("State.", "requested label_sent received refunded rejected"),
                              "label_url": S("Return label.")}, create=("order_id", "reason", "items"), readonly=("status", "label_url"))
    s.crud(shipment, "list get")
    s.crud(pickup, "list create delete")
    s.crud(ret, "list get create")
    dest = {"from_address": ADDRESS("Ship from."), "to_address": ADDRESS("Ship to."), "parcels": A("Parcels.", PARCEL, minItems=1)}
    s.tool("get_rates", "Quotes prices and transit times from every connected carrier for the given parcels and addresses. Quotes are valid for 24 hours.",
           dest, ["from_address", "to_address", "parcels"],
           out={"rates": A("", O("", {"rate_id": S(""), "carrier": S(""), "service_level": S(""), "amount": N(""), "transit_days": I("", minimum=1, maximum=7)}))})
    s.tool("buy_label", "Buys a shipping label for a quoted rate and creates the shipment. The label is charged to the account immediately.",
           {"rate_id": S("Rate from shipping_get_rates."), "order_id": S("Order to link."),
            "label_format": E("Label file format.", "pdf png zpl", default="pdf")}, ["rate_id"],
           out={"shipment_id": S(""), "tracking_number": S(""), "label_url": S("")})
    s.tool("track_shipment", "Returns the tracking history of a shipment, newest event first, by shipment ID or carrier tracking number.",
           {"shipment_id": SHIPMENT_ID, "tracking_number": S("Carrier tracking number instead of the ID.")},
           out={"status": E("", "in_transit out_for_delivery delivered exception"), "estimated_delivery": DATE(""),
                "events": A("", O("", {"description": S(""), "location": S(""), "occurred_at": DT("")}))})
    s.tool("cancel_shipment", "Cancels a shipment whose label was not yet scanned by the carrier and requests a refund of the label cost.",
           {"shipment_id": SHIPMENT_ID}, ["shipment_id"], out={"refund_status": E("", "submitted rejected")})
    s.tool("validate_address", "Checks and normalizes a postal address, returning the corrected address and whether it is residential.",
           {"address": ADDRESS()}, ["address"], out={"valid": B(""), "residential": B(""), "normalized": ADDRESS()})
    s.tool("create_customs_declaration", "Creates the customs declaration (CN22/CN23 or commercial invoice) needed for international shipments.",
           {"shipment_id": SHIPMENT_ID, "contents_type": E("Contents.", "merchandise gift documents sample return"),
            "items": A("Declared items.", O("", {"description": S("What it is."), "quantity": I("Units.", minimum=1), "value": N("Value per unit."),
                                                  "hs_code": S("Harmonized System code."), "origin_country": S("Country of origin.")}, ("description", "quantity", "value")))},
           ["shipment_id", "contents_type", "items"], out={"declaration_id": S(""), "document_url": S("")})
    s.tool("create_manifest", "Closes the day's shipments for a carrier into a manifest (end-of-day form) to hand to the driver.",
           {"carrier": E("Carrier.", "ups fedex dhl usps"), "ship_date": DATE("Date of the shipments.")}, ["carrier"],
           out={"manifest_id": S(""), "shipment_count": I(""), "document_url": S("")})
    account = Resource("carrier_account", {"carrier": E("Carrier.", "ups fedex dhl usps royal_mail"), "account_number": S("Carrier account number."),
                                           "description": S("Label, e.g. 'EU warehouse'."), "active": B("Used for rating.", default=True)},
                       create=("carrier", "account_number"), label="carrier account", readonly=())
    s.crud(account, "list create")
    s.tool("get_delivery_estimate", "Estimates the delivery date for a service level between two postal codes, accounting for carrier holidays and cut-off times.",
           {"carrier": E("Carrier.", "ups fedex dhl usps royal_mail"), "service_level": S("Service, e.g. ground."), "from_postal_code": S("Origin."),
            "to_postal_code": S("Destination."), "to_country": S("Destination country code.", default="US"), "ship_date": DATE("Planned ship date.")},
           ["carrier", "from_postal_code", "to_postal_code"], out={"estimated_delivery": DATE(""), "business_days": I("", minimum=1, maximum=8)})
    s.tool("update_delivery_address", "Asks the carrier to redirect a shipment in transit to a corrected address. Not every carrier supports it and a fee may apply.",
           {"shipment_id": SHIPMENT_ID, "to_address": ADDRESS("Corrected destination.")}, ["shipment_id", "to_address"],
           out={"request_status": E("", "accepted pending rejected"), "fee": N("", maximum=25)})
    return s
