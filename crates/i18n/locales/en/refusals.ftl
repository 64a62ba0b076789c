# The API's refusals as it writes them: one template per message the
# domain, the API, the store and the federation send, its variable parts as
# Fluent variables. `edufed_i18n::errors::translate` finds the template a
# message reads as and formats the message of the same id in a language's
# `refusals.ftl` (locales/ru/refusals.ftl) with the parts it found.
#
# What becomes of a part is decided by its variable's name, never per
# message:
#  - a vocabulary's name (`$activity-status`, `$agreement-state`,
#    `$booking-rule`, `$role`…) names the value from the catalogue, and
#    its plural (`$report-dimensions`) each value of a list "a, b";
#  - `$why`, `$what`, `$detail`, `$action`, `$reason`, `$audience` are
#    refusals themselves (fragments below), translated in turn;
#  - any other part keeps its text, but numbers agree with their nouns,
#    times and dates read in the catalogue's form and "quoted" values take
#    the language's quotes.
# Two variables never touch: a template must say where one part ends.

## Any input field

refusal-required = is required
refusal-at-most = at most { $max }
refusal-must-be-at-most = must be at most { $max }
refusal-at-most-entries = at most { $max } entries
refusal-at-most-parties = at most { $max } parties
refusal-at-most-kinds = at most { $max } kinds
refusal-too-many-values = too many values
refusal-longer-than = is longer than { $max } characters
refusal-control-characters = must not contain control characters
refusal-control-characters-in-text = must not contain control characters other than line breaks
refusal-page-token = is not a token returned by this list
refusal-not-an-id = { $value } is not a valid id
refusal-unknown-value = unknown value { $value }
refusal-unknown-value-of = unknown value { $value }; expected one of { $values }
refusal-unknown-zone = unknown IANA time zone { $value }
refusal-not-a-date = { $value } is not a date (YYYY-MM-DD)
refusal-not-a-local-time = { $value } is not a local date-time like 2024-09-03T14:00
refusal-not-a-time = { $value } is not a time like 09:00
refusal-not-a-timestamp = is not a valid timestamp
refusal-years = must fall between 1970 and 2200
refusal-positive-duration = must be a positive duration
refusal-missing-or-malformed = is missing or malformed
refusal-not-text = is not text
refusal-not-hex = is not hex
refusal-malformed = is malformed
refusal-invalid-field = invalid { $field }: { $reason }

## Organizations, people, tokens

refusal-slug-length = { $value } must be 3 to 63 characters long
refusal-slug-letters = { $value } may hold only lowercase Latin letters, digits and hyphens
refusal-slug-start = { $value } must start with a letter
refusal-slug-hyphens = { $value } must not end with a hyphen or hold two in a row
refusal-inn-digits = must be 10 or 12 digits
refusal-inn-check = { $value } has wrong check digits
refusal-email-length = is longer than 254 characters
refusal-not-an-email = { $value } is not an e-mail address
refusal-not-a-phone = { $value } is not a phone number
refusal-not-a-website = { $value } is not an http(s) URL
refusal-token-ttl = must be between 1 minute and 2 years
refusal-org-ref-required = is required (an organization id or slug)
refusal-not-an-org-ref = { $value } is neither an organization id nor a slug
refusal-unknown-org-kind = unknown organization kind { $value }
refusal-unknown-role = unknown role { $value }
refusal-person-or-new = give person_id or new_person
refusal-organization-not-found = organization { $organization } not found
refusal-organization-unknown = organization { $organization } is not known on this node
refusal-organization-not-here = organization { $organization } is not on this node
refusal-no-organization-here = no organization { $organization } on this node
refusal-person-not-found = person { $person } not found
refusal-token-not-found = token { $token } not found
refusal-not-a-member = person { $person } is not a member of organization { $organization }
refusal-slug-taken = slug { $slug } is already taken
refusal-email-taken = a person with e-mail { $email } was just added by another call; retry to add them
refusal-already-a-member = person { $person } is already a member of organization { $organization }
refusal-organization-version = organization { $organization } is at version { $actual }, not the expected { $expected }
refusal-last-admin = person { $person } is the last admin of organization { $organization }; add another admin first
refusal-hosted-elsewhere = organization { $organization } is hosted on node { $node }; change it or its members there
refusal-token-revoked-already = token { $token } is already revoked

## Signing in: tokens, links, sessions

