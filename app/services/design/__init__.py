"""Process design: BPMN drafts edited in the browser (drafts), the designer's checks and
limits (designer), the modeler's palette and properties (modeler), and deployed process
definitions with their parsed bundles (processes). May call: shared; the engine."""
