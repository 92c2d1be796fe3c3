"""One module per generated output; each renders a template from `specgen/templates`."""
