"""One module per spec file kind (see `layout`): the shapes of its mappings and how it is read."""
