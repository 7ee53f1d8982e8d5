"""Reading an uploaded diagram as untrusted input: size cap, no DTD, no entities, no network,
no references to other files, and bounded work.

Before any tree is built, one streaming pass (expat under defusedxml, a target that only counts)
refuses, each with a code:
- size: more bytes than Limits.max_bytes (not even read);
- entity, external_entity, doctype: entity declarations (bombs), external entities or parameter
  entities (files, network), then any DTD at all;
- elements, depth, parse_time: more elements than Limits.max_elements (a 1.9 MB file with 60,000
  data objects stops at the limit), nesting deeper than Limits.max_depth, or a pass that takes
  longer than Limits.max_seconds: what later parses (lxml, SpiffWorkflow) cost is bounded by these;
- xinclude: any element of the XInclude namespace (lxml would only expand it on request, which
  nothing here makes; the file is refused anyway, so no later code can be tricked into it);
- external_reference: bpmn:import with a location (another document the file depends on).
xsi:schemaLocation hints are allowed and never fetched: nothing validates against them, DTDs are
never loaded, and lxml's parser has network access off.
- not_xml: anything the parsers reject.
Only then does lxml build the tree the lint reads.
"""

import time
from dataclasses import dataclass

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from lxml import etree

from app.errors import Invalid
from app.i18n import LazyText, _l

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XINCLUDE_NS = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})
_CHUNK = 64 * 1024
_CLOCK_EVERY = 1000  # elements between looks at the clock


@dataclass(frozen=True)
class Limits:
    """What an uploaded diagram may cost (config BPMN_MAX_*): the XML limits are checked by parse(),
    max_cardinality by the lint (multi-instance cardinality and timer cycle repetitions)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_elements: int = 20_000
    max_depth: int = 100
    max_seconds: float = 5.0
    max_cardinality: int = 1000


class UnsafeXml(Invalid):
    """Refused at the trust boundary; `code` says why (size, doctype, entity, external_entity, not_xml)."""

    def __init__(self, code: str, message: str | LazyText):
        super().__init__(message, code=code)


class _Counter:
    """The streaming pass's target: counts and checks elements, builds nothing."""

    def __init__(self, limits: Limits, deadline: float):
        self.limits = limits
        self.deadline = deadline
        self.count = 0
        self.depth = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.count += 1
        self.depth += 1
        limits = self.limits
        if self.count > limits.max_elements:
            raise UnsafeXml(
                "elements",
                _l(
                    "流程图的元素过多（超过 %(max)d 个），已拒绝：请拆分流程图或删除多余的元素", max=limits.max_elements
                ),
            )
        if self.depth > limits.max_depth:
            raise UnsafeXml("depth", _l("流程图的元素嵌套过深（超过 %(max)d 层），已拒绝", max=limits.max_depth))
        namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if namespace in XINCLUDE_NS:
            raise UnsafeXml(
                "xinclude", _l("包含 XInclude 引用（xi:%(name)s），流程图文件不允许引用其他文件，已拒绝", name=local)
            )
        if namespace == BPMN_NS and local == "import" and (location := attrib.get("location")):
            raise UnsafeXml(
                "external_reference",
                _l(
                    '包含对外部文件的引用（bpmn:import location="%(location)s"），已拒绝：流程图须为单个自包含的文件',
                    location=location[:100],
                ),
            )
        if self.count % _CLOCK_EVERY == 0:
            self.check_clock()

    def end(self, tag: str) -> None:
        self.depth -= 1

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        return None

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise UnsafeXml(
                "parse_time",
                _l(
                    "流程图解析超时（超过 %(seconds)s 秒），已拒绝：请简化流程图",
                    seconds=f"{self.limits.max_seconds:g}",
                ),
            )


class _StreamingParser(DefusedXMLParser):
    """defusedxml's parser, refusing entity declarations and external references as they come,
    and any DTD at its end (so a bomb or an external entity is named as such first)."""

    def __init__(self, target: _Counter):
        super().__init__(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
        self.parser.StartDoctypeDeclHandler = self._start_doctype
        self.parser.EndDoctypeDeclHandler = self._end_doctype
        self._doctype_ids: tuple[str, str | None, str | None] = ("", None, None)

    def _start_doctype(self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool) -> None:
        self._doctype_ids = (name, sysid, pubid)

    def _end_doctype(self) -> None:
        raise DTDForbidden(*self._doctype_ids)


def scan(xml: bytes, limits: Limits) -> int:
    """The streaming pass: the number of elements, or UnsafeXml saying why the file is refused."""
    counter = _Counter(limits, time.monotonic() + limits.max_seconds)
    parser = _StreamingParser(counter)
    try:
        for offset in range(0, len(xml), _CHUNK):
            parser.feed(xml[offset : offset + _CHUNK])
            counter.check_clock()
        parser.close()
    except UnsafeXml:
        raise
    except (ExternalReferenceForbidden, EntitiesForbidden) as exc:
        if isinstance(exc, ExternalReferenceForbidden) or getattr(exc, "sysid", None) or getattr(exc, "pubid", None):
            raise UnsafeXml(
                "external_entity", _l("DTD 中包含外部实体引用（可读取服务器文件或访问网络），已拒绝")
            ) from None
        raise UnsafeXml("entity", _l("DTD 中包含实体声明（可构成实体炸弹），已拒绝")) from None
    except DTDForbidden:
        raise UnsafeXml("doctype", _l("包含 DOCTYPE 声明，流程图文件不允许使用 DTD")) from None
    except ParseError as exc:
        raise UnsafeXml("not_xml", _l("不是有效的 XML（%(error)s）", error=str(exc))) from None
    except (ValueError, RecursionError) as exc:
        raise UnsafeXml("not_xml", _l("不是有效的 XML（%(error)s）", error=str(exc))) from None
    return counter.count


def parse(xml: bytes, limits: Limits | None = None) -> etree._ElementTree:
    """The element tree of a diagram, or UnsafeXml saying why it is refused."""
    limits = limits or Limits()
    if len(xml) > limits.max_bytes:
        raise UnsafeXml(
            "size",
            _l("文件过大（%(size)s KB），上限为 %(limit)s KB", size=len(xml) // 1024, limit=limits.max_bytes // 1024),
        )
    scan(xml, limits)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True
    )
    try:
        return etree.fromstring(xml, parser=parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml("not_xml", _l("不是有效的 XML（%(error)s）", error=str(exc))) from None
