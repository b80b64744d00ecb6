"""The event-pattern matcher behaves as EventBridge's content filtering does."""

import pytest

from events.patterns import EventPattern, InvalidEventPattern, matches

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "TransportCompleted",
    "source": "majestic.shipping",
    "account": "111122223333",
    "time": "2026-11-28T04:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-abc"],
    "detail": {
        "eventId": "0b9f",
        "version": 1,
        "correlationId": "req-42",
        "actor": {"type": "user", "uuid": "u-1"},
        "data": {
            "transportUuid": "t-1",
            "sourceCenterCode": "NYC-01",
            "destinationCenterCode": "bos-02",
            "trackingNumbers": ["MJ0001", "MJ0002", "XX0003"],
            "itemCount": 3,
            "weightKg": 12.5,
            "express": True,
            "note": None,
            "empty": "",
            "ip": "10.0.3.7",
            "file": "reports/2026/summary.PNG",
            "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 5}],
            "nested": {"level": {"deep": "yes"}},
        },
    },
}
# The source prefix ("majestic."; a generated project's own, once renamed), for case tests.
SOURCE_PREFIX = str(EVENT["source"]).split(".")[0] + "."


def data_pattern(**conditions):
    return {"detail": {"data": conditions}}


@pytest.mark.parametrize(
    "pattern,expected",
    [
        # exact values; an array of values is an OR
        ({"source": ["majestic.shipping"]}, True),
        ({"source": ["majestic.auth"]}, False),
        ({"source": ["majestic.auth", "majestic.shipping"]}, True),
        ({"detail-type": ["transportcompleted"]}, False),  # exact is case-sensitive
        # all fields must match (AND)
        ({"source": ["majestic.shipping"], "detail-type": ["TransportStarted"]}, False),
        ({"source": ["majestic.shipping"], "detail-type": ["TransportCompleted"]}, True),
        # numbers, booleans, null and the empty string
        (data_pattern(itemCount=[3]), True),
        (data_pattern(itemCount=[3.0]), True),
        (data_pattern(itemCount=["3"]), False),  # a string never equals a number
        (data_pattern(express=[True]), True),
        (data_pattern(express=[1]), False),  # nor a boolean a number
        (data_pattern(note=[None]), True),
        (data_pattern(missing=[None]), False),  # null needs the field present
        (data_pattern(empty=[""]), True),
        # an event array matches when any element does
        (data_pattern(trackingNumbers=["MJ0002"]), True),
        (data_pattern(trackingNumbers=["MJ9999"]), False),
        # prefix / suffix, also ignoring case
        ({"source": [{"prefix": "majestic."}]}, True),
        ({"source": [{"prefix": "Majestic."}]}, False),
        ({"source": [{"prefix": {"equals-ignore-case": SOURCE_PREFIX.upper()}}]}, True),
        (data_pattern(file=[{"suffix": ".png"}]), False),
        (data_pattern(file=[{"suffix": {"equals-ignore-case": ".png"}}]), True),
        (data_pattern(itemCount=[{"prefix": "3"}]), False),  # prefix applies to strings only
        # equals-ignore-case
        (data_pattern(destinationCenterCode=[{"equals-ignore-case": "BOS-02"}]), True),
        (data_pattern(destinationCenterCode=[{"equals-ignore-case": "BOS-03"}]), False),
        # anything-but: one value, a list, a prefix, a suffix, ignoring case, wildcard
        ({"detail-type": [{"anything-but": "TransportStarted"}]}, True),
        ({"detail-type": [{"anything-but": ["TransportStarted", "TransportCompleted"]}]}, False),
        (data_pattern(itemCount=[{"anything-but": 3}]), False),
        (data_pattern(itemCount=[{"anything-but": [4, 5]}]), True),
        (data_pattern(missing=[{"anything-but": "x"}]), False),  # needs the field present
        ({"source": [{"anything-but": {"prefix": "majestic."}}]}, False),
        ({"source": [{"anything-but": {"prefix": "aws."}}]}, True),
        ({"source": [{"anything-but": {"prefix": ["aws.", "majestic."]}}]}, False),
        (data_pattern(file=[{"anything-but": {"suffix": ".PNG"}}]), False),
        (
            data_pattern(
                destinationCenterCode=[{"anything-but": {"equals-ignore-case": ["BOS-02"]}}]
            ),
            False,
        ),
        (
            data_pattern(
                destinationCenterCode=[{"anything-but": {"equals-ignore-case": "NYC-01"}}]
            ),
            True,
        ),
        (data_pattern(file=[{"anything-but": {"wildcard": "reports/*"}}]), False),
        # anything-but over an array: matches when some element is not excluded
        (data_pattern(trackingNumbers=[{"anything-but": {"prefix": "MJ"}}]), True),
        (data_pattern(trackingNumbers=[{"anything-but": ["MJ0001", "MJ0002", "XX0003"]}]), False),
        # numeric ranges and equality
        (data_pattern(itemCount=[{"numeric": [">", 0, "<=", 3]}]), True),
        (data_pattern(itemCount=[{"numeric": [">", 3]}]), False),
        (data_pattern(weightKg=[{"numeric": ["=", 12.5]}]), True),
        (data_pattern(weightKg=[{"numeric": [">=", 12.6]}]), False),
        (
            data_pattern(destinationCenterCode=[{"numeric": [">", 0]}]),
            False,
        ),  # strings are not numbers
        (data_pattern(express=[{"numeric": ["=", 1]}]), False),  # nor booleans
        # exists
        (data_pattern(note=[{"exists": True}]), True),  # null is present
        (data_pattern(missing=[{"exists": True}]), False),
        (data_pattern(missing=[{"exists": False}]), True),
        (data_pattern(itemCount=[{"exists": False}]), False),
        ({"detail": {"nowhere": {"deeper": [{"exists": False}]}}}, True),
        (data_pattern(nested=[{"exists": True}]), False),  # exists looks at leaves, not objects
        # wildcard
        (data_pattern(file=[{"wildcard": "reports/*/summary.PNG"}]), True),
        (data_pattern(file=[{"wildcard": "reports/*.png"}]), False),
        (data_pattern(file=[{"wildcard": "*"}]), True),
        ({"source": [{"wildcard": "majestic.*"}]}, True),
        ({"source": [{"wildcard": "*.auth"}]}, False),
        # cidr
        (data_pattern(ip=[{"cidr": "10.0.0.0/16"}]), True),
        (data_pattern(ip=[{"cidr": "10.1.0.0/16"}]), False),
        (data_pattern(file=[{"cidr": "10.0.0.0/8"}]), False),
        # nested objects
        ({"detail": {"actor": {"type": ["user"]}}}, True),
        ({"detail": {"actor": {"type": ["apiKey"]}}}, False),
        ({"detail": {"data": {"nested": {"level": {"deep": ["yes"]}}}}}, True),
        ({"detail": {"data": {"sourceCenterCode": {"deeper": ["x"]}}}}, False),  # scalar, no object
        # arrays of objects: one object must satisfy the nested pattern
        (data_pattern(items={"sku": ["B"], "qty": [5]}), True),
        (data_pattern(items={"sku": ["A"], "qty": [5]}), False),
        (data_pattern(items={"qty": [{"numeric": [">", 4]}]}), True),
        # $or, at the top and nested
        ({"$or": [{"source": ["majestic.auth"]}, {"detail-type": ["TransportCompleted"]}]}, True),
        ({"$or": [{"source": ["majestic.auth"]}, {"detail-type": ["TransportStarted"]}]}, False),
        (
            {
                "source": ["majestic.shipping"],
                "detail": {
                    "data": {"$or": [{"itemCount": [{"numeric": [">", 10]}]}, {"express": [True]}]}
                },
            },
            True,
        ),
        # several matchers for one field: any of them
        (data_pattern(itemCount=[{"numeric": [">", 100]}, {"exists": False}, 3]), True),
        (data_pattern(missing=[{"prefix": "x"}, {"exists": False}]), True),
        # a resource ARN
        ({"resources": [{"prefix": "arn:aws:ec2:"}]}, True),
    ],
)
def test_pattern_matching(pattern, expected):
    assert matches(pattern, EVENT) is expected


