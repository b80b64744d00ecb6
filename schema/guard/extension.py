"""The guard on every operation: document size, introspection, cost, and the client's budget.

Before anything runs: a document longer than GRAPHQL_MAX_DOCUMENT_CHARS is refused unparsed;
introspection is answered as GRAPHQL_INTROSPECTION says; an operation whose requested cost is
above GRAPHQL_MAX_COST is refused (QUERY_TOO_COSTLY); its cost is taken from the client's bucket
(THROTTLED when it does not fit: HTTP answers 429 with Retry-After, a websocket operation gets the
error and the socket stays open). After it ran, the difference to the actual cost goes back to
the bucket, and the response carries `extensions.cost` (Shopify's shape).

The client: the user for people, the API key for machines, the address otherwise. A budget store
that fails (Redis away) lets operations through unmetered, and says so in the log: the bucket
protects the service, it must not take it down.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from schema.guard.budgets import Bucket, budget_store, client_key
from schema.guard.cost import CostRules, actual_cost, requested_cost

logger = logging.getLogger("majestic.graphql.guard")

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
THROTTLED = "THROTTLED"
DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class Client:
    label: str  # who: `user:<uuid>`, `key:<name>` or `address:<ip>`
    key: str  # the bucket's name (an HMAC of the label)
    bucket: Bucket


def client_of(context: Any) -> Client:
    principal = getattr(context, "principal", None)
    bucket = Bucket(settings.GRAPHQL_COST_BUCKET_SIZE, settings.GRAPHQL_COST_RESTORE_RATE)
    if principal is not None and principal.is_user:
        identity = f"user:{principal.user_uuid}"
    elif principal is not None and principal.is_api_key:
        identity = f"key:{principal.api_key_name}"
        for scope, (size, rate) in settings.GRAPHQL_COST_BUCKETS_BY_SCOPE.items():
            if principal.has_scope(scope) and size > bucket.size:
                bucket = Bucket(size, rate)
    else:
        identity = f"address:{getattr(context, 'client_address', 'unknown')}"
    return Client(identity, client_key(identity), bucket)


@cache
def rules_for(schema: Any) -> CostRules:
    """The cost rules of a built graphql-core schema (read once per schema)."""
    return CostRules(
        schema,
        default_list_size=settings.GRAPHQL_MAX_PAGE_SIZE,
        max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE,
    )


def _error(message: str, code: str, **details: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **details})


def _asks_introspection(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> bool:
    """`__schema` or `__type` at the root (the only place they exist), directly or through the
    root's fragments."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in INTROSPECTION_FIELDS:
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _asks_introspection(selection.selection_set, fragments, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                if _asks_introspection(fragments[name].selection_set, fragments, seen):
                    return True
    return False


def introspection_allowed(context: Any) -> bool:
    policy = settings.GRAPHQL_INTROSPECTION
    if policy == "on":
        return True
    principal = getattr(context, "principal", None)
    return policy == "staff" and principal is not None and principal.is_staff


@dataclass
class Admission:
    """What `admit` decided: a refusal (errors), or the cost taken and from whom."""

    refusal: list[GraphQLError] | None = None
    report: dict[str, Any] | None = None
    rules: CostRules | None = None
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDefinitionNode] | None = None
    client: Client | None = None
    requested: int = 0
    available: float | None = None  # None: not metered (budget store away)


