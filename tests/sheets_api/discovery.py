"""Google's published discovery document for Sheets v4, as the test server's rule book.

The document is the ``sheets.v4.json`` shipped in ``google-api-python-client``
(a pinned test dependency). From it come the routes, the query parameters and
their enums, the request body schemas (checked recursively through ``$ref``),
the field masks of update requests and the partial-response ``fields``
selector. Anything the document does not allow is a 400 in Google's wording.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.sheets_api.model import ApiError

_INT32 = (-(2**31), 2**31 - 1)

MASK_TARGETS = {
    "RepeatCellRequest": "CellData",
    "UpdateCellsRequest": "CellData",
    "UpdateSheetPropertiesRequest": "SheetProperties",
    "UpdateDimensionPropertiesRequest": "DimensionProperties",
    "UpdateSpreadsheetPropertiesRequest": "SpreadsheetProperties",
    "UpdateProtectedRangeRequest": "ProtectedRange",
    "UpdateNamedRangeRequest": "NamedRange",
    "UpdateFilterViewRequest": "FilterView",
    "UpdateBandingRequest": "BandedRange",
    # "The fields of OverlayPosition ... The root newPosition.overlayPosition is implied" (its description).
    "UpdateEmbeddedObjectPositionRequest": "OverlayPosition",
    "UpdateDeveloperMetadataRequest": "DeveloperMetadata",
    "UpdateSlicerSpecRequest": "SlicerSpec",
    "UpdateDataSourceRequest": "DataSource",
}
"""The message each update request's ``fields`` mask names fields of."""


