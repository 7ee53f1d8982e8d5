"""Reading an uploaded diagram as untrusted input: size cap, no DTD, no entities, no network.

Each refusal carries a code (size, doctype, entity, external_entity, not_xml) so the service
can audit it and the designer can show why.
"""
import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from lxml import etree

DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class UnsafeXml(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse(xml: bytes, max_bytes: int | None = None) -> etree._ElementTree:
    """The element tree of a diagram, or UnsafeXml saying why it is refused."""
    limit = max_bytes or DEFAULT_MAX_BYTES
    if len(xml) > limit:
        raise UnsafeXml("size", f"文件过大（{len(xml) // 1024} KB），上限为 {limit // 1024} KB")
    try:
        # Entities first, so a bomb or an external entity is named as such; then any DTD at all.
        SafeET.fromstring(xml, forbid_dtd=False, forbid_entities=True, forbid_external=True)
        SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ExternalReferenceForbidden, EntitiesForbidden) as exc:
        if isinstance(exc, ExternalReferenceForbidden) or getattr(exc, "sysid", None) or getattr(exc, "pubid", None):
            raise UnsafeXml("external_entity", "DTD 中包含外部实体引用（可读取服务器文件或访问网络），已拒绝") from None
        raise UnsafeXml("entity", "DTD 中包含实体声明（可构成实体炸弹），已拒绝") from None
    except DTDForbidden:
        raise UnsafeXml("doctype", "包含 DOCTYPE 声明，流程图文件不允许使用 DTD") from None
    except SafeET.ParseError as exc:
        raise UnsafeXml("not_xml", f"不是有效的 XML（{exc}）") from None
    except (ValueError, RecursionError) as exc:
        raise UnsafeXml("not_xml", f"不是有效的 XML（{exc}）") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(xml, parser=parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml("not_xml", f"不是有效的 XML（{exc}）") from None
