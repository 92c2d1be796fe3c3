# Debian's PostgreSQL on the project's base image, with the official image's interface
# (POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD[_FILE], PGDATA). Seeded by
# build-support/bin/seed-infra-bases: apt needs the network, which `pants package` builds lack.
# Few instructions: on the vfs storage driver each one copies the whole file system.
FROM python:3.11-slim-bookworm
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
# A new volume takes the owner of the image's directory.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p "$PGDATA" /var/run/postgresql \
 && chown -R postgres:postgres "$PGDATA" /var/run/postgresql \
 && chmod 0700 "$PGDATA"
USER postgres
EXPOSE 5432
# infra/images/postgres/Dockerfile adds the entry point.
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
