"""Completion from the data model's declared values: filters the words name, names that are values, a vendor's attributes."""

from __future__ import annotations

import re
from typing import Any

from tools.toolnames import ANALYZE_DATA, EXPORT_REPORT, FILTER_DATA

from ..parser.patterns import TOKEN
from ..parser.vocabulary import vocabulary

from .query import query_parts, with_query
from .words import FILTER_FIELDS, _forms, form_pattern

NEGATION = re.compile(r"\b(?:not|non|isn't|aren't|wasn't|weren't|without|no)\s+(?:yet\s+|been\s+|be\s+)?$")


def declared_values(text: str, dataset: str | None, model: Any = None) -> dict[str, Any]:
    """Filters that the data model's declarations name in the text, for one dataset: a declared value of a
    categorical dimension ("inactive" -> status inactive on vendors, "UPI" -> method UPI on transactions),
    and a boolean dimension said plainly or negated ("verified" -> true; "not verified", "unverified" -> false)."""
    if not dataset:
        return {}
    vocab = vocabulary(model)
    ds = vocab.model.datasets.get(dataset)
    if ds is None:
        return {}
    text = re.sub(r"(?<=\w)[’']s\b", "", text)  # "Travel's share": the value Travel
    out: dict[str, Any] = {}
    for h in vocab.find(text):
        for t in h.terms:
            if t.dataset != dataset or t.name not in ds.dimensions:
                continue
            dim = ds.dimensions[t.name]
            if t.kind == "value" and not any(o.kind != "value" for o in h.terms if o.dataset == dataset):
                out.setdefault(t.name, t.value)
            elif t.kind == "dimension" and dim.type == "boolean":
                before = text[: h.start]
                negated = bool(NEGATION.search(before)) or before.endswith(("un", "non-", "non"))
                out.setdefault(t.name, not negated)
    low = text.lower()
    absent, codes = _value_patterns(ds)
    for name, v, rx in absent:  # "no GSTIN", "without GSTIN": the declared value "GSTIN missing"
        if rx.search(low):
            out.setdefault(name, v)
    for name, patterns in codes:  # "vendor code ACM-V003": a code's value
        for rx in patterns:
            m = rx.search(low)
            if m and re.search(r"[a-z]", m.group(1)) and re.search(r"[-/]|[a-z]\d", m.group(1)):
                out.setdefault(name, m.group(1).upper())
                break
    for m in re.finditer(r"\b(?:un|non-?)([a-z]+)\b", text):  # "unverified": a boolean's synonym, negated
        for h in vocab.find(m.group(1)):
            for t in h.terms:
                if t.dataset == dataset and t.kind == "dimension" and ds.dimensions[t.name].type == "boolean":
                    out[t.name] = False
    return out


Absent = list[tuple[str, str, re.Pattern[str]]]  # (dimension, declared value "GSTIN missing", "no GSTIN")
Codes = list[tuple[str, list[re.Pattern[str]]]]  # (dimension, its names followed by a code, longest first)
_patterns: dict[int, tuple[Any, Absent, Codes]] = {}


def _value_patterns(ds: Any) -> tuple[Absent, Codes]:
    """A dataset's declared values said by their absence, and its code columns by name, compiled once per
    data model (they are read on every turn)."""
    kept = _patterns.get(id(ds))
    if kept is not None and kept[0] is ds:
        return kept[1], kept[2]
    absent: Absent = []
    codes: Codes = []
    for name, dim in ds.dimensions.items():
        for v in dim.values or []:
            if v.lower().endswith(" missing"):
                thing = re.escape(v[: -len(" missing")].lower())
                absent.append((name, v, re.compile(rf"\b(?:no|without|missing)\s+(?:a\s+|an\s+|the\s+)?{thing}\b")))
        if dim.type == "string" and not dim.values and not dim.lookup:
            words = {w for w in [name.replace("_", " "), dim.label or "", *(dim.synonyms or [])] if len(w) >= 4}
            codes.append(
                (
                    name,
                    [
                        re.compile(
                            rf"\b{re.escape(w.lower())}\s*(?:is\s+|=\s*|:\s*)?([a-z]{{0,6}}[-/]?[a-z0-9]*\d[a-z0-9/-]*)\b"
                        )
                        for w in sorted(words, key=len, reverse=True)
                    ],
                )
            )
    _patterns[id(ds)] = (ds, absent, codes)
    return absent, codes