def admit(
    graphql_schema: Any,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    context: Any,
) -> Admission:
    """Introspection rights, paging bounds, the cost limit and the client's budget, checked
    before an operation runs; its requested cost is taken from the budget when admitted."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:  # graphql-core reports that itself
        return Admission()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if not introspection_allowed(context) and _asks_introspection(
        operation.selection_set, fragments, set()
    ):
        return Admission(
            refusal=[
                _error("Introspection is not available to this caller.", INTROSPECTION_DISABLED)
            ]
        )
    # Priced with the variables as execution will see them: the operation's defaults applied
    # (`query($all: Boolean = true) { x @include(if: $all) }` sent without variables runs x).
    coerced = get_variable_values(
        graphql_schema, operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):  # execution refuses them with graphql-core's own errors
        return Admission()
    rules = rules_for(graphql_schema)
    try:
        walked = requested_cost(rules, operation, fragments, coerced.coerced)
    except Exception:  # never let an operation through unmeasured
        logger.exception("Could not price an operation")
        return Admission(refusal=[_error("The operation could not be priced.", QUERY_TOO_COSTLY)])
    if walked.refusals:
        return Admission(refusal=walked.refusals)
    requested, limit, client = walked.cost, settings.GRAPHQL_MAX_COST, client_of(context)
    if requested > limit:
        return Admission(
            refusal=[
                _error(
                    f"The operation costs {requested}; at most {limit} allowed.",
                    QUERY_TOO_COSTLY,
                    cost=requested,
                    limit=limit,
                )
            ],
            report=cost_report(requested, 0, client, None),
        )
    taken = None
    try:
        taken = budget_store().take(client.key, requested, client.bucket)
    except Exception:  # Redis away: unmetered rather than down
        logger.warning("Cost budget unavailable: operation not metered", exc_info=True)
    if taken is not None and not taken.allowed:
        retry = math.ceil(taken.retry_after) if math.isfinite(taken.retry_after) else None
        _count_refusal(client)
        return Admission(
            refusal=[
                _error(
                    f"Cost budget exhausted: this operation costs {requested}, "
                    f"{math.floor(taken.available)} available"
                    + (f"; retry in {retry} s." if retry is not None else "."),
                    THROTTLED,
                    cost=requested,
                    retryAfter=retry,
                )
            ],
            report=cost_report(requested, 0, client, taken.available),
        )
    return Admission(
        rules=rules,
        operation=operation,
        fragments=fragments,
        client=client,
        requested=requested,
        available=taken.available if taken is not None else None,
    )


def _count_refusal(client: Client) -> None:
    try:
        budget_store().count_refusal(client.label)
    except Exception:
        logger.warning("Cost budget unavailable: refusal not counted", exc_info=True)


def most_throttled_clients(limit: int = 10) -> list[tuple[str, int]]:
    """The clients refused most often in the last hour, for the ops view (staff only)."""
    try:
        return budget_store().most_refused(limit)
    except Exception:
        logger.warning("Cost budget unavailable: no refusal tally", exc_info=True)
        return []


def settle(admission: Admission, data: Any) -> dict[str, Any] | None:
    """After the operation ran: what it did not use goes back to the budget; the cost report."""
    if admission.client is None or admission.rules is None or admission.operation is None:
        return admission.report
    assert admission.fragments is not None  # set with the operation
    actual = min(
        admission.requested,
        actual_cost(admission.rules, admission.operation, admission.fragments, data),
    )
    available = admission.available
    if available is not None and admission.requested > actual:
        try:
            available = budget_store().give_back(
                admission.client.key, admission.requested - actual, admission.client.bucket
            )
        except Exception:
            logger.warning("Cost budget unavailable: refund lost", exc_info=True)
    return cost_report(admission.requested, actual, admission.client, available)


def cost_report(
    requested: int, actual: int, client: Client, available: float | None
) -> dict[str, Any]:
    """`extensions.cost`, in Shopify's shape."""
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": client.bucket.size,
            "currentlyAvailable": math.floor(available) if available is not None else None,
            "restoreRate": client.bucket.rate,
        },
    }


class OperationGuard(SchemaExtension):
    def __init__(self, *, execution_context: Any = None) -> None:
        self.execution_context = execution_context
        self.report: dict[str, Any] | None = None

    def on_parse(self) -> Iterator[None]:
        check_document_size(self.execution_context.query or "")
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if (
            document is None
            or operation is None
            or operation.operation == OperationType.SUBSCRIPTION
        ):
            # Subscriptions are admitted by their transport before they start (admit_subscription):
            # here they would be charged again, and could not be refused.
            yield
            return
        admission = admit(
            context.schema._schema,  # Strawberry's graphql-core schema
            document,
            context.operation_name,
            context.variables,
            context.context,
        )
        if admission.refusal is not None:
            # Set before the yield: Strawberry then runs no resolver (nor does graphql-core).
            context.result = ExecutionResult(data=None, errors=admission.refusal)
            self.report = admission.report
            yield
            return
        yield
        self.report = settle(admission, getattr(context.result, "data", None))

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.report} if self.report is not None else {}


def check_document_size(query: str) -> None:
    limit = settings.GRAPHQL_MAX_DOCUMENT_CHARS
    if len(query) > limit:
        raise GraphQLError(
            f"The document has {len(query)} characters; at most {limit} allowed.",
            extensions={"code": DOCUMENT_TOO_LARGE, "found": len(query), "allowed": limit},
        )


def admit_subscription(
    graphql_schema: Any, query: str, operation_name: str | None, variables: Any, context: Any
) -> list[GraphQLError] | None:
    """The guard for a subscription, before it starts (Strawberry's streaming path runs no
    resolver-free refusal from an extension): its cost is taken once, for the subscription
    as a whole; events are not metered one by one. None: admitted."""
    try:
        check_document_size(query)
        document = parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError:
        return None  # Strawberry's own parse reports it, with its code
    if validate(graphql_schema, document):
        return None  # and its validation: only valid documents are priced
    admission = admit(graphql_schema, document, operation_name, variables, context)
    return admission.refusal