refusal-token-invalid = the bearer token is not valid
refusal-token-revoked = the bearer token has been revoked
refusal-token-expired = the bearer token expired at { $at }
refusal-token-needed = this call needs a bearer token
refusal-authorization-not-text = the authorization header is not text
refusal-authorization-basic = the basic credentials must be base64 of "name:token"
refusal-authorization-bearer = the authorization header must be "Bearer <token>"
refusal-session-not-found = session { $session } not found
refusal-session-ended-already = session { $session } has already ended
refusal-link-invalid = the sign-in link is not valid
refusal-link-used = the sign-in link was already used at { $at }; ask for a new one
refusal-link-expired = the sign-in link expired at { $at }; ask for a new one
refusal-session-invalid = the session is not valid; sign in again
refusal-session-ended = the session ended at { $at }; sign in again
refusal-session-expired = the session expired at { $at }; sign in again
refusal-link-ttl = must be between 1 minute and 3 days
refusal-idle-timeout = must be at least 5 minutes
refusal-max-age = must be at most a year
refusal-idle-above-max-age = must not exceed session_max_age

## Signing in through an identity provider

refusal-identity-unbound = the account { $account } at { $issuer } is not bound to anyone on this node; ask an admin of your organization to add you with this e-mail or to send you an invitation
refusal-email-not-verified = the identity provider has not verified the e-mail { $email }; ask an admin of your organization for an invitation
refusal-issuer-required = organization { $organization } requires its members to sign in through { $issuer }
refusal-already-bound = person { $person } is already bound to another account at { $issuer }; unbind it first
refusal-bound-to-another = this account at { $issuer } is already bound to another person
refusal-identity-not-found = person { $person } has no account bound at { $issuer }
refusal-sign-in-unknown = this sign-in was not started here or has already finished; start again
refusal-sign-in-expired = this sign-in was started too long ago and lapsed at { $at }; start again
refusal-invitation-only = this link is an invitation: sign in with it through an identity provider
refusal-issuer-unknown = no issuer is named { $issuer } on this node
refusal-provider-unreachable = the identity provider cannot be reached: { $cause }
refusal-provider-refused = the identity provider refused the sign-in: { $cause }
refusal-id-token-signature = the ID token's signature is not the identity provider's
refusal-id-token-audience = the ID token was issued to another client
refusal-id-token-expired = the ID token has expired
refusal-id-token-nonce = the ID token was not issued for this sign-in (nonce)
refusal-id-token-issuer = the ID token names another issuer
refusal-id-token-claims = the ID token is not acceptable: { $cause }
refusal-device-refused = the sign-in on the other device was refused or has lapsed
refusal-provider-unsupported = the identity provider does not offer { $feature }
refusal-sign-in-state = the answer of the identity provider does not belong to this browser's sign-in; start again
refusal-invitation-self = must be someone else: an invitation binds the account of the person it is sent to
refusal-sign-in-mixed-up = the answer came from another identity provider than the one the sign-in began with; start again

## Who may do what (the policy)

refusal-operator-only = only the node operator may { $action }
refusal-centres-only = only the operator or an admin or coordinator of a methodical centre on this node may { $action } for a city or the whole network
refusal-role-does-not-allow = the { $role } role in organization { $organization } does not allow you to { $action }
refusal-not-a-member-of = you are not a member of organization { $organization }, so you may not { $action }
refusal-may-not = you may not { $action }
refusal-may-not-for-person = you may not { $action }: only the person, an admin of every organization they belong to, or the operator may
refusal-no-role = you hold no role in organization { $organization }
refusal-action-create-organizations = create organizations
refusal-action-update-organization = update the organization
refusal-action-list-members = list the organization's members
refusal-action-add-members = add members
refusal-action-remove-members = remove members
refusal-action-watch-changes = watch the organization's changes
refusal-action-manage-tokens = manage this person's tokens
refusal-action-manage-activities = manage the organization's activities
refusal-action-register-cohorts = register the organization's cohorts
refusal-action-view-registrations = see the organization's registrations
refusal-action-manage-resources = manage the organization's resources
refusal-action-request-bookings = request bookings for the organization
refusal-action-view-bookings = see the organization's bookings
refusal-action-manage-agreements = prepare the organization's agreements
refusal-action-sign-agreements = sign, decline or terminate agreements for the organization
refusal-action-view-agreements = see the organization's agreements
refusal-action-manage-peers = manage the node's peers
refusal-action-view-reports = read the node's reports
refusal-action-state-enrolment = state the organization's enrolment
refusal-action-set-targets = set the organization's targets
refusal-action-view-all-records = see every record of the node

