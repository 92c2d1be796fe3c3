"""The service registry in Pants: `pants sync-services` scaffolds the services of services.yml from
templates/ and keeps infra/ in step with it. The logic is plain Python (`services`); this backend
only reads its inputs and writes its outputs through the engine.
"""

from pants_services.goals import sync_services


def rules():
    return [*sync_services.rules()]
