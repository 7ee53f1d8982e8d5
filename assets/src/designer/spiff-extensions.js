// Reading and writing the spiff dialect's extension elements exactly as processes/*.bpmn
// spells them: <spiffworkflow:properties><spiffworkflow:property name= value=/>… and
// <spiffworkflow:serviceTaskOperator id= resultVariable=/>. Every write is a modeling command,
// so it can be undone and marks the diagram as changed.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

function extensionValues(bo) {
  const ext = bo.get("extensionElements");
  return ext ? ext.get("values") : [];
}

export function findExtension(element, type) {
  return extensionValues(getBusinessObject(element)).find((v) => is(v, type));
}

export function getSpiffProperty(element, name) {
  const props = findExtension(element, "spiffworkflow:Properties");
  const prop = props && props.get("properties").find((p) => p.get("name") === name);
  return prop ? prop.get("value") : undefined;
}

// The extension of `type` on the element, created (with bpmn:extensionElements) when missing.
export function ensureExtension(element, type, attrs, { modeling, bpmnFactory }) {
  const bo = getBusinessObject(element);
  let ext = bo.get("extensionElements");
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    modeling.updateProperties(element, { extensionElements: ext });
  }
  let found = ext.get("values").find((v) => is(v, type));
  if (!found) {
    found = bpmnFactory.create(type, attrs);
    found.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.get("values"), found] });
  }
  return found;
}

export function setSpiffProperty(element, name, value, services) {
  const { modeling, bpmnFactory } = services;
  const current = findExtension(element, "spiffworkflow:Properties");
  const existing = current && current.get("properties").find((p) => p.get("name") === name);
  if (!value) {
    if (existing) {
      modeling.updateModdleProperties(element, current, {
        properties: current.get("properties").filter((p) => p !== existing),
      });
    }
    return;
  }
  if (existing) {
    modeling.updateModdleProperties(element, existing, { value });
    return;
  }
  const props = ensureExtension(element, "spiffworkflow:Properties", { properties: [] }, services);
  const prop = bpmnFactory.create("spiffworkflow:Property", { name, value });
  prop.$parent = props;
  modeling.updateModdleProperties(element, props, { properties: [...props.get("properties"), prop] });
}

export function getOperator(element) {
  return findExtension(element, "spiffworkflow:ServiceTaskOperator");
}

export function setOperatorAttr(element, attr, value, services) {
  const operator = ensureExtension(element, "spiffworkflow:ServiceTaskOperator", {}, services);
  services.modeling.updateModdleProperties(element, operator, { [attr]: value || undefined });
}