## The calendar: activities

refusal-activity-not-found = activity { $activity } not found
refusal-activity-version = activity { $activity } is at version { $actual }, not the expected { $expected }
refusal-activity-status = activity { $activity } is { $activity-status }: { $why }
refusal-why-published-only = only published activities take registrations
refusal-why-unchangeable = it can no longer be changed
refusal-why-draft-only = only a draft can be published
refusal-why-published-to-complete = only a published activity can be completed
refusal-why-over = it is over already
refusal-why-no-return-to-draft = an activity never goes back to draft
refusal-grades = grades are 1 to 11
refusal-grades-order = { $min }–{ $max } is not a range: the lowest grade comes first
refusal-audience = name at least one group
refusal-capacity = must be 1 to { $max } seats
refusal-quota = each quota is 1 seat to the capacity
refusal-closes-after-opens = must be after opens_at
refusal-until-after-since = must be after since
refusal-online-url = must be an http(s) URL
refusal-not-an-occurrence = is not an occurrence of this activity
refusal-agreement-not-here = agreement { $agreement } is not on this node
refusal-agreement-as-listed = give the agreement's id as listed
refusal-clocks-skip = { $local } does not exist in { $zone }: the clocks skip it
refusal-all-day = an all-day activity runs from midnight to midnight: give dates (the end is the day after the last)
refusal-end-after-start = must be after the start
refusal-end-after-start-within = must be after the start, within { $days } days
refusal-occurrence-length = one occurrence may last at most { $days } days; use a recurrence
refusal-recurrence-dates = at most { $max } exception and extra dates
refusal-start-not-in-rule = is not an occurrence of the rule: start on a day the rule includes
refusal-rule-required = is required for a recurrence
refusal-not-an-rrule = is not an RFC 5545 RRULE: { $error }
refusal-rule-too-often = repeats more often than daily; the network schedules at most one occurrence a day per activity
refusal-rule-several-a-day = yields several occurrences a day; the time of day comes from the start
refusal-rule-invalid-with-start = is not valid with this start: { $error }
refusal-rule-unbounded = cannot be expanded within bounds; simplify it
refusal-rule-too-many = expands to more than { $max } occurrences; shorten it with COUNT or UNTIL
refusal-rule-none = yields no occurrence
refusal-window = must be after from, within { $days } days
refusal-organization-or-activity = give an organization or an activity, not both
refusal-occurrence-holds-registrations = the occurrence at { $at } holds registrations and would disappear; cancel that occurrence instead of removing it from the schedule
refusal-capacity-below-confirmed = { $taken } seats are already confirmed on { $at }; withdraw registrations before lowering the capacity
refusal-quota-below-held = organization { $organization } already holds { $held } seats on { $at }, above the new quota

## The calendar: registrations

refusal-registration-not-found = registration { $registration } not found
refusal-registration-closed = registration is closed: { $why }
refusal-why-occurrence-cancelled = that occurrence is cancelled
refusal-why-opens-at = it opens at { $at }
refusal-why-closed-at = it closed at { $at }
refusal-why-headcounts-fixed = headcounts are fixed once registration closes
refusal-headcount = must be 1 to { $max }
refusal-attended = cannot exceed the registered headcount
refusal-participants = cannot exceed those who attended
refusal-winners = winners and prize-winners cannot exceed participants
refusal-attendance-only = a { $activity-kind } records attendance only; winners are for olympiads, contests, games and sport
refusal-activity-over = the activity is over; its registrations are kept as records
refusal-results-after-start = results are recorded after the activity has started
refusal-not-for-students = this activity is not for students; cohorts are groups of students
refusal-not-for-teachers = this activity is not for teachers; register a group of students
refusal-teachers-no-grades = a group of teachers has no grades
refusal-grades-outside = grades { $min }–{ $max } are outside the activity's { $from }–{ $to }
refusal-own-students = this activity is for the publisher's own students
refusal-withdrawn-already = registration { $registration } is already withdrawn
refusal-withdrawn = registration { $registration } is withdrawn
refusal-attended-headcount = { $attended } students attended; the headcount cannot be lower
refusal-others-waiting = other groups are waiting for seats; the group cannot grow past them
refusal-results-confirmed-only = registration { $registration } is { $registration-state }; results go to confirmed registrations
refusal-above-capacity = { $headcount } people exceed the capacity of { $capacity } seats
refusal-above-quota = { $headcount } people exceed the organization's quota of { $quota } seats
refusal-seats-taken = { $headcount } seats do not fit: { $taken } of { $capacity } are taken
refusal-quota-taken = { $headcount } seats exceed the organization's quota: { $taken } of { $quota } are taken
refusal-occurrence-gone = the occurrence is over or cancelled