def looked_up_values(text: str, dataset: str | None, lookups: dict[str, list[str]] | None) -> dict[str, Any]:
    """Filters that a stored value of a lookup dimension names in the text ("laptop sales": product Laptop),
    for one dataset; a dimension two of whose values are named is left alone (which one is meant?)."""
    if not dataset or not lookups:
        return {}
    low = text.lower()
    out: dict[str, Any] = {}
    for key, values in lookups.items():
        ds_name, _, dim = key.partition(".")
        if ds_name != dataset:
            continue
        hits = {v for v in values if any(form_pattern(f).search(low) for f in _forms(v))}
        if len(hits) == 1:
            out[dim] = next(iter(hits))
    return out


def is_looked_up(name: str, lookups: dict[str, list[str]] | None) -> bool:
    """A "name" the parser passed through that is really a stored value of another lookup ("laptop")."""
    low = name.lower().strip()
    return any(low in _forms(v) for values in (lookups or {}).values() for v in values)


def _name_is_a_value(record: dict[str, Any], full: str, dataset: str, model: Any) -> dict[str, Any]:
    """ "Travel vendors": the name matcher found "Vayu Travels" through the one word "travel", which is a
    declared value (vendor category Travel). When no other word of the name is in the message, the word
    was the value, not the name."""
    params, query = query_parts(record)
    full = re.sub(r"(?<=\w)[’']s\b", "", full)
    words = set(TOKEN.findall(full))
    values = declared_values(full, dataset, model)
    found: dict[str, Any] = {}
    for field in ("vendor", "customer"):
        name = (
            params.get(field)
            if record.get("tool") != ANALYZE_DATA
            else next((f.get("value") for f in query.get("filters") or [] if f.get("field") == field), None)
        )
        if not isinstance(name, str):
            continue
        for dim, value in values.items():
            if not isinstance(value, str):
                continue
            said = {w for w in TOKEN.findall(value.lower())}
            said |= {w + "s" for w in said} | {w.rstrip("s") for w in said}
            own = set(TOKEN.findall(name.lower())) - said
            if own and not own & words and said & set(TOKEN.findall(name.lower())):
                found[field] = (dim, value)
    if not found:
        return record
    for field, (dim, value) in found.items():
        if record.get("tool") == ANALYZE_DATA:
            filters = [f for f in query.get("filters") or [] if f.get("field") != field]
            query["filters"] = [*filters, {"field": dim, "value": value}]
        else:
            params.pop(field, None)
            params["where"] = {**dict(params.get("where") or {}), dim: value}
    why = "a declared value, not a name"
    if record.get("tool") == ANALYZE_DATA:
        return with_query(record, params, query, why)
    return {**record, "params": params, "reason": f"{record.get('reason') or ''}; {why}"}


def _all_values(model: Any) -> set[str]:
    """Every declared value of every dataset, lower case."""
    return {
        v.lower()
        for ds in vocabulary(model).model.datasets.values()
        for d in ds.dimensions.values()
        for v in d.values or []
    }