def discovery_path() -> Path:
    """Where the installed ``google-api-python-client`` keeps ``sheets.v4.json``."""
    spec = find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("google-api-python-client is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents" / "sheets.v4.json"


@dataclass(frozen=True)
class Method:
    """One API method of the document."""

    id: str
    http_method: str
    pattern: re.Pattern[str]
    parameters: dict[str, Any]
    request: str | None
    response: str | None

    @property
    def kind(self) -> str:
        """``sheets.spreadsheets.values.batchGet`` → ``values.batchGet``."""
        name = self.id.removeprefix("sheets.")
        return name if name.count(".") == 1 else name.removeprefix("spreadsheets.")


@dataclass(frozen=True)
class Route:
    """A request matched to a method, with its path parameters (decoded)."""

    method: Method
    path_params: dict[str, str]


class Discovery:
    """The document, indexed for validation."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["schemas"]
        self.global_parameters: dict[str, Any] = document["parameters"]
        methods = list(_methods(document["resources"]))
        # Longer literal tails first, so ".../values/{range}:append" wins over ".../values/{range}".
        self.methods = sorted(methods, key=lambda m: -len(re.sub(r"\(\?P<\w+>[^)]*\)", "", m.pattern.pattern)))

    # --- routes and query parameters -----------------------------------------

    def route(self, http_method: str, path: str) -> Route | None:
        """The method a path names (None: no such route; Google answers 404)."""
        for method in self.methods:
            match = method.pattern.match(path.lstrip("/"))
            if match and method.http_method == http_method:
                return Route(method, {k: unquote(v) for k, v in match.groupdict().items()})
        return None

    def check_query(self, method: Method, params: dict[str, list[str]]) -> None:
        """Unknown, repeated, mistyped or out-of-enum query parameters are a 400."""
        for name, values in params.items():
            spec = method.parameters.get(name) or self.global_parameters.get(name)
            if spec is None or spec.get("location") != "query":
                raise ApiError(400, f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                                    f"parameter. Field '{name}' could not be found in request message.")
            if len(values) > 1 and not spec.get("repeated"):
                raise ApiError(400, f"Invalid JSON payload received. Duplicate value for query parameter "
                                    f"'{name}'.")
            for value in values:
                _check_scalar(value, spec, _snake(name), query=True)

    # --- bodies --------------------------------------------------------------

    def check_body(self, method: Method, body: Any) -> None:
        """The body must be what the method's request schema allows (recursively)."""
        if method.request is None:
            if body not in (None, {}):
                raise ApiError(400, "Invalid JSON payload received. Unexpected request body.")
            return
        for _ in self.walk(body if body is not None else {}, method.request, ""):
            pass

    def walk(self, value: Any, schema_name: str, path: str) -> Iterator[tuple[str, Any, str]]:
        """Validate ``value`` as ``schema_name``; yield ``(schema, object, path)`` for every message inside."""
        yield from self._walk(value, {"$ref": schema_name}, path)

    def _walk(self, value: Any, spec: dict[str, Any], path: str) -> Iterator[tuple[str, Any, str]]:
        if value is None:
            return  # JSON null leaves a field at its default, as protobuf's JSON parser does
        ref = spec.get("$ref")
        if ref is not None:
            schema = self.schemas[ref]
            if schema.get("type") != "object" or "properties" not in schema:
                yield from self._walk(value, schema, path)
                return
            if not isinstance(value, dict):
                raise ApiError(400, f"Invalid value at '{path or 'body'}' (type.googleapis.com/"
                                    f"google.apps.sheets.v4.{ref}), {json.dumps(value)[:60]}")
            properties = schema["properties"]
            for key, item in value.items():
                if key not in properties:
                    where = f" at '{path}'" if path else ""
                    raise ApiError(400, f'Invalid JSON payload received. Unknown name "{key}"{where}: '
                                        "Cannot find field.")
                yield from self._walk(item, properties[key], _join(path, _snake(key)))
            if ref in MASK_TARGETS and "fields" in value:
                self.check_mask(value["fields"], MASK_TARGETS[ref], path)
            yield ref, value, path
            return
        kind = spec.get("type")
        if kind == "array":
            if not isinstance(value, list):
                raise ApiError(400, f"Invalid value at '{path}' (type.googleapis.com/google.protobuf.ListValue"
                                    f"), {json.dumps(value)[:60]}")
            for index, item in enumerate(value):
                yield from self._walk(item, spec.get("items", {}), f"{path}[{index}]")
        elif kind == "object":
            if not isinstance(value, dict):
                raise ApiError(400, f"Invalid value at '{path}' (type.googleapis.com/google.protobuf.Struct), "
                                    f"{json.dumps(value)[:60]}")
            extra = spec.get("additionalProperties")
            if extra is not None:
                for key, item in value.items():
                    yield from self._walk(item, extra, f"{path}[{key!r}]")
        elif kind == "any":
            return
        else:
            _check_scalar(value, spec, path, query=False)

    def check_mask(self, mask: Any, schema_name: str, path: str) -> None:
        """An update mask: ``*`` or comma-separated dotted paths of ``schema_name``."""
        if not isinstance(mask, str) or not mask.strip():
            raise ApiError(400, f"Invalid {path}: At least one field must be updated. Specify '*' to update "
                                "all fields.")
        if mask.strip() == "*":
            return
        for field_path in mask.split(","):
            schema: str | None = schema_name
            for part in field_path.strip().split("."):
                props = self.schemas[schema]["properties"] if schema else {}
                if part not in props:
                    raise ApiError(400, f"Invalid field mask at '{path}': '{field_path.strip()}' is not a field "
                                        f"of {schema_name}.")
                schema = _ref_of(props[part])

    # --- partial responses -----------------------------------------------------

    def select(self, method: Method, answer: Any, selector: str) -> Any:
        """Apply a ``fields`` selector (``sheets(properties,conditionalFormats)``) to an answer."""
        tree = _parse_selector(selector)
        if method.response is None:
            return answer
        self._check_selection(tree, method.response)
        return _apply_selection(answer, tree)

    def _check_selection(self, tree: dict[str, Any], schema_name: str | None) -> None:
        for name, sub in tree.items():
            if name == "*":
                continue
            props = self.schemas[schema_name]["properties"] if schema_name else {}
            if name not in props:
                raise ApiError(400, f"Invalid field selection {name}")
            if sub:
                self._check_selection(sub, _ref_of(props[name]))


@functools.cache
def discovery() -> Discovery:
    """The document, loaded once."""
    return Discovery(json.loads(discovery_path().read_text(encoding="utf-8")))


def _methods(resources: dict[str, Any]) -> Iterator[Method]:
    for resource in resources.values():
        for spec in resource.get("methods", {}).values():
            regex = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+?)", re.escape(spec["flatPath"]))
            yield Method(id=spec["id"], http_method=spec["httpMethod"], pattern=re.compile(f"^{regex}$"),
                         parameters=spec.get("parameters", {}), request=(spec.get("request") or {}).get("$ref"),
                         response=(spec.get("response") or {}).get("$ref"))
        yield from _methods(resource.get("resources", {}))