## Resources and bookings

refusal-resource-not-found = resource { $resource } not found
refusal-booking-not-found = booking { $booking } not found
refusal-resource-version = resource { $resource } is at version { $actual }, not the expected { $expected }
refusal-booking-rule = refused by the { $booking-rule } rule: { $detail }
refusal-detail-notice = bookings need { $minutes } minutes' notice
refusal-detail-advance = bookings open at most { $days } days ahead
refusal-detail-end-after-start = the end must be after the start
refusal-detail-shorter = { $minutes } minutes is shorter than the minimum of { $min }
refusal-detail-longer = { $minutes } minutes is longer than the maximum of { $max }
refusal-detail-capacity = { $headcount } people exceed the capacity of { $capacity }
refusal-detail-hours = { $start } – { $end } is outside the bookable hours of { $resource }
refusal-detail-closed = the resource is closed: { $note }
refusal-detail-series-overlap = the occurrences at { $first } and { $second } overlap (buffer included)
refusal-detail-open-to = { $resource } is open to { $audience } only
refusal-audience-own = its own organization
refusal-audience-partners = its owner's agreement partners
refusal-audience-network = the network
refusal-detail-approval = this resource needs its owner's approval; request the booking instead of holding it
refusal-detail-agreement-state = agreement { $agreement } is { $agreement-state }; bookings go under an agreement in force
refusal-detail-agreement-term = { $start } – { $end } is outside the term of agreement { $agreement } ({ $from } – { $to })
refusal-detail-requester-not-a-party = the requesting organization { $organization } is not a party to agreement { $agreement }
refusal-detail-owner-not-a-party = the resource's owner { $organization } is not a party to agreement { $agreement }
refusal-detail-no-pledge = agreement { $agreement } pledges no hours of this resource
refusal-pledge-used-term = agreement { $agreement } pledges { $pledged } of { $description } for its term; { $booked } are booked and this request needs { $needed } more
refusal-pledge-used-school-year = agreement { $agreement } pledges { $pledged } of { $description } per school year ({ $year }/{ $next }); { $booked } are booked and this request needs { $needed } more
refusal-pledge-used-first-half = agreement { $agreement } pledges { $pledged } of { $description } per half-year (first half of { $year }/{ $next }); { $booked } are booked and this request needs { $needed } more
refusal-pledge-used-second-half = agreement { $agreement } pledges { $pledged } of { $description } per half-year (second half of { $year }/{ $next }); { $booked } are booked and this request needs { $needed } more
refusal-pledge-used-month = agreement { $agreement } pledges { $pledged } of { $description } per month ({ $year }-{ $month }); { $booked } are booked and this request needs { $needed } more
refusal-conflict-all = every requested occurrence collides with a booking
refusal-conflict-just-booked = the time was just booked by another request
refusal-conflict = { $start } – { $end } collides with booking { $booking }
refusal-conflict-in-series = { $start } – { $end } collides with booking { $booking } (the whole request was refused; book around it with skip_conflicts)
refusal-buffer-overlap-named = with the new buffer, bookings { $first } and { $second } would overlap; settle them first
refusal-buffer-overlap = with the new buffer, bookings would overlap
refusal-nothing-to-approve = nothing pending or held to approve
refusal-no-occurrence-can-become = no occurrence of booking { $booking } can become { $occurrence-state }
refusal-resource-capacity = must be at least 1 when given
refusal-hours-order = { $weekday }: closes must be after opens
refusal-durations = durations are 1 minute to a year, min ≤ max
refusal-advance-buffer = advance is 1 day to 3 years; buffer at most a day
refusal-weekday = is 1 (Monday) to 7 (Sunday)
refusal-scope-needs-start = is required for this scope
refusal-booking-window = must be after from, within 400 days
refusal-resource-or-requester = give a resource or a requester
refusal-slot-window = a slot search covers at most 62 days
refusal-slot-duration = is 1 minute to a day

## Agreements