def with_declared_values(
    record: dict[str, Any],
    text: str,
    model: Any = None,
    full: str | None = None,
    lookups: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The router's tool call, completed with the filters the data model's values name in the message and
    the call does not have yet (a listing of vendors asked for "inactive" ones filters on it). A message no
    rule read that names one dataset and some of its declared values is a listing of them."""
    if record.get("kind") == "clarify" and record.get("reason") == "no intent matched":
        named = {t.dataset for h in vocabulary(model).find(text) for t in h.terms if t.kind == "dataset"}
        if len(named) == 1 and declared_values(text, next(iter(named)), model):
            record = {
                **record,
                "kind": "tool",
                "tool": FILTER_DATA,
                "params": {"dataset": next(iter(named))},
                "question": None,
                "confidence": 0.6,
                "reason": "a dataset and its declared values",
            }
    tool = record.get("tool")
    if record.get("kind") != "tool" or tool not in (FILTER_DATA, EXPORT_REPORT, ANALYZE_DATA):
        return record
    if full:
        first = dict(record.get("params") or {})
        record = _name_is_a_value(
            record, full, str(dict(first.get("query") or first).get("dataset") or "invoices"), model
        )
    params = dict(record.get("params") or {})
    for field in ("vendor", "customer"):  # "paid by cheque": a value of another dataset, not a vendor 'cheque'
        name = params.get(field)
        if (
            tool != ANALYZE_DATA
            and isinstance(name, str)
            and (name.lower() in _all_values(model) or is_looked_up(name, lookups))
        ):
            params.pop(field)
            record = {**record, "params": params}
    if tool == ANALYZE_DATA:
        query = dict(params.get("query") or params)
        kept = [  # "laptop" read as a customer name: it is a product
            f
            for f in query.get("filters") or []
            if not (
                isinstance(f, dict)
                and f.get("field") in ("vendor", "customer")
                and isinstance(f.get("value"), str)
                and is_looked_up(f["value"], lookups)
            )
        ]
        if len(kept) != len(query.get("filters") or []):
            query["filters"] = kept
        have = {f.get("field") for f in query.get("filters") or [] if isinstance(f, dict)}
        have |= set(query.get("group_by") or [])
        found = {
            **looked_up_values(text, query.get("dataset"), lookups),
            **declared_values(text, query.get("dataset"), model),
        }
        extra = {k: v for k, v in found.items() if k not in have}
        if not extra:
            return record
        query["filters"] = [*(query.get("filters") or []), *({"field": k, "value": v} for k, v in extra.items())]
        return with_query(record, params, query, f"declared values {extra}")
    dataset = params.get("dataset") or "invoices"
    where = dict(params.get("where") or {})
    taken = set(params) | set(where)
    found = {**looked_up_values(text, dataset, lookups), **declared_values(text, dataset, model)}
    extra = {k: v for k, v in found.items() if k not in taken}
    if not extra:
        return record
    for k, v in extra.items():
        if k in FILTER_FIELDS and k not in ("status",) or (k == "status" and dataset in ("invoices",)):
            params[k] = v
        else:
            where[k] = v
    said = {str(v).lower() for v in extra.values()}
    for field in ("vendor", "customer"):  # a name passed through that is really a declared value ("by UPI")
        if isinstance(params.get(field), str) and (
            params[field].lower() in said or any(v in params[field].lower() and "-" in v for v in said)
        ):  # ("code ACM-V003": the vendor code, not a vendor's name)
            params.pop(field)
    params = {**params, "where": where} if where else params
    return {**record, "params": params, "reason": f"{record.get('reason') or ''}; declared values {extra}".strip("; ")}


VENDOR_ATTRIBUTES = re.compile(
    r"\b(?:vendor code|supplier code|code|gstin|gst number|gst no|contact email|email|e-mail|payment terms|"
    r"credit days|terms|state|location|category)\b"
)


def with_attribute_lookup(record: dict[str, Any], text: str, model: Any = None) -> dict[str, Any]:
    """ "what is the vendor code for Konark Caterers?", "GSTIN of Ganga Logistics?": an attribute of one
    vendor is on the vendor master (the vendors dataset lists code, GSTIN, email, terms), not in a listing
    of its invoices."""
    if record.get("kind") != "tool" or record.get("tool") != FILTER_DATA:
        return record
    params = dict(record.get("params") or {})
    if params.get("dataset", "invoices") == "vendors" or not params.get("vendor"):
        return record
    if set(params) - {"dataset", "vendor", "limit"}:
        return record  # a period, a status, an amount: it is about invoices
    vendors = vocabulary(model).model.datasets.get("vendors")
    if vendors is None or not VENDOR_ATTRIBUTES.search(text.lower()):
        return record
    return {
        **record,
        "params": {"dataset": "vendors", "vendor": params["vendor"]},
        "reason": f"{record.get('reason') or ''}; an attribute of the vendor: the vendor master",
    }