def _ref_of(spec: dict[str, Any]) -> str | None:
    if "$ref" in spec:
        return str(spec["$ref"])
    if spec.get("type") == "array":
        return _ref_of(spec.get("items", {}))
    return None


def _check_scalar(value: Any, spec: dict[str, Any], path: str, *, query: bool) -> None:
    kind, fmt = spec.get("type"), spec.get("format")

    def bad(type_name: str) -> ApiError:
        return ApiError(400, f"Invalid value at '{path}' ({type_name}), {json.dumps(value)[:80]}")

    if kind == "string":
        if not isinstance(value, str) and not (fmt in ("int64", "uint64") and _is_int(value)):
            raise bad("TYPE_STRING")
        enum = spec.get("enum")
        if enum and value not in enum:
            raise bad(f"type.googleapis.com/google.apps.sheets.v4.{_enum_name(path)}")
    elif kind == "integer":
        number = _as_int(value)
        if number is None or not _INT32[0] <= number <= _INT32[1]:
            raise bad("TYPE_INT32")
    elif kind == "number":
        if isinstance(value, bool) or not (isinstance(value, (int, float)) or _is_float_text(value)):
            raise bad("TYPE_DOUBLE" if fmt == "double" else "TYPE_FLOAT")
    elif kind == "boolean":
        if not (isinstance(value, bool) or (isinstance(value, str) and value in ("true", "false"))):
            raise bad("TYPE_BOOL")
        if isinstance(value, str) and not query:
            raise bad("TYPE_BOOL")


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _is_float_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _enum_name(path: str) -> str:
    last = re.sub(r"\[.*?\]", "", path).rsplit(".", 1)[-1]
    return "".join(part.capitalize() for part in last.split("_"))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _parse_selector(text: str) -> dict[str, Any]:
    """``a,b(c,d/e),f/g`` → ``{"a": {}, "b": {"c": {}, "d": {"e": {}}}, "f": {"g": {}}}``."""
    position = 0

    def parse_list() -> dict[str, Any]:
        nonlocal position
        tree: dict[str, Any] = {}
        while position < len(text):
            match = re.compile(r"\s*([A-Za-z_*][\w*]*(?:[/.][A-Za-z_*][\w*]*)*)\s*").match(text, position)
            if not match:
                raise ApiError(400, f"Invalid field selection {text}")
            position = match.end()
            node = tree
            for part in re.split(r"[/.]", match.group(1)):
                node = node.setdefault(part, {})
            if position < len(text) and text[position] == "(":
                position += 1
                node.update(parse_list())
                if position >= len(text) or text[position] != ")":
                    raise ApiError(400, f"Invalid field selection {text}")
                position += 1
            if position < len(text) and text[position] == ",":
                position += 1
                continue
            break
        return tree

    tree = parse_list()
    if position != len(text):
        raise ApiError(400, f"Invalid field selection {text}")
    return tree


def _apply_selection(value: Any, tree: dict[str, Any]) -> Any:
    if not tree or "*" in tree:
        return value
    if isinstance(value, list):
        return [_apply_selection(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: _apply_selection(value[key], sub) for key, sub in tree.items() if key in value}