refusal-agreement-not-found = agreement { $agreement } not found
refusal-agreement-revision = agreement { $agreement } is at revision { $actual }, not the expected { $expected }
refusal-agreement-state = the agreement is { $agreement-state }: { $what }
refusal-what-edit-or-amend = only a draft or a declined proposal can be edited; propose an amendment instead
refusal-what-edit = only a draft or a declined proposal can be edited
refusal-what-propose = only a draft can be proposed
refusal-what-awaiting = version { $version } is already awaiting signatures
refusal-what-notice-given = a party has given notice of termination
refusal-what-amend = only an agreement in force can be amended
refusal-what-no-ballot = no version awaits signatures
refusal-what-terminating = termination already takes effect at { $at }
refusal-what-terminate = only an agreement signed by every party can be terminated
refusal-what-not-proposed = version { $version } has not been proposed
refusal-not-a-draft = the agreement is not a draft
refusal-no-version = the agreement has no version
refusal-version-missing = version { $version } is missing
refusal-there-is-no-version = there is no version { $version }
refusal-version-required = is required: the version you read
refusal-not-a-party-to-version = organization { $organization } is not a party to version { $version }
refusal-signed-already = organization { $organization } has already signed version { $version } (agreement is { $agreement-state })
refusal-not-a-party-in-force = organization { $organization } is not a party to the version in force
refusal-content-changed = version { $version } has content hash { $hash }, not the { $read } you read
refusal-other-version-awaits = version { $awaiting } awaits signatures, not version { $version }
refusal-ends-before-notice = the agreement ends on { $last }, before { $days } days of notice run out; it expires by itself
refusal-after-last-day = { $day } is after the agreement's last day, { $last }
refusal-notice-days = the agreement requires { $days } days of notice; the earliest is { $earliest }
refusal-nothing-due = nothing due
refusal-initiator-party = the initiator { $organization } must be a party
refusal-initiator-remains = the initiator { $organization } must remain a party
refusal-resource-not-here = resource { $resource } is not on this node
refusal-resource-not-of = resource { $resource } does not belong to { $organization }
refusal-agreement-grades = grades run from 1 to 11
refusal-grade-order = grade_min { $min } is above grade_max { $max }
refusal-outside-years = { $day } is outside the years { $from } to { $to }
refusal-before-valid-from = { $to } is before valid_from { $from }
refusal-term-years = a term is at most { $years } years
refusal-two-parties = an agreement needs at least two parties
refusal-party-twice = organization { $organization } is a party twice
refusal-one-base = at most one party is the base organization
refusal-named-twice = { $name } is named twice
refusal-between-1-and-10000 = must be between 1 and 10000
refusal-not-a-party = organization { $organization } is not a party
refusal-not-a-part = { $name } is not a part of the programme
refusal-pledged-twice = the same resource is pledged twice; pledge its hours once
refusal-before-proposed = is required before the agreement is proposed
refusal-article-15 = is required of a network-form agreement (Article 15 of 273-FZ)
refusal-names-base = a network-form agreement names its base organization
refusal-nobody-delivers = no party delivers { $name }
refusal-duties-hours = the duties give { $assigned } hours of { $name }, which has { $hours }
refusal-kinds-and-states = at most 8 kinds and 8 states
refusal-content-hash = the content hash { $actual } is not the signed { $signed }
refusal-signing-key = the key's fingerprint { $fingerprint } is not the signing node's
refusal-signature = the signature does not verify: { $error }

## Reports, enrolment, targets

refusal-report-before-from = { $to } is before from { $from }
refusal-report-days = a report covers at most { $days } days
refusal-school-year = { $value } is not a school year like 2025/26
refusal-school-year-order = { $value }: a school year ends the year after it starts
refusal-not-grouped-by = this report is not grouped by { $report-dimension }; it takes { $report-dimensions }
refusal-target-value = must be a number at least 0
refusal-percentage = { $indicator } is a percentage, at most 100
refusal-students = must be 1 to { $max }
refusal-no-target = no { $indicator } target for { $target } due { $due }
refusal-required-with-to = is required with to
refusal-required-with-from = is required with from
refusal-one-scope = give one scope: organization, city or network
refusal-dimension-required = a dimension is required
refusal-indicators-not-grouped = indicators are not grouped
refusal-organization-or-city = give an organization or a city, not both

## Feeds, the change log

