"""Reads the routes out of `infra/template.yaml`: which function each rule sends which events to.

Both the local bus (which calls the handlers in-process) and the tests that build the same rules on
a moto server read the template through here, so the template stays the one source of routing.

Understood: SAM functions with `EventBridgeRule` and `Schedule` events, and plain
`AWS::Events::Rule` resources whose targets are functions (`!GetAtt Fn.Arn`). Intrinsics are
resolved as far as routing needs: `Ref` and `Fn::Sub` of parameters and pseudo parameters,
`Fn::Join`; anything else stays a `{"Fn::…": …}` dict (and a pattern holding one is refused).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from events.patterns import EventPattern, InvalidEventPattern

SAM_FUNCTION = "AWS::Serverless::Function"
EVENTS_RULE = "AWS::Events::Rule"
EVENT_BUS = "AWS::Events::EventBus"

# Stand-ins for pseudo parameters when routing locally (no AWS account).
LOCAL_PSEUDO_PARAMETERS = {
    "AWS::Region": "local",
    "AWS::AccountId": "000000000000",
    "AWS::Partition": "aws",
    "AWS::StackName": "majestic",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}


class TemplateError(ValueError):
    """The template cannot be routed from (unreadable, or a rule we cannot interpret)."""


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that reads the short intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`, …)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:  # the one other kind of node
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TemplateError(f"Cannot read the template {path}: {exc.strerror}") from exc
    document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources).")
    return document


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str  # as in the template, e.g. "functions.distribution.app.handler"
    code_dir: Path  # CodeUri resolved against the template's folder
    environment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One rule and the function it targets; exactly one of pattern and schedule is set."""

    name: str
    function: Function
    event_bus: str | None = None
    pattern: EventPattern | None = None
    schedule: str | None = None
    retry_policy: dict[str, Any] = field(default_factory=dict)
    dead_letter: dict[str, Any] = field(default_factory=dict)

    @property
    def pattern_document(self) -> dict[str, Any]:
        return dict(self.pattern.pattern) if self.pattern else {}


@dataclass(frozen=True)
class Routing:
    functions: dict[str, Function]
    rules: list[Rule]
    bus_name: str | None

    def event_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.pattern is not None]

    def schedule_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.schedule is not None]

    def rules_matching(self, event: Mapping[str, Any]) -> list[Rule]:
        return [r for r in self.event_rules() if r.pattern is not None and r.pattern.matches(event)]


class _Resolver:
    def __init__(self, template: dict[str, Any], parameters: Mapping[str, Any]) -> None:
        declared = template.get("Parameters") or {}
        self.values: dict[str, Any] = dict(LOCAL_PSEUDO_PARAMETERS)
        for name, spec in declared.items():
            if isinstance(spec, dict) and "Default" in spec:
                self.values[name] = spec["Default"]
        self.values.update(parameters)
        self.resources = template["Resources"]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self._ref(value)
            if key == "Fn::Sub":
                return self._sub(value)
            if key == "Fn::Join" and isinstance(value, list) and len(value) == 2:
                parts = self.resolve(value[1])
                if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
                    return str(value[0]).join(parts)
        return {k: self.resolve(v) for k, v in node.items()}

    def _ref(self, name: Any) -> Any:
        if name in self.values:
            return self.values[name]
        resource = self.resources.get(name)
        if isinstance(resource, dict) and resource.get("Type") == EVENT_BUS:
            # Ref of an event bus is its name.
            return self.resolve((resource.get("Properties") or {}).get("Name", name))
        return {"Ref": name}

    def _sub(self, value: Any) -> Any:
        if isinstance(value, list) and len(value) == 2:
            text, extra = value[0], {k: self.resolve(v) for k, v in (value[1] or {}).items()}
        else:
            text, extra = value, {}
        if not isinstance(text, str):
            return {"Fn::Sub": value}
        unresolved = False

        def replace(match: re.Match[str]) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            found = extra.get(name, self.values.get(name))
            if not isinstance(found, str | int | float):
                unresolved = True
                return match.group(0)
            return str(found)

        result = re.sub(r"\$\{([^}]+)\}", replace, text)
        return {"Fn::Sub": value} if unresolved else result


