"""What the files read so far declare, for the references of the files read after them.

Files are read in dependency order (models, events, domains, manifests), so a reference is checked
against everything it may name; each kind's module adds what its files declare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from specgen.checks import did_you_mean, expect_string
from specgen.ir import Domain, Event, Field, Manifest, Model, Schema
from specgen.yaml_reader import Document, KeyPath


@dataclass(frozen=True)
class FieldSite:
    """Where a model field was declared, to resolve its model references once all are known."""

    doc: Document
    type_path: KeyPath
    model: str
    field: Field


@dataclass
class Catalog:
    models: List[Model] = field(default_factory=list)
    model_files: Dict[str, str] = field(default_factory=dict)  # model name -> its file
    schemas: Dict[str, Schema] = field(default_factory=dict)  # models and variant classes
    field_sites: List[FieldSite] = field(default_factory=list)
    events: Dict[str, Event] = field(default_factory=dict)
    event_files: Dict[str, str] = field(default_factory=dict)
    domains: Dict[Tuple[str, str], Tuple[Domain, Document]] = field(default_factory=dict)
    manifests: Dict[str, Manifest] = field(default_factory=dict)  # by service

    def schema_name(self, doc: Document, path: KeyPath, value: Any) -> Optional[str]:
        """A model or variant class name; an unknown one is recorded with the closest known."""
        name = expect_string(doc, path, value)
        if name is not None and name not in self.schemas:
            doc.error(path, f"unknown schema '{name}'", did_you_mean(name, list(self.schemas)))
        return name