refusal-no-such-feed = no such feed
refusal-no-such-publisher = no such publisher
refusal-no-such-organization = no such organization
refusal-no-such-activity = no such activity
refusal-no-such-resource = no such resource
refusal-cursor-expired = cursor { $cursor } is outside the retained change log (oldest sequence { $oldest }, latest { $latest }); re-read the current state and watch from the latest sequence
refusal-watch-streams = this node serves as many Watch streams as it may; retry later
refusal-watch-streams-caller = you hold { $limit } Watch streams, as many as one caller may; close one first
refusal-heartbeat = must be between 1 and 300
refusal-shutting-down = the node is shutting down; reconnect with your last cursor
refusal-deadline = the call did not finish within { $ms } ms
refusal-internal = internal error; the node's log has the details

## Records kept on other nodes, and peers

refusal-not-owned = this record belongs to node { $node }, not to this node; send the write there
refusal-no-forwarding = this record belongs to node { $node }, and this node does not forward writes
refusal-ownerless = the mirrored { $entity-kind } { $id } does not say whose it is
refusal-unrelated = { $entity-kind } { $id } not found
refusal-home-not-pinned = the record's home node { $node } is not a pinned peer of this node, so this node cannot send the write there: { $why }
refusal-home-unreachable = the record's home node { $node } is unreachable, and only it may accept this write: { $why }
refusal-home-refused = the record's home node { $node } refused this node's credential (does it pin this node?): { $why }
refusal-not-forwardable = node { $node } may act for its people only on their registrations, bookings, agreements and mentoring pairs (the calls a node forwards); not { $path }
refusal-not-hosted-by = node { $node } does not host organization { $organization }, so it cannot act for it here
refusal-idempotency-key = 1 to { $max } visible ASCII characters
refusal-idempotency-reused = this key was used for another request
refusal-cannot-be-sent = { $value } cannot be sent
refusal-relay-peers-only = Relay is for pinned peer nodes, with a node credential
refusal-relay-not-followed = this node does not follow node { $node }, so it has nothing of it to relay
refusal-relay-unpinned = node { $node } is no longer a pinned peer of this node
refusal-relay-resynced = this node has read node { $node }'s records again from a snapshot since your copies were made; read its snapshot
refusal-node-header-not-text = the node header is not text
refusal-node-header-missing = { $header } is missing
refusal-node-header-form = { $header } must be <unix seconds>.<hex signature>
refusal-node-clock = the credential of node { $node } is dated { $at }, too far from this node's clock
refusal-node-not-pinned = node { $node } is not a pinned peer of this node
refusal-pinned-key = the pinned key is invalid
refusal-node-credential = the credential of node { $node } does not verify with its pinned key
refusal-peer-not-found = peer { $node } not found
refusal-peer-pinned = peer { $node } is already pinned
refusal-subscribed = this node already subscribes to peer { $node }
refusal-no-subscription = no subscription to peer { $node }
refusal-follow-directly = the node is a pinned peer: follow it directly
refusal-fingerprint = a node's fingerprint is 64 hex digits (its node id)
refusal-fingerprint-own = that fingerprint is this node's own
refusal-node-own = is this node's own
refusal-own-records-only = applies to this node's own records only
refusal-url-scheme = must start with http:// or https://
refusal-nonce = 16 to 64 bytes
refusal-key-mismatch = the node at { $url } has key fingerprint { $actual }, not the expected { $expected }
refusal-node-id-mismatch = the node at { $url } calls itself { $node }, which is not its key's fingerprint
refusal-public-key = the node's public key is invalid: { $error }
refusal-descriptor-signature = the descriptor's signature is malformed
refusal-key-not-proven = the node at { $url } did not prove it holds the key { $fingerprint }
refusal-malformed-descriptor = the node at { $url } sent a malformed descriptor: { $why }
refusal-why-no-descriptor = no descriptor
refusal-why-key-length = the public key is not 32 bytes
refusal-why-too-many-organizations = too many organizations
refusal-why-name-too-long = its name or URL is too long
refusal-why-organization-malformed = organization { $organization } is not well formed
refusal-cannot-reach = cannot reach { $url }: { $error }
refusal-claims-organization = the node at { $url } claims to host organization { $organization }, which { $owner } hosts
refusal-ambiguous = peers { $first } and { $second } both publish { $entity-kind } { $id }; neither is trusted with it
refusal-not-a-url = { $url } is not a URL

## Notifications