def test_a_compiled_pattern_is_reusable_across_events():
    pattern = EventPattern(
        {"source": ["majestic.shipping"], "detail-type": ["TransportStarted", "TransportCompleted"]}
    )
    started = {**EVENT, "detail-type": "TransportStarted"}
    created = {**EVENT, "detail-type": "TransportCreated"}
    assert [pattern.matches(e) for e in (EVENT, started, created)] == [True, True, False]


def test_wildcard_escapes_stars_and_backslashes():
    assert matches({"k": [{"wildcard": r"a\*b"}]}, {"k": "a*b"})
    assert not matches({"k": [{"wildcard": r"a\*b"}]}, {"k": "axxb"})
    assert matches({"k": [{"wildcard": "a\\\\b*"}]}, {"k": "a\\bcd"})


@pytest.mark.parametrize(
    "pattern,where",
    [
        ({}, "non-empty"),
        ({"source": "majestic.shipping"}, "source"),
        ({"source": []}, "source"),
        ({"source": [{"prefix": 3}]}, "source[0].prefix"),
        ({"source": [{"prefix": "a", "suffix": "b"}]}, "exactly one operator"),
        ({"source": [{"nope": "a"}]}, "unknown operator"),
        ({"n": [{"numeric": [">"]}]}, "pairs"),
        ({"n": [{"numeric": ["~", 3]}]}, "unknown numeric operator"),
        ({"n": [{"numeric": [">", "3"]}]}, "expected a number"),
        ({"n": [{"numeric": [">", 1, "<", 5, "<", 6]}]}, "at most"),
        ({"n": [{"exists": "yes"}]}, "exists"),
        ({"n": [{"wildcard": "a**b"}]}, "consecutive"),
        ({"n": [{"wildcard": "a\\b"}]}, "backslash"),
        ({"n": [{"cidr": "not-a-net"}]}, "CIDR"),
        ({"n": [{"anything-but": []}]}, "non-empty"),
        ({"n": [{"anything-but": [None]}]}, "strings or numbers"),
        ({"n": [{"anything-but": {"numeric": [">", 1]}}]}, "cannot be negated"),
        ({"n": [{"anything-but": {"prefix": 1}}]}, "string"),
        ({"$or": [{"a": ["x"]}]}, "at least two"),
        ({"$or": [{"a": ["x"]}, "b"]}, "$or[1]"),
        ({"detail": {}}, "must not be empty"),
        ({"n": [[1]]}, "list is not a value"),
    ],
)
def test_invalid_patterns_are_refused_with_where(pattern, where):
    with pytest.raises(InvalidEventPattern, match=__import__("re").escape(where)):
        EventPattern(pattern)