def read_routing(path: str | Path, *, parameters: Mapping[str, Any] | None = None) -> Routing:
    """The functions and rules of the template at `path`, with `parameters` overriding defaults."""
    template = load_template(path)
    resolver = _Resolver(template, parameters or {})
    template_dir = Path(path).resolve().parent
    globals_ = ((template.get("Globals") or {}).get("Function")) or {}
    functions: dict[str, Function] = {}
    rules: list[Rule] = []
    bus_name = None

    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            continue
        if resource.get("Type") == EVENT_BUS:
            bus_name = resolver.resolve((resource.get("Properties") or {}).get("Name"))
        if resource.get("Type") != SAM_FUNCTION:
            continue
        properties = {**globals_, **(resource.get("Properties") or {})}
        handler = properties.get("Handler")
        code_uri = resolver.resolve(properties.get("CodeUri", "."))
        if not isinstance(handler, str) or not isinstance(code_uri, str):
            raise TemplateError(
                f"{logical_id}: Handler and a local CodeUri path are needed to run it locally."
            )
        environment = resolver.resolve(
            ((properties.get("Environment") or {}).get("Variables")) or {}
        )
        function = Function(logical_id, handler, (template_dir / code_uri).resolve(), environment)
        functions[logical_id] = function
        for event_name, event in (properties.get("Events") or {}).items():
            rule = _sam_event_rule(f"{logical_id}.{event_name}", event, function, resolver)
            if rule is not None:
                rules.append(rule)

    for logical_id, resource in template["Resources"].items():
        if isinstance(resource, dict) and resource.get("Type") == EVENTS_RULE:
            rules.extend(
                _events_rule(logical_id, resource.get("Properties") or {}, functions, resolver)
            )
    return Routing(functions=functions, rules=rules, bus_name=bus_name)


def _compiled(pattern: Any, where: str) -> EventPattern:
    try:
        return EventPattern(pattern)
    except InvalidEventPattern as exc:
        raise TemplateError(f"{where}: invalid event pattern: {exc}") from exc


def _sam_event_rule(name: str, event: Any, function: Function, resolver: _Resolver) -> Rule | None:
    if not isinstance(event, dict):
        return None
    kind = event.get("Type")
    properties = resolver.resolve(event.get("Properties") or {})
    common: dict[str, Any] = {
        "name": name,
        "function": function,
        "retry_policy": properties.get("RetryPolicy") or {},
        "dead_letter": properties.get("DeadLetterConfig") or {},
    }
    if kind in ("EventBridgeRule", "CloudWatchEvent"):
        return Rule(
            **common,
            event_bus=properties.get("EventBusName"),
            pattern=_compiled(properties.get("Pattern"), name),
        )
    if kind in ("Schedule", "ScheduleV2"):
        expression = properties.get("Schedule") or properties.get("ScheduleExpression")
        if properties.get("Enabled") is False or properties.get("State") == "DISABLED":
            return None
        return Rule(**common, schedule=expression)
    return None


def _events_rule(
    logical_id: str, properties: dict[str, Any], functions: dict[str, Function], resolver: _Resolver
) -> list[Rule]:
    properties = resolver.resolve(properties)
    if properties.get("State") == "DISABLED":
        return []
    rules = []
    for target in properties.get("Targets") or []:
        arn = target.get("Arn")
        # Only functions of this template can run locally: `!GetAtt SomeFunction.Arn`.
        if (
            isinstance(arn, dict)
            and isinstance(arn.get("Fn::GetAtt"), list)
            and arn["Fn::GetAtt"][0] in functions
        ):
            function = functions[arn["Fn::GetAtt"][0]]
            name = f"{logical_id}.{target.get('Id', function.logical_id)}"
            common: dict[str, Any] = {
                "name": name,
                "function": function,
                "retry_policy": target.get("RetryPolicy") or {},
                "dead_letter": target.get("DeadLetterConfig") or {},
            }
            if "EventPattern" in properties:
                rules.append(
                    Rule(
                        **common,
                        event_bus=properties.get("EventBusName"),
                        pattern=_compiled(properties["EventPattern"], name),
                    )
                )
            elif "ScheduleExpression" in properties:
                rules.append(Rule(**common, schedule=properties["ScheduleExpression"]))
    return rules