refusal-no-notification-given-up = names no notification given up
refusal-no-mail-server = the node has no mail server (smtp_host)
refusal-no-webhook = the organization has no webhook
refusal-not-an-unsubscribe-link = is not a valid unsubscribe link
refusal-one-url = must be one URL of at most { $max } characters
refusal-https = must start with https://
refusal-no-host = has no host
refusal-https-or-loopback = must use https:// (http:// only to this machine)

## Mentoring

refusal-mentoring-unnamed = must be empty: a child is never named, only counted or given a code by their school
refusal-mentoring-mentor-one = a mentor is one person: an adult or a pupil
refusal-mentoring-close-state = must be completed or ended_early
refusal-mentoring-end-before-start = must not come before the pair's start
refusal-mentoring-form-label = names the form when it is another
refusal-names-organization-twice = names an organization twice
refusal-not-before-starts-on = must not come before starts_on
refusal-names-criterion-twice = names a criterion twice
refusal-from-to = must be { $min } to { $max }
refusal-criterion-key = must be 1 to 32 lowercase Latin letters, digits or _
refusal-pupil-code = must be a pupil's code of 2 to 32 Latin letters, digits, - or _ with a digit in it, never a name, an e-mail or a phone number
refusal-mentor-pupil = is a pupil only in pupil-to-pupil mentoring
refusal-mentee-named = names a child: pupils are mentored as a cohort or by their school's code, never by name
refusal-mentee-colleague = must be a colleague in this form of mentoring
refusal-within-programme-term = must fall within the programme's term
refusal-no-criteria = the programme has no monitoring criteria to score
refusal-misses-criterion = misses the criterion { $value }
refusal-not-in-programme = organization { $organization } does not take part in the programme
refusal-code-elsewhere = a pupil's code is kept only on the node of their school { $organization }; name a cohort of it instead
refusal-programmes-elsewhere = organization { $organization } is hosted on node { $node }; run its programmes there
refusal-programme-not-found = mentoring programme { $programme } not found
refusal-pair-not-found = mentoring pair { $pair } not found
refusal-pair-state = the pair is { $pair-state }, so it cannot be { $pair-transition }
refusal-programme-version = mentoring programme { $programme } is at version { $actual }, not the expected { $expected }
refusal-pair-version = mentoring pair { $pair } is at version { $actual }, not the expected { $expected }
refusal-programme-register = only the programme's coordinator, or an admin or coordinator of an organization taking part in it, may { $action }
refusal-programme-runs = only the programme's coordinator, or an admin or coordinator of the organization that runs it, may { $action }
refusal-pair-runs = only the programme's coordinator, or an admin or coordinator of the organization that runs it or of one of the pair's, may { $action }
refusal-action-run-mentoring = run the organization's mentoring programmes
refusal-action-read-mentoring-register = read the mentoring register
refusal-action-assess-mentoring = assess mentoring pairs and record their outcomes
refusal-programme-members = only members of the organizations taking part in the programme may { $action }
refusal-action-see-mentoring-programmes = see the organization's mentoring programmes
refusal-action-state-teacher-figures = state the organization's teachers and their growth
refusal-programme-full = a mentoring programme holds at most { $max } pairs and groups
refusal-pair-over = mentoring pair { $pair } is { $pair-state }: it meets no more
refusal-meeting-names-pair = a mentoring meeting names the pair it is for
refusal-meeting-partners-only = a mentoring meeting is seen by the pair's organizations only
refusal-not-pair-of-programme = is not a pair of this programme
refusal-not-pair-organization = is not one of the pair's organizations
refusal-required-with-pair = is required with mentoring_pair_id
refusal-growth-consent-own = only the person, as a member of organization { $organization }, may { $action }
refusal-growth-teacher = only the teacher, or an admin or coordinator of organization { $organization }, may { $action }
refusal-action-consent-growth = agree to this person's growth being recorded
refusal-action-record-growth = record this teacher's professional growth
refusal-growth-not-found = growth record { $record } not found
refusal-no-consent = person { $person } has not agreed to have their growth recorded by person in organization { $organization }
refusal-course-hours = a course states its hours
refusal-hours-course-only = only a course or an internship has hours

## Professional trials

refusal-action-manage-trials = prepare the organization's professional trials
refusal-action-review-trials = review professional trials for the network's bank
refusal-trial-not-found = professional trial { $trial } not found
refusal-trial-state = the trial is { $trial-state }, so it cannot { $trial-step }
refusal-trial-version = professional trial { $trial } is at version { $actual }, not the expected { $expected }
refusal-trial-comment = says what to change, or why the trial is refused
refusal-not-hosted-here = is not an organization hosted on this node
refusal-session-names-trial = a professional trial's session names its trial in the bank
refusal-trial-session-only = only a professional trial's session names a trial
refusal-trial-not-in-bank = professional trial { $trial } is not in the network's bank: it is { $trial-state }

## Designations

refusal-action-manage-designations = state the organization's designations
refusal-action-manage-routes = compose and assign the organization's learning routes
refusal-action-view-routes = see the organization's learning routes
refusal-action-read-audit-trail = read the organization's audit trail
refusal-action-erase-personal-data = erase this person's personal data
refusal-operator-not-erased = the node's operator is not erased while they run the node; make another person operator first
refusal-designation-not-found = designation { $designation } not found
refusal-designation-version = designation { $designation } is at version { $actual }, not the expected { $expected }
refusal-designation-direction = names the resource centre's direction
refusal-designation-olympiad = names the olympiad or programme
refusal-designation-project = names the site's project
refusal-designation-level = is required for an innovation site
refusal-designation-document = is required for an innovation site: the order or agreement that gave it
refusal-designation-term = is before valid_from
refusal-designation-count = is at most { $count }
refusal-designation-kind-needed = is required with a designation's field

## Learning routes

refusal-route-template-not-found = route template { $template } not found
refusal-route-not-found = route { $route } not found
refusal-route-template-version = route template { $template } is at version { $actual }, not the expected { $expected }
refusal-route-version = route { $route } is at version { $actual }, not the expected { $expected }
refusal-route-not-active = route { $route } is { $route-state }, no longer followed
refusal-route-offering = names an activity or (in resource_id) a resource to book, one of them
refusal-route-window = is not after from
refusal-route-year = is a year such as 2026
refusal-route-school-year = is the school year's first calendar year, e.g. 2026 for 2026/27
refusal-route-no-items = a route has at least one item
refusal-route-many-items = a route has at most { $max } items
refusal-route-booking-end = is not after its start
refusal-route-cohort-code = must be the cohort's code of 2 to 32 letters, digits, -, _ or . with a digit in it, e.g. 10И-2026
refusal-route-profiles-count = count { $count } pupils, more than the cohort's { $headcount }
refusal-route-above-cohort = is more than the cohort's { $headcount }
refusal-route-above-leavers = is more than the leavers
refusal-route-elective-required = item { $item } is required, not an elective
refusal-route-no-such-item = the template has no item { $item }
refusal-route-item-missing = the route has no item { $item }
refusal-route-item-not-chosen = item { $item } is not part of this cohort's route
refusal-route-grades = is for grades { $min }–{ $max }, not grade { $grade }
refusal-route-not-pupils = is not for pupils
refusal-route-no-occurrence = is not an occurrence of the activity
refusal-person-in-text = looks like { $what }: a route names cohorts by code and count, never a child; rewrite it without names or contacts
refusal-person-email = an e-mail address
refusal-person-phone = a phone number
refusal-person-patronymic = a patronymic
refusal-person-initials = initials and a surname
refusal-person-given-name = a given name
refusal-person-full-name = a name and a surname

## Venues

refusal-venue-required = is required: the activity is held at several venues
refusal-venue-unknown = the activity has no venue { $venue }
refusal-venue-seats = { $headcount } seats exceed what is free at the venue: { $taken } of { $capacity } are taken
refusal-venue-twice = venue { $venue } is listed twice
refusal-venue-capacity = { $headcount } people exceed the venue's { $capacity } seats

## Hardening

refusal-invisible-formatting = must not contain invisible formatting characters (a text direction override, a zero-width space)
refusal-far-occurrences = has occurrences as late as { $year }; every occurrence must fall between 1970 and 2200
refusal-undecodable = the request is not a valid protobuf message of this method
refusal-database-unavailable = the node's database is not answering; retry shortly
refusal-rate-limited = too many calls: retry in { $seconds } s
refusal-restore-not-empty = the database already holds a node's data: restore into a new, empty database (move the SQLite file aside, or create a new PostgreSQL database)
refusal-restore-schema-ahead = the database was set up with schema { $found }, newer than the backup's { $backup }: restore into a new, empty database
refusal-restore-schema-newer = the backup has schema { $backup }, newer than this edufed knows ({ $known }): restore it with the release that made it, or a later one
refusal-restore-mismatch = the backup does not fit the schema: { $why }
